/**
 * Relative URLs in readmes: images resolve to files inside the package (next to the readme), links to the GitHub
 * repository or nowhere; nothing escapes the package root; absolute URLs and the sanitizer's scheme rules stay.
 */
import { describe, expect, it } from 'vitest';
import type { Repository } from '../../../src/package/metadata.js';
import { imageTypeOf, isImageOfType } from '../../../src/http/ui/image-types.js';
import { renderMarkdown } from '../../../src/http/ui/markdown.js';
import { encodePackagePath, folderOf, resolvePackagePath } from '../../../src/http/ui/package-paths.js';
import { readmeLinks, repositoryBlobUrl } from '../../../src/http/ui/readme-links.js';

const FILES = '/packages/Contoso.Lib/1.0.0/files/';
const GITHUB: Repository = { type: 'git', url: 'https://github.com/contoso/lib.git', branch: null, commit: '0123456789abcdef0123456789abcdef01234567' };

function render(markdown: string, readmePath = 'README.md', repository: Repository | null = null): string {
  return renderMarkdown(markdown, readmeLinks({ filesUrl: FILES, readmePath, repository }));
}

describe('package paths', () => {
  it.each([
    ['', 'images/logo.png', 'images/logo.png'],
    ['', './images/./logo.png', 'images/logo.png'],
    ['docs/', 'img/logo.png', 'docs/img/logo.png'],
    ['docs/', '../logo.png', 'logo.png'],
    ['docs/guide/', '../../a/b/../c.png', 'a/c.png'],
    ['docs/', '/logo.png', 'logo.png'],
    ['docs/', 'img\\logo.png', 'docs/img/logo.png'],
    ['', 'a//b.png', 'a/b.png'],
  ])('resolves %j + %j to %j', (folder, path, expected) => {
    expect(resolvePackagePath(folder, path)).toBe(expected);
  });

  it.each([
    ['', '../secret.png'],
    ['docs/', '../../secret.png'],
    ['', 'a/../../b.png'],
    ['docs/', '/../x.png'],
    ['', '..\\..\\x.png'],
    ['', 'images/'],
    ['', ''],
    ['', '.'],
    ['', 'a\u0000.png'],
    ['', 'a\n.png'],
  ])('refuses %j + %j', (folder, path) => {
    expect(resolvePackagePath(folder, path)).toBeNull();
  });

  it('refuses names longer than a package entry name may be', () => {
    expect(resolvePackagePath('', `${'a'.repeat(2000)}.png`)).toBeNull();
  });

  it('takes the folder of a readme as the nuspec names it', () => {
    expect(folderOf('README.md')).toBe('');
    expect(folderOf('docs\\README.md')).toBe('docs/');
    expect(folderOf('./docs/sub/README.md')).toBe('docs/sub/');
  });

  it('percent-encodes each segment of a path for a URL', () => {
    expect(encodePackagePath('img/my logo#1?.png')).toBe('img/my%20logo%231%3F.png');
  });
});

