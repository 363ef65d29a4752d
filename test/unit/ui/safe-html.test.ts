/**
 * The web UI's two defences against hostile package metadata: the template helper escapes every value, and readmes
 * go through the Markdown sanitizer (no scripts, event handlers or javascript: URLs; images allowed).
 */
import { describe, expect, it } from 'vitest';
import { html, safeUrl, trustedHtml } from '../../../src/http/ui/html.js';
import { renderMarkdown } from '../../../src/http/ui/markdown.js';
import { installCommands } from '../../../src/http/ui/pages.js';

describe('html template helper', () => {
  it('escapes every interpolated value, in content and attributes', () => {
    const evil = `"><script>alert('x')</script>&`;
    expect(html`<p title="${evil}">${evil}</p>`.toString()).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>',
    );
  });

  it('joins arrays, nests templates, drops null/undefined/false and keeps trusted markup', () => {
    const items = ['<a>', 'b'];
    expect(html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>${null}${undefined}${false}${0}${trustedHtml('<hr>')}`.toString()).toBe(
      '<ul><li>&lt;a&gt;</li><li>b</li></ul>0<hr>',
    );
  });

  it('keeps only http(s) URLs from metadata', () => {
    expect(safeUrl('https://example.org/x?a=1')).toBe('https://example.org/x?a=1');
    expect(safeUrl('javascript:alert(1)')).toBeNull();
    expect(safeUrl(' JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeUrl('data:text/html,<script>')).toBeNull();
    expect(safeUrl('not a url')).toBeNull();
    expect(safeUrl(null)).toBeNull();
  });
});

describe('readme rendering', () => {
  it('renders GitHub-flavoured Markdown', () => {
    const out = renderMarkdown('# Title\n\n**bold** `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n```csharp\nvar a = 1 < 2;\n```');
    expect(out).toContain('<h1>Title</h1>');
    expect(out).toContain('<strong>bold</strong> <code>code</code>');
    expect(out).toContain('<table>');
    expect(out).toContain('<input type="checkbox" disabled checked />');
    expect(out).toContain('<code class="language-csharp">var a = 1 &lt; 2;');
  });

  it('allows images over http(s) and links, with rel=nofollow', () => {
    const out = renderMarkdown('![logo](https://example.org/logo.png) [docs](https://example.org/docs) <img src="https://example.org/a.png" width="20">');
    expect(out).toContain('<img src="https://example.org/logo.png" alt="logo" loading="lazy" />');
    expect(out).toContain('<a href="https://example.org/docs" rel="nofollow ugc noopener noreferrer">docs</a>');
    expect(out).toContain('width="20"');
  });

  it.each([
    ['<script>alert(1)</script>', /script|alert/i],
    ['<img src=x onerror=alert(1)>', /onerror/i],
    ['<a href="javascript:alert(1)">x</a>', /javascript/i],
    ['[x](javascript:alert(1))', /javascript/i],
    ['[x](JAVASCRIPT:alert(1))', /javascript/i],
    ['![x](javascript:alert(1))', /javascript/i],
    ['<a href="&#106;avascript:alert(1)">x</a>', /javascript|&#106;/i],
    ['<img src="data:image/svg+xml,<svg onload=alert(1)>">', /data:|onload/i],
    ['<svg><script>alert(1)</script></svg>', /svg|script/i],
    ['<iframe src="https://evil.example"></iframe>', /iframe|evil/i],
    ['<style>body{display:none}</style>', /style|display/i],
    ['<div style="position:fixed">x</div>', /style/i],
    ['<form action="https://evil.example"><input name=a></form>', /form|evil|name=/i],
    ['<object data="x"></object><embed src="x">', /object|embed/i],
    ['<a href="https://x" onclick="alert(1)">x</a>', /onclick/i],
    ['<details open ontoggle=alert(1)>x</details>', /ontoggle/i],
    ['<base href="https://evil.example/">', /base|evil/i],
    ['<meta http-equiv="refresh" content="0;url=https://evil.example">', /meta|evil/i],
  ])('removes %s', (input, forbidden) => {
    expect(renderMarkdown(input)).not.toMatch(forbidden);
  });
});

describe('install commands', () => {
  it('cover the clients people copy from', () => {
    const commands = Object.fromEntries(installCommands('Contoso.Lib', '1.2.3', 'https://feed/v3/index.json').map((c) => [c.key, c.text]));
    expect(commands.dotnet).toBe('dotnet add package Contoso.Lib --version 1.2.3');
    expect(commands.reference).toBe('<PackageReference Include="Contoso.Lib" Version="1.2.3" />');
    expect(commands.cpm).toContain('<PackageVersion Include="Contoso.Lib" Version="1.2.3" />');
    expect(commands.paket).toBe('paket add Contoso.Lib --version 1.2.3');
    expect(commands.cake).toContain('#addin nuget:https://feed/v3/index.json?package=Contoso.Lib&version=1.2.3');
    expect(commands.script).toBe('#r "nuget: Contoso.Lib, 1.2.3"');
    expect(commands.psresource).toBe('Install-PSResource -Name Contoso.Lib -Version 1.2.3 -Repository Pawket');
  });
});
