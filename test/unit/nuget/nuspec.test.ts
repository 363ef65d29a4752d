import { describe, expect, it } from 'vitest';
import { NUSPEC_LIMITS, parseNuspec, splitTags } from '../../../src/nuget/nuspec.js';
import { normalizeVersion } from '../../../src/nuget/version.js';
import { badRequestMessage as rejection } from '../../support/bad-request.js';

const NS_2013 = 'http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd';

interface Doc {
  readonly id?: string | null;
  readonly version?: string | null;
  readonly authors?: string | null;
  readonly description?: string | null;
  readonly extra?: string;
  readonly metadataAttributes?: string;
  readonly ns?: string;
}

/** A nuspec with the four required elements (null leaves one out) plus extra metadata XML. */
function nuspec(d: Doc = {}): string {
  const element = (name: string, value: string | null | undefined, fallback: string) =>
    value === null ? '' : `<${name}>${value ?? fallback}</${name}>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="${d.ns ?? NS_2013}">
  <metadata${d.metadataAttributes ?? ''}>
    ${element('id', d.id, 'Contoso.Utils')}
    ${element('version', d.version, '1.2.3')}
    ${element('authors', d.authors, 'Contoso')}
    ${element('description', d.description, 'Utilities.')}
    ${d.extra ?? ''}
  </metadata>
</package>`;
}

const parse = (xml: string) => parseNuspec(Buffer.from(xml, 'utf8'));


describe('parseNuspec: a complete nuspec', () => {
  const full = nuspec({
    metadataAttributes: ' minClientVersion="3.3.0"',
    extra: `
    <title>Contoso Utilities</title>
    <owners>Contoso Ltd</owners>
    <summary>Short.</summary>
    <releaseNotes>Fixed &amp; improved &#x2014; see &lt;notes&gt;.</releaseNotes>
    <copyright>&#169; Contoso</copyright>
    <language>en-US</language>
    <tags>utils, json;xml  yaml	json</tags>
    <projectUrl>https://example.com/utils</projectUrl>
    <iconUrl>https://example.com/icon.png</iconUrl>
    <icon>images\\icon.png</icon>
    <readme>docs/README.md</readme>
    <licenseUrl>https://licenses.nuget.org/MIT</licenseUrl>
    <license type="expression" version="1.0.0">MIT</license>
    <repository type="git" url="https://github.com/contoso/utils" branch="main" commit="0123abcd" />
    <requireLicenseAcceptance>true</requireLicenseAcceptance>
    <developmentDependency>false</developmentDependency>
    <serviceable>true</serviceable>
    <packageTypes><packageType name="Dependency" /><packageType name="Template" version="1.0" /></packageTypes>
    <dependencies>
      <group targetFramework=".NETStandard2.0">
        <dependency id="Newtonsoft.Json" version="[13.0.1, )" exclude="Build,Analyzers" />
        <dependency id="System.Memory" version="4.5.5" include="Compile" />
      </group>
      <group targetFramework="net8.0" />
      <group>
        <dependency id="Any.Dep" />
      </group>
    </dependencies>
    <frameworkAssemblies><frameworkAssembly assemblyName="System.Xml" /></frameworkAssemblies>`,
  });
  const m = parse(full);

  it('keeps the identity', () => {
    expect(m.id).toBe('Contoso.Utils');
    expect(normalizeVersion(m.version)).toBe('1.2.3');
    expect(m.version.original).toBe('1.2.3');
  });

  it('keeps every text field, trimmed and entity-decoded', () => {
    expect(m).toMatchObject({
      title: 'Contoso Utilities',
      authors: 'Contoso',
      owners: 'Contoso Ltd',
      description: 'Utilities.',
      summary: 'Short.',
      releaseNotes: 'Fixed & improved \u2014 see <notes>.',
      copyright: '\u00a9 Contoso',
      language: 'en-US',
      projectUrl: 'https://example.com/utils',
      iconUrl: 'https://example.com/icon.png',
      icon: 'images\\icon.png',
      readme: 'docs/README.md',
      licenseUrl: 'https://licenses.nuget.org/MIT',
      minClientVersion: '3.3.0',
    });
  });

  it('splits tags on whitespace, commas and semicolons', () => {
    expect(m.tags).toEqual(['utils', 'json', 'xml', 'yaml']);
  });

  it('reads license, repository, flags and package types', () => {
    expect(m.license).toEqual({ type: 'expression', value: 'MIT', version: '1.0.0' });
    expect(m.repository).toEqual({
      type: 'git',
      url: 'https://github.com/contoso/utils',
      branch: 'main',
      commit: '0123abcd',
    });
    expect(m.requireLicenseAcceptance).toBe(true);
    expect(m.developmentDependency).toBe(false);
    expect(m.serviceable).toBe(true);
    expect(m.packageTypes).toEqual([
      { name: 'Dependency', version: null },
      { name: 'Template', version: '1.0' },
    ]);
  });

  it('reads dependency groups with short framework names and the original range text', () => {
    expect(m.dependencyGroups).toEqual([
      {
        targetFramework: 'netstandard2.0',
        dependencies: [
          { id: 'Newtonsoft.Json', range: '[13.0.1, )', exclude: 'Build,Analyzers' },
          { id: 'System.Memory', range: '4.5.5', include: 'Compile' },
        ],
      },
      { targetFramework: 'net8.0', dependencies: [] },
      { targetFramework: null, dependencies: [{ id: 'Any.Dep', range: null }] },
    ]);
    expect(m.frameworks).toEqual(['net8.0', 'netstandard2.0']);
    expect(m.isSemVer2).toBe(false);
  });
});