describe('image types', () => {
  it('knows images by extension, case-insensitively, and nothing else', () => {
    expect(imageTypeOf('a/Logo.PNG')).toBe('image/png');
    expect(imageTypeOf('x.jpeg')).toBe('image/jpeg');
    expect(imageTypeOf('x.jpg')).toBe('image/jpeg');
    expect(imageTypeOf('x.webp')).toBe('image/webp');
    expect(imageTypeOf('x.svg')).toBe('image/svg+xml');
    expect(imageTypeOf('x.gif')).toBe('image/gif');
    for (const name of ['README.md', 'x.html', 'x.svgz', 'Contoso.Lib.nuspec', 'png', '.png', 'dir.png/file', 'x.png.exe']) {
      expect(imageTypeOf(name), name).toBeNull();
    }
  });

  it('checks the bytes against the type', () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    expect(isImageOfType('image/png', png)).toBe(true);
    expect(isImageOfType('image/png', Buffer.from('<html><script>alert(1)</script></html>'))).toBe(false);
    expect(isImageOfType('image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0]))).toBe(true);
    expect(isImageOfType('image/gif', Buffer.from('GIF89a\x01\x00'))).toBe(true);
    expect(isImageOfType('image/webp', Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 '))).toBe(true);
    expect(isImageOfType('image/webp', png)).toBe(false);
    expect(isImageOfType('image/svg+xml', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'))).toBe(true);
    expect(isImageOfType('image/svg+xml', Buffer.from('<html><body>hi</body></html>'))).toBe(false);
  });
});

describe('readme URLs', () => {
  it('points relative Markdown and HTML images at the file route, next to the readme', () => {
    expect(render('![logo](images/logo.png)')).toContain(`<img src="${FILES}images/logo.png" alt="logo" loading="lazy" />`);
    expect(render('<img src="docs/x.png" width="20">')).toContain(`src="${FILES}docs/x.png"`);
    expect(render('![logo](img/logo.png)', 'docs\\README.md')).toContain(`src="${FILES}docs/img/logo.png"`);
    expect(render('![logo](../logo.svg)', 'docs/README.md')).toContain(`src="${FILES}logo.svg"`);
    expect(render('![logo](./my%20logo.png?raw=true)')).toContain(`src="${FILES}my%20logo.png"`);
  });

  it('drops images that would leave the package or are not images', () => {
    for (const md of ['![x](../outside.png)', '![x](docs/../../x.png)', '![x](notes.txt)', '![x](images/)', '![x](%E0%A4%A.png)']) {
      const out = render(md);
      expect(out, md).toContain('<img alt="x" loading="lazy" />');
    }
  });

  it('rewrites relative candidates of <picture> sources', () => {
    const out = render('<picture><source media="(prefers-color-scheme: dark)" srcset="img/dark.png 1x, https://example.org/d2.png 2x, ../x.png 3x"><img src="img/light.png"></picture>');
    expect(out).toContain(`srcset="${FILES}img/dark.png 1x, https://example.org/d2.png 2x"`);
    expect(out).toContain(`<img src="${FILES}img/light.png"`);
  });

  it('leaves absolute http(s) images and links as they are', () => {
    const out = render('![b](https://img.shields.io/badge/x-y-green.svg) [site](https://example.org/a?b=1#c) [m](mailto:a@example.org)');
    expect(out).toContain('src="https://img.shields.io/badge/x-y-green.svg"');
    expect(out).toContain('href="https://example.org/a?b=1#c"');
    expect(out).toContain('href="mailto:a@example.org"');
  });

  it('sends relative links to the GitHub repository at its commit, keeping the fragment', () => {
    const out = render('[guide](docs/guide.md#install) [up](../CHANGELOG.md)', 'src/README.md', GITHUB);
    expect(out).toContain(`href="https://github.com/contoso/lib/blob/${GITHUB.commit}/src/docs/guide.md#install"`);
    expect(out).toContain(`href="https://github.com/contoso/lib/blob/${GITHUB.commit}/CHANGELOG.md"`);
  });

  it('drops relative links it cannot place, keeps in-page anchors, links images to the file route', () => {
    const out = render('[guide](docs/guide.md) [top](#usage) [shot](img/shot.png) [out](../../x.md)', 'README.md', { ...GITHUB, url: 'https://gitlab.example/contoso/lib' });
    expect(out).toContain('<a rel="nofollow ugc noopener noreferrer">guide</a>');
    expect(out).toContain('href="#usage"');
    expect(out).toContain(`href="${FILES}img/shot.png"`);
    expect(out).toContain('<a rel="nofollow ugc noopener noreferrer">out</a>');
  });

  it.each([
    '[x](javascript:alert(1))',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '![x](javascript:alert(1))',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<img src="//evil.example/x.png">',
    '<a href="//evil.example/">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
  ])('still strips %s', (input) => {
    const out = render(input, 'README.md', GITHUB);
    expect(out).not.toMatch(/javascript|script:|data:|evil|vbscript|onload/i);
  });
});

describe('repository blob URLs', () => {
  it('uses the commit, else HEAD, for github.com repositories only', () => {
    expect(repositoryBlobUrl(GITHUB)).toBe(`https://github.com/contoso/lib/blob/${GITHUB.commit}/`);
    expect(repositoryBlobUrl({ ...GITHUB, url: 'https://github.com/contoso/lib', commit: null })).toBe('https://github.com/contoso/lib/blob/HEAD/');
    expect(repositoryBlobUrl({ ...GITHUB, commit: 'not a commit/../x' })).toBe('https://github.com/contoso/lib/blob/HEAD/');
    expect(repositoryBlobUrl({ ...GITHUB, url: 'https://github.com/contoso/lib/tree/main' })).toBeNull();
    expect(repositoryBlobUrl({ ...GITHUB, url: 'https://gitlab.com/contoso/lib' })).toBeNull();
    expect(repositoryBlobUrl({ ...GITHUB, url: 'git@github.com:contoso/lib.git' })).toBeNull();
    expect(repositoryBlobUrl(null)).toBeNull();
  });
});