describe('parseNuspec: defaults', () => {
  it('gives null and empty values for absent optional fields', () => {
    const m = parse(nuspec());
    expect(m).toMatchObject({
      title: null,
      owners: null,
      summary: null,
      releaseNotes: null,
      tags: [],
      license: null,
      repository: null,
      requireLicenseAcceptance: false,
      developmentDependency: false,
      serviceable: false,
      minClientVersion: null,
      dependencyGroups: [],
      packageTypes: [],
      frameworks: [],
      isSemVer2: false,
    });
  });

  it('treats empty optional elements as absent', () => {
    const m = parse(nuspec({ extra: '<title>  </title><tags/><repository />' }));
    expect(m.title).toBeNull();
    expect(m.tags).toEqual([]);
    expect(m.repository).toBeNull();
  });
});

describe('parseNuspec: namespaces and encodings', () => {
  it.each([
    'http://schemas.microsoft.com/packaging/2010/07/nuspec.xsd',
    'http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd',
    'http://schemas.microsoft.com/packaging/2012/06/nuspec.xsd',
    'http://schemas.microsoft.com/packaging/2013/01/nuspec.xsd',
    NS_2013,
    '',
  ])('accepts the namespace %j', (ns) => {
    expect(parse(nuspec({ ns })).id).toBe('Contoso.Utils');
  });

  it('matches prefixed elements by local name', () => {
    const xml = `<nu:package xmlns:nu="${NS_2013}"><nu:metadata><nu:id>A</nu:id><nu:version>1.0</nu:version>
      <nu:authors>x</nu:authors><nu:description>d</nu:description></nu:metadata></nu:package>`;
    expect(parse(xml).id).toBe('A');
  });

  it('accepts a namespace on <metadata> only (legacy packages)', () => {
    const xml = `<package><metadata xmlns="${NS_2013}"><id>A</id><version>1.0</version><authors>x</authors>
      <description>d</description></metadata></package>`;
    expect(parse(xml).id).toBe('A');
  });

  it('matches text fields case-insensitively, the first non-empty one winning', () => {
    const m = parse(nuspec({ extra: '<Title></Title><TITLE>Second</TITLE><title>Third</title>' }));
    expect(m.title).toBe('Second');
  });

  it('reads UTF-8 with a BOM and UTF-16 with or without one', () => {
    const text = nuspec({ description: 'Größe ✓' }).replace('utf-8', 'utf-16');
    const utf16 = Buffer.from(text, 'utf16le');
    for (const bytes of [
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(nuspec({ description: 'Größe ✓' }))]),
      Buffer.concat([Buffer.from([0xff, 0xfe]), utf16]),
      utf16,
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(utf16).swap16()]),
    ]) {
      expect(parseNuspec(bytes).description).toBe('Größe ✓');
    }
  });

  it('keeps CDATA as written and decodes character references', () => {
    const m = parse(nuspec({ description: '<![CDATA[a <b> &amp; c]]> &#65;&#x42;' }));
    expect(m.description).toBe('a <b> &amp; c AB');
  });

  it('is not confused by element names that are JavaScript property names', () => {
    const m = parse(nuspec({ extra: '<constructor/><__proto__>x</__proto__><toString a="1"/><hasOwnProperty/>' }));
    expect(m.id).toBe('Contoso.Utils');
  });
});

describe('parseNuspec: characters XML forbids (NuGet cannot read such a nuspec)', () => {
  const utf8 = (text: string) => Buffer.from(text, 'utf8');

  it.each([
    ['a raw BEL in <description>', nuspec({ description: 'ring \x07 ring' }), "The nuspec's <description> contains the character U+0007, which XML does not allow."],
    ['a raw U+0001 in <title>', nuspec({ extra: '<title>a\x01b</title>' }), "The nuspec's <title> contains the character U+0001, which XML does not allow."],
    ['a NUL in <authors>', nuspec({ authors: 'me\0' }), "The nuspec's <authors> contains the character U+0000, which XML does not allow."],
    ['U+FFFE in <releaseNotes>', nuspec({ extra: '<releaseNotes>\uFFFE</releaseNotes>' }), "The nuspec's <releaseNotes> contains the character U+FFFE, which XML does not allow."],
    ['U+FFFF in <tags>', nuspec({ extra: '<tags>a \uFFFF</tags>' }), "The nuspec's <tags> contains the character U+FFFF, which XML does not allow."],
    ['a control character in CDATA', nuspec({ description: '<![CDATA[x\x1by]]>' }), "The nuspec's <description> contains the character U+001B, which XML does not allow."],
    ['a control character in an attribute', nuspec({ extra: '<dependencies><dependency id="A" version="1.0\x08"/></dependencies>' }), "The nuspec's <dependency> attribute 'version' contains the character U+0008, which XML does not allow."],
    ['&#x7; in <description>', nuspec({ description: 'a&#x7;b' }), "The nuspec's <description> contains the character reference '&#x7;' (U+0007), which XML does not allow."],
    ['&#1; in <summary>', nuspec({ extra: '<summary>&#1;</summary>' }), "The nuspec's <summary> contains the character reference '&#1;' (U+0001), which XML does not allow."],
    ['&#xD800; (half a surrogate pair)', nuspec({ description: '&#xD83D;&#xDE00;' }), "The nuspec's <description> contains the character reference '&#xD83D;' (U+D83D), which XML does not allow."],
    ['&#xFFFF; in an attribute', nuspec({ metadataAttributes: ' minClientVersion="&#xFFFF;"' }), "The nuspec's <metadata> attribute 'minClientVersion' contains the character reference '&#xFFFF;' (U+FFFF), which XML does not allow."],
    ['a reference past U+10FFFF', nuspec({ description: '&#x110000;' }), "The nuspec's <description> contains the character reference '&#x110000;', which XML does not allow."],
    ['a control character in a comment', nuspec({ extra: '<!-- \x07 -->' }), 'The nuspec contains the character U+0007 on line 8, which XML does not allow.'],
    ['a control character between elements', nuspec({ extra: '\x0c' }), "The nuspec's <metadata> contains the character U+000C, which XML does not allow."],
  ])('refuses %s, naming the field and the character', (_what, xml, message) => {
    expect(rejection(() => parse(xml))).toBe(message);
  });

  it('refuses a lone surrogate in UTF-16', () => {
    const text = nuspec({ description: 'a\uD800b' }).replace('utf-8', 'utf-16');
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    expect(rejection(() => parseNuspec(bytes))).toBe("The nuspec's <description> contains the character U+D800, which XML does not allow.");
  });

  it.each([
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a stray continuation byte', [0x80]],
    ['0xFF', [0xff]],
    ['an overlong form of "/"', [0xc0, 0xaf]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('refuses bytes that are not UTF-8: %s', (_what, bad) => {
    const [before, after] = nuspec({ description: 'a|b' }).split('|');
    const bytes = Buffer.concat([utf8(before ?? ''), Buffer.from(bad), utf8(after ?? '')]);
    expect(rejection(() => parseNuspec(bytes))).toBe(
      `The nuspec is not valid UTF-8: byte 0x${bad[0]?.toString(16).toUpperCase()} on line 7 is not part of a UTF-8 character. Save it as UTF-8.`,
    );
  });

  it('accepts every character XML allows, raw and as references, astral ones too', () => {
    const allowed = 'tab\there, \u0085\u007f\u00a0\uD7FF\uE000\uFFFD \u{10000}\u{1F600}\u{10FFFF}';
    expect(parse(nuspec({ description: allowed })).description).toBe(allowed);
    const references = 'x&#9;&#x85;&#xFFFD;&#x1F600;&#1114111;';
    expect(parse(nuspec({ description: references })).description).toBe('x\t\u0085\uFFFD\u{1F600}\u{10FFFF}');
  });

  it('reads the encodings the XML declaration names as .NET does: Latin-1, ASCII, Windows-1252', () => {
    const declared = (encoding: string, description: string) =>
      Buffer.from(nuspec({ description }).replace('utf-8', encoding), 'latin1');
    expect(parseNuspec(declared('iso-8859-1', 'caf\xe9')).description).toBe('café');
    expect(parseNuspec(declared('us-ascii', 'caf\xe9')).description).toBe('caf?');
    expect(parseNuspec(declared('windows-1252', 'caf\xe9 \x80\x99')).description).toBe('café €™');
    expect(rejection(() => parseNuspec(declared('iso-8859-1', 'caf\x07')))).toMatch(/<description> contains the character U\+0007/);
  });
});

describe('parseNuspec: required elements', () => {
  it.each(['id', 'version', 'authors', 'description'] as const)('refuses a nuspec without <%s>', (name) => {
    expect(rejection(() => parse(nuspec({ [name]: null })))).toBe(
      `The nuspec is missing the required element <${name}>.`,
    );
  });

  it.each(['id', 'version', 'authors', 'description'] as const)('refuses an empty <%s>', (name) => {
    expect(rejection(() => parse(nuspec({ [name]: '   ' })))).toContain(`<${name}>`);
  });

  it('explains a required element that holds unescaped markup', () => {
    expect(rejection(() => parse(nuspec({ description: 'Hello <b>world</b>' })))).toMatch(
      /<description> contains XML elements; escape/,
    );
  });

  it('refuses a document whose root is not <package>', () => {
    expect(rejection(() => parse('<manifest><metadata/></manifest>'))).toMatch(/root element must be <package>/);
  });

  it('refuses a nuspec without <metadata>', () => {
    expect(rejection(() => parse('<package><files/></package>'))).toMatch(/no <metadata> element/);
  });

  it('refuses malformed XML with the parser reason', () => {
    expect(rejection(() => parse('<package><metadata></package>'))).toMatch(/not well-formed XML.*line 1/);
    expect(rejection(() => parse(''))).toMatch(/not well-formed XML/);
    expect(rejection(() => parse('<package/><package/>'))).toMatch(/exactly one root element/);
  });
});

describe('parseNuspec: identity validation', () => {
  it.each([
    ['a..b', 'doubled separator'],
    ['-lead', 'leading separator'],
    ['trail.', 'trailing separator'],
    ['has space', 'space'],
    ['a/b', 'slash'],
    ['a+b', 'plus'],
    ['..', 'dots only'],
  ])('refuses the id %j (%s) and says why', (id) => {
    const message = rejection(() => parse(nuspec({ id })));
    expect(message).toContain(`The package id '${id}' is not valid`);
    expect(message).toMatch(/letters, digits and underscores/);
  });

  it('refuses an id of 101 characters, naming the limit; 100 is fine', () => {
    const message = rejection(() => parse(nuspec({ id: 'a'.repeat(101) })));
    expect(message).toMatch(/is 101 characters long; at most 100 are allowed/);
    expect(parse(nuspec({ id: 'a'.repeat(100) })).id).toHaveLength(100);
  });

  it('cuts very long values in messages', () => {
    const message = rejection(() => parse(nuspec({ id: 'x'.repeat(50_000) })));
    expect(message.length).toBeLessThan(400);
  });

  it.each(['1.0.0.0.0', 'abc', '1.0-', '1.0.0-beta..1', 'v1.0', '1.0.0+'])('refuses the version %j', (version) => {
    expect(rejection(() => parse(nuspec({ version })))).toBe(`'${version}' is not a valid NuGet version.`);
  });

  it('keeps the original version text and reads SemVer 2.0.0 versions', () => {
    const m = parse(nuspec({ version: '01.2-Beta.1+sha.5' }));
    expect(m.version.original).toBe('01.2-Beta.1+sha.5');
    expect(normalizeVersion(m.version)).toBe('1.2.0-Beta.1');
    expect(m.isSemVer2).toBe(true);
  });

  it('refuses an invalid minClientVersion', () => {
    const message = rejection(() => parse(nuspec({ metadataAttributes: ' minClientVersion="next"' })));
    expect(message).toMatch(/minClientVersion 'next' is not a valid version/);
  });
});

describe('parseNuspec: dependencies', () => {
  const deps = (inner: string) => nuspec({ extra: `<dependencies>${inner}</dependencies>` });

  it('turns a flat dependency list into one framework-agnostic group', () => {
    const m = parse(deps('<dependency id="A" version="1.0" /><dependency id="B" />'));
    expect(m.dependencyGroups).toEqual([
      {
        targetFramework: null,
        dependencies: [
          { id: 'A', range: '1.0' },
          { id: 'B', range: null },
        ],
      },
    ]);
    expect(m.frameworks).toEqual([]);
  });

  it('ignores a flat list when groups exist, as NuGet does', () => {
    const m = parse(deps('<dependency id="Flat" /><group targetFramework="net472"><dependency id="A" /></group>'));
    expect(m.dependencyGroups).toEqual([{ targetFramework: 'net472', dependencies: [{ id: 'A', range: null }] }]);
  });

  it('normalizes long framework names to short folder names', () => {
    const m = parse(
      deps('<group targetFramework=".NETFramework4.7.2"/><group targetFramework="netcoreapp3.1"/><group targetFramework="net6.0-windows"/>'),
    );
    expect(m.dependencyGroups.map((g) => g.targetFramework)).toEqual(['net472', 'netcoreapp3.1', 'net6.0-windows']);
    expect(m.frameworks).toEqual(['net472', 'net6.0-windows', 'netcoreapp3.1']);
  });

  it('refuses a group framework NuGet does not understand, naming it', () => {
    expect(rejection(() => parse(deps('<group targetFramework="foo bar" />')))).toBe(
      "The dependency group targetFramework 'foo bar' is not a target framework NuGet understands.",
    );
  });

  it.each(['[1.0', '1.0.0.0.0', '(1.0)', 'abc', '[2.0,1.0]'])('refuses the invalid range %j, naming the dependency', (range) => {
    const message = rejection(() => parse(deps(`<group><dependency id="Foo.Bar" version="${range}" /></group>`)));
    expect(message).toBe(`The dependency 'Foo.Bar' has an invalid version range '${range}'.`);
  });

  it('refuses a dependency without id or with an invalid one', () => {
    expect(rejection(() => parse(deps('<dependency version="1.0" />')))).toMatch(/<dependency> element has no id/);
    expect(rejection(() => parse(deps('<dependency id="bad id" />')))).toMatch(/dependency id 'bad id' is not valid/);
    expect(rejection(() => parse(deps(`<dependency id="${'d'.repeat(101)}" />`)))).toMatch(/at most 100/);
  });

  it('marks a package SemVer 2.0.0 when a dependency range bound is SemVer 2.0.0', () => {
    expect(parse(deps('<dependency id="A" version="[1.0.0-beta.2, 2.0)" />')).isSemVer2).toBe(true);
    expect(parse(deps('<group><dependency id="A" version="(, 2.0.0+build.7]" /></group>')).isSemVer2).toBe(true);
    expect(parse(deps('<dependency id="A" version="1.0.0-beta2" />')).isSemVer2).toBe(false);
  });
});

describe('parseNuspec: other elements', () => {
  it('reads a license file and refuses an unknown type or an empty license', () => {
    expect(parse(nuspec({ extra: '<license type="file">LICENSE.txt</license>' })).license).toEqual({
      type: 'file',
      value: 'LICENSE.txt',
      version: null,
    });
    expect(rejection(() => parse(nuspec({ extra: '<license type="url">x</license>' })))).toMatch(/<license>.*type/);
    expect(rejection(() => parse(nuspec({ extra: '<license type="expression"> </license>' })))).toMatch(
      /<license> element is empty/,
    );
  });

  it('reads booleans as NuGet does', () => {
    const m = parse(nuspec({ extra: '<developmentDependency>True</developmentDependency><serviceable>1</serviceable>' }));
    expect(m.developmentDependency).toBe(true);
    expect(m.serviceable).toBe(true);
    expect(parse(nuspec({ extra: '<requireLicenseAcceptance>yes</requireLicenseAcceptance>' })).requireLicenseAcceptance).toBe(false);
    expect(rejection(() => parse(nuspec({ extra: '<developmentDependency>yes</developmentDependency>' })))).toMatch(
      /<developmentDependency> must be 'true' or 'false'/,
    );
  });

  it('refuses a package type without name or with a bad version', () => {
    expect(rejection(() => parse(nuspec({ extra: '<packageTypes><packageType /></packageTypes>' })))).toMatch(
      /<packageType> element has no name/,
    );
    expect(
      rejection(() => parse(nuspec({ extra: '<packageTypes><packageType name="X" version="1.0-beta"/></packageTypes>' }))),
    ).toMatch(/package type 'X' has an invalid version '1.0-beta'/);
  });
});

describe('parseNuspec: field limits', () => {
  it.each([
    ['description', NUSPEC_LIMITS.description],
    ['title', NUSPEC_LIMITS.title],
    ['tags', NUSPEC_LIMITS.tags],
    ['releaseNotes', NUSPEC_LIMITS.releaseNotes],
    ['projectUrl', NUSPEC_LIMITS.url],
  ] as const)('refuses a <%s> longer than %i characters, naming it', (name, limit) => {
    const ok = name === 'description' ? {} : { extra: `<${name}>${'x'.repeat(limit)}</${name}>` };
    expect(() => parse(nuspec(name === 'description' ? { description: 'x'.repeat(limit) } : ok))).not.toThrow();
    const tooLong = 'x'.repeat(limit + 1);
    const doc = name === 'description' ? { description: tooLong } : { extra: `<${name}>${tooLong}</${name}>` };
    expect(rejection(() => parse(nuspec(doc)))).toBe(
      `The nuspec <${name}> is ${limit + 1} characters long; at most ${limit} are allowed.`,
    );
  });

  it('refuses a nuspec over the byte limit before parsing it', () => {
    const message = rejection(() => parseNuspec(Buffer.from(nuspec()), { maxBytes: 100 }));
    expect(message).toMatch(/The nuspec is \d+ bytes; at most 100 bytes are allowed/);
  });

  it('refuses too many dependencies', () => {
    const many = '<dependency id="A" />'.repeat(NUSPEC_LIMITS.dependencies + 1);
    expect(rejection(() => parse(nuspec({ extra: `<dependencies>${many}</dependencies>` })))).toMatch(
      /declares 10001 dependencies; at most 10000/,
    );
  });
});

describe('splitTags', () => {
  it('splits on any mix of separators and drops duplicates and empties', () => {
    expect(splitTags(' a,b;c\td\n e ,, ;a ')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(splitTags('')).toEqual([]);
  });
});
