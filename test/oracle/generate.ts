/**
 * Seeded generators of nasty inputs for the differential test: strings that look almost like versions, ranges,
 * frameworks and ids, built from fragments where the rules have corners (leading zeros, a fifth part, empty labels,
 * non-ASCII digits and spaces, int32 overflow, odd brackets, unknown frameworks...).
 */

/** A small deterministic random source (mulberry32): the same seed gives the same inputs on every run. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  /** `count` results of `make`, joined. */
  join(count: number, separator: string, make: () => string): string {
    return Array.from({ length: count }, make).join(separator);
  }
}

const WHITESPACE = [' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u0085', '\u2003', '\u3000', '\ufeff', '\u000b', '\u001f'];

const NUMBERS = [
  '0', '1', '2', '3', '9', '10', '42', '100', '007', '00', '000001', '2147483647', '2147483648', '4294967296',
  '99999999999', '0000000000002147483647', '', ' 1', '1 ', '\t2', '+1', '-0', '-1', '٣', '１', 'a', '1a', '0x1', '1e3',
];

const LABELS = [
  'beta', 'Beta', 'BETA', 'alpha', 'rc', 'RC', 'pre', 'preview', 'a', 'b', 'z', 'Z', '0', '00', '01', '1', '2', '9',
  '10', '11', '2147483647', '2147483648', '-', '--', '-1', '-0', '--0', 'a-b', 'a--b', '1-2', '0a', 'A0', '', 'ä',
  'x_y', 'a b', '*', 'beta1', 'beta2', 'beta10', 'rc.1',
];

const METADATA = ['sha', 'abc', 'ABC', '001', '0', '', 'a.b', '-', 'build-7', 'git.2f3a', '20240101', '+', 'é', '_'];

/** Numeric part of a version: mostly well-formed, sometimes broken. */
function numeric(rand: Random): string {
  if (rand.chance(0.6)) return String(rand.int(rand.chance(0.8) ? 12 : 100000));
  return rand.pick(NUMBERS);
}

/** A version-like string. */
export function versionText(rand: Random): string {
  if (rand.chance(0.04)) return randomText(rand, '0123456789.-+* abAB\t');
  let s = '';
  if (rand.chance(0.08)) s += rand.pick(WHITESPACE);
  const parts = rand.pick([1, 2, 2, 3, 3, 3, 3, 4, 4, 5]);
  s += rand.join(parts, rand.chance(0.03) ? '..' : '.', () => numeric(rand));
  if (rand.chance(0.5)) s += '-' + rand.join(1 + rand.int(rand.chance(0.7) ? 2 : 4), '.', () => rand.pick(LABELS));
  if (rand.chance(0.25)) s += '+' + rand.join(1 + rand.int(3), '.', () => rand.pick(METADATA));
  if (rand.chance(0.08)) s += rand.pick(WHITESPACE);
  if (rand.chance(0.03)) s += rand.pick(['-', '+', '.', '*', ' ', '\0']);
  return s;
}

/** A valid-looking version with a narrow numeric range, so comparisons often reach the labels. */
export function comparableVersionText(rand: Random): string {
  let s = rand.join(rand.pick([1, 2, 3, 3, 4]), '.', () => rand.pick(['0', '1', '1', '01', '2']));
  if (rand.chance(0.7)) {
    s += '-' + rand.join(1 + rand.int(3), '.', () =>
      rand.pick(['alpha', 'ALPHA', 'beta', 'Beta', 'rc', '1', '2', '10', '9', '0', '-1', '-0', 'a', 'b', '-', 'a-', '2147483648', '1a']),
    );
  }
  if (rand.chance(0.2)) s += '+' + rand.pick(['sha', 'b2', 'X']);
  return s;
}

const FLOATS = [
  '*', '*-*', '1.*', '1.0.*', '1.0.0.*', '1.*-*', '1.0.*-*', '1.0.0.*-*', '1.0.0.0.*-*', '1.0.0-*', '1.0.0-beta*',
  '1.0.0-beta.*', '1.0.0-beta-*', '1.0.0-alpha.1*', '1.*-beta*', '1.0.*-rc.*', '*-rc*', '*-rc.*', '1*', '1.2*',
  '1.*.0', '1.**', '*.*', '1.0.0+*', '1.*+meta', '1.0-*+x', '*-', '-*', '1.0.0-*-*', '1.0.*-*.*', '1.0.0--*',
  ' 1.* ', '1.0.0-BETA*', '01.*', '1.0.0.0.*', '1.0.0-0*', '1.0.0-01*',
];

/**
 * A version close to `text`: same version written differently (case, metadata, leading zeros, trailing `.0`) or a
 * neighbour, so that equal and nearly-equal pairs are common.
 */
export function nearbyVersionText(rand: Random, text: string): string {
  switch (rand.int(6)) {
    case 0:
      return text.toUpperCase();
    case 1:
      return text.includes('+') ? text.slice(0, text.indexOf('+')) : `${text}+meta`;
    case 2:
      return `0${text}`;
    case 3:
      return text.replace(/^([0-9.]+)/, '$1.0');
    case 4:
      return text.includes('-') ? text.slice(0, text.indexOf('-')) : `${text}-0`;
    default:
      return text.replace(/[0-9]+$/, (n) => String(Number(n) + 1));
  }
}

/** A range-like string: brackets or not, bounds from versions and floats, spaces, missing parts. */
export function rangeText(rand: Random): string {
  const bound = (): string => {
    const r = rand.next();
    if (r < 0.15) return '';
    if (r < 0.25) return rand.pick([' ', '  ', '\t']);
    if (r < 0.45) return rand.pick(FLOATS);
    return rand.chance(0.5) ? comparableVersionText(rand) : versionText(rand);
  };
  const pad = (): string => (rand.chance(0.15) ? rand.pick([' ', '  ', '\t', '\u00a0']) : '');
  const r = rand.next();
  if (r < 0.04) return randomText(rand, '[](),.*-+01 ab');
  if (r < 0.3) return pad() + bound() + pad();
  if (r < 0.5) {
    // Two close bounds, often in order, so that ranges with both bounds parse and are worth testing.
    const low = comparableVersionText(rand);
    const high = rand.chance(0.5) ? nearbyVersionText(rand, low) : comparableVersionText(rand);
    const low2 = rand.chance(0.2) ? rand.pick(FLOATS) : low;
    return `${pad()}${rand.pick(['[', '('])}${pad()}${low2}${pad()},${pad()}${high}${pad()}${rand.pick([']', ')'])}${pad()}`;
  }
  const open = rand.pick(['[', '[', '(', '(', '{', '']);
  const close = rand.pick([']', ']', ')', ')', '}', '']);
  const parts = rand.pick([1, 2, 2, 2, 2, 3]);
  const body = Array.from({ length: parts }, () => pad() + bound() + pad()).join(',');
  return pad() + open + body + close + pad();
}

/** Framework names: short folder names, long names, portable profiles, platforms, and broken variants. */
export function frameworkText(rand: Random): string {
  const r = rand.next();
  if (r < 0.05) return randomText(rand, 'netcoreapp0123456789.,-+=v');
  if (r < 0.25) return rand.pick(FRAMEWORK_SAMPLES);
  if (r < 0.35) return longFrameworkText(rand);
  if (r < 0.45) return portableText(rand);
  let s = rand.pick(FRAMEWORK_IDENTIFIERS);
  if (rand.chance(0.85)) s += frameworkVersion(rand);
  if (rand.chance(0.25)) {
    s += '-' + rand.pick(['windows', 'Windows', 'android', 'ios', 'macos', 'tvos', 'maccatalyst', 'browser', 'linux', 'wasi', 'tizen', 'client', 'full', 'Profile7', 'cf', 'wp71', 'x', '', 'windows-x', 'windows.7']);
    if (rand.chance(0.6)) s += rand.pick(['7.0', '10.0.19041.0', '10.0.17763', '21.0', '17.0', '1', '0', '1.2.3.4.5', 'x', '']);
  }
  if (rand.chance(0.04)) s = s.toUpperCase();
  if (rand.chance(0.04)) s = ` ${s} `;
  return s;
}

function frameworkVersion(rand: Random): string {
  return rand.pick([
    '', '1', '2', '4', '5', '6', '8', '9', '10', '11', '20', '35', '40', '45', '451', '452', '46', '461', '462', '47', '471',
    '472', '48', '481', '1.0', '1.1', '1.6', '2.0', '2.1', '3.0', '3.1', '3.5', '4.0', '4.5', '4.5.1', '4.6.2', '4.8', '5.0',
    '6.0', '7.0', '8.0', '9.0', '10.0', '11.0', '0.0', '1.2.3.4', '1.2.3.4.5', '01', '10.0.0.0', '4.5.0.1', 'v4.5', '.5', '5.',
    '1a', '99999999999', '2147483648', '1234', '12345', '0', '00',
  ]);
}

function longFrameworkText(rand: Random): string {
  const id = rand.pick([
    '.NETFramework', '.NETCoreApp', '.NETStandard', '.NETPortable', 'Silverlight', 'WindowsPhone', 'WindowsPhoneApp',
    'Windows', 'UAP', 'MonoAndroid', 'Xamarin.iOS', 'Tizen', 'native', 'Any', 'Unsupported', 'Agnostic', 'NETCore',
    'DNX', 'DNXCore', '.NETMicroFramework', 'netstandard', 'net', 'foo', '', '.NET', 'NETFramework', '.netframework',
  ]);
  let s = id;
  if (rand.chance(0.8)) s += rand.pick([',Version=v', ', Version=v', ',Version=', ',version=v', ',Version=V']) + rand.pick(['4.5', '4.0', '2.0', '1.0', '5.0', '8.0', '4.5.1', '1.2.3.4', '', 'x', '10']);
  if (rand.chance(0.3)) s += rand.pick([',Profile=Client', ',Profile=Profile259', ', Profile=Full', ',Profile=', ',Profile=Profile7']);
  if (rand.chance(0.1)) s += rand.pick([',', ',Foo=Bar', ',,']);
  return s;
}

function portableText(rand: Random): string {
  if (rand.chance(0.3)) return 'portable-' + rand.pick(['Profile259', 'Profile7', 'Profile1', 'Profile0', 'profile259', 'Profile99999', 'Profile', `Profile${rand.int(400)}`, `Profile${rand.int(400)}`]);
  const members = ['net45', 'net40', 'net4', 'net403', 'net451', 'win8', 'win81', 'win', 'wp7', 'wp75', 'wp8', 'wp81', 'wpa81', 'wpa', 'sl5', 'sl4', 'netcore45', 'netcore451', 'winrt45', 'monoandroid', 'monoandroid10', 'monotouch', 'xamarinios', 'xamarinmac', 'xamarinwatchos', 'xamarintvos', 'netstandard1.0', 'uap10.0', 'net', '', 'foo', 'net40-client', 'Profile259', 'NET45', 'net5.0-windows'];
  return rand.pick(['portable-', 'portable40-', 'portable45-', 'Portable-']) + rand.join(1 + rand.int(4), rand.chance(0.9) ? '+' : '-', () => rand.pick(members));
}

const FRAMEWORK_IDENTIFIERS = [
  'net', 'netcoreapp', 'netstandard', 'netcore', 'netmf', 'win', 'winrt', 'wp', 'wpa', 'sl', 'uap', 'monoandroid',
  'monotouch', 'monomac', 'xamarinios', 'xamarinmac', 'xamarinwatchos', 'xamarintvos', 'xamarinpsthree', 'tizen',
  'dnx', 'dnxcore', 'aspnet', 'aspnetcore', 'native', 'any', 'unsupported', 'agnostic', 'dotnet', 'netnano', 'foo',
  'NET', 'NetCoreApp', 'Win', 'unknown', 'netframework', 'xamarinxboxone', 'xamarinpsvita', 'winphone',
];

const FRAMEWORK_SAMPLES = [
  'net48', 'net8.0', 'net8.0-windows', 'net8.0-windows7.0', 'net8.0-windows10.0.19041.0', 'net9.0-android',
  'net10.0-ios18.0', 'net5.0', 'net5.0-windows', 'net6.0-maccatalyst', 'net7.0-browser', 'netstandard2.0',
  'netstandard2.1', 'netstandard1.6', 'netcoreapp3.1', 'netcoreapp2.0', 'netcoreapp5.0', 'net45', 'net451', 'net4',
  'net40-client', 'net35-cf', 'net20', 'net11', 'net403', 'net4.5', 'net4.8', '.NETFramework4.5', '.NETFramework,Version=v4.5',
  '.NETFramework,Version=v4.0,Profile=Client', '.NETCoreApp,Version=v3.1', '.NETStandard,Version=v2.0',
  '.NETPortable,Version=v0.0,Profile=Profile259', 'portable-net45+win8', 'portable-net45+win8+wp8+wpa81',
  'portable-Profile259', 'portable-net40+sl4+win8+wp71', 'native', 'any', 'unsupported', 'agnostic', 'win8', 'win81',
  'win10', 'winrt45', 'uap10.0', 'uap', 'uap10.0.16299', 'monoandroid', 'monoandroid10', 'monoandroid90', 'xamarinios',
  'xamarinios10', 'xamarinmac20', 'tizen40', 'tizen3', 'sl5', 'sl4-windowsphone71', 'wp8', 'wp7', 'wp71', 'wpa81', 'dnx451',
  'dnxcore50', 'netcore50', 'netcore45', 'netcore451', 'dotnet', 'dotnet5.4', 'netmf', 'net', 'net10.0', 'net11.0',
  'net100', 'net1000', 'net9.9', 'netcoreapp', 'netstandard', 'Net48', 'NET8.0', 'net8.0-Windows7.0', 'net8.0-', '', ' ',
  'net-', '-', '.', ',', 'net8.0-windows-7.0', 'net8.0.1', 'net8', 'net10', 'net4.7.2', 'net472', 'net462',
  'net8.0-windows7', 'aspnet50', 'aspnetcore50', 'xamarinwatchos10', 'netnano1.0', 'net5.0-tizen', 'net6.0-tizen7.0',
  'net7.0-macos', 'netcoreapp3.1-windows', 'netstandard2.0-windows', 'win', 'wp', 'sl', 'Silverlight,Version=v5.0',
  'WindowsPhone,Version=v8.0', 'Windows,Version=v8.1', 'UAP,Version=v10.0', 'MonoAndroid,Version=v1.0', 'Tizen,Version=v4.0',
  'Xamarin.iOS,Version=v1.0', 'net45-full', 'net45-client', 'net40-full', 'sl3-wp', 'netcoreapp1.0', 'netcoreapp10',
  'netcoreapp31', 'netstandard20', 'netstandard21', 'foo1.0', 'foo', 'foo-bar', '1.0', 'net 8.0', 'net8.0 ',
];

/** Package-id-like strings: word characters of many scripts, separators, and things that must be refused. */
export function idText(rand: Random): string {
  if (rand.chance(0.05)) return randomText(rand, 'aZ09_.- +\n\u00e9');
  const word = (): string => {
    const r = rand.next();
    if (r < 0.5) return randomText(rand, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_', 1 + rand.int(12));
    if (r < 0.7) return rand.pick(['Newtonsoft', 'Json', 'Microsoft', 'Extensions', 'System', 'Net', 'Http', 'x', '_', '1', 'İstanbul', 'ıi', 'ΣΑΣ', 'Straße', 'ǅ']);
    return randomBmp(rand, 1 + rand.int(4));
  };
  const parts = 1 + rand.int(rand.chance(0.9) ? 4 : 40);
  let s = '';
  if (rand.chance(0.05)) s += rand.pick(['.', '-', ' ', '_']);
  for (let i = 0; i < parts; i++) {
    if (i > 0) s += rand.pick(['.', '.', '-', '-', '..', '.-', ' ', '+', '_', '']);
    s += word();
  }
  if (rand.chance(0.05)) s += rand.pick(['.', '-', ' ', '\n', '\r', '\n\n', '\u2028']);
  return s;
}

/** Random characters from an alphabet. */
export function randomText(rand: Random, alphabet: string, length = 1 + rand.int(12)): string {
  const chars = [...alphabet];
  return rand.join(length, '', () => rand.pick(chars));
}

/** Random well-formed UTF-16: mostly BMP letters, marks and digits of other scripts, sometimes astral characters. */
export function randomBmp(rand: Random, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    const r = rand.next();
    if (r < 0.05) {
      s += String.fromCodePoint(0x10000 + rand.int(0x10ffff - 0x10000));
    } else {
      let c = rand.int(0x10000);
      // Lone surrogates cannot cross JSON into .NET intact; stay away from them.
      if (c >= 0xd800 && c <= 0xdfff) c = 0x4e00 + (c & 0xff);
      s += String.fromCharCode(c);
    }
  }
  return s;
}

/**
 * Characters around XML 1.0's `Char` production: every C0 control, the edges of each allowed range, lone surrogates,
 * the two non-characters U+FFFE/U+FFFF, and ordinary and astral characters. (Raw U+000D is left out: XML turns it
 * into U+000A, which we do not, and that difference is not about acceptance.)
 */
const XML_EDGE_CODE_POINTS = [
  ...Array.from({ length: 0x20 }, (_, c) => c).filter((c) => c !== 0x0d),
  0x20, 0x41, 0x7f, 0x85, 0xa0, 0xe9, 0xff, 0x100, 0x2028, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xfeff,
  0xfffd, 0xfffe, 0xffff, 0x10000, 0x1f600, 0x10ffff,
];

/** Where a generated character goes in a nuspec. */
const NUSPEC_PLACES = ['description', 'cdata', 'title', 'attribute', 'comment', 'instruction'] as const;

/** A generated nuspec: its bytes and what was put where, for a failure message. */
export interface NuspecCase {
  readonly bytes: Buffer;
  readonly label: string;
}

/**
 * A nuspec that is valid but for one or two characters: a code point near XML's `Char` rules, written raw or as a
 * decimal or hex reference, in a text field, CDATA, an attribute, a comment or a processing instruction, in UTF-8
 * (with or without BOM), UTF-16 (either byte order) or declared Latin-1; sometimes with a byte sequence that is not
 * UTF-8.
 */
export function nuspecCase(rand: Random): NuspecCase {
  const code = rand.pick(XML_EDGE_CODE_POINTS);
  const place = rand.pick(NUSPEC_PLACES);
  // References are text: in CDATA, comments and instructions they are literal and harmless.
  const form = rand.pick(['raw', 'raw', 'decimal', 'hex'] as const);
  const written = form === 'raw' ? String.fromCodePoint(code) : form === 'decimal' ? `&#${code};` : `&#x${code.toString(16)};`;
  const encoding = rand.pick(['utf-8', 'utf-8', 'utf-8-bom', 'utf-16le', 'utf-16be', 'iso-8859-1'] as const);
  const slot = (here: (typeof NUSPEC_PLACES)[number]) => (place === here ? `x${written}y` : 'x');
  const text = `<?xml version="1.0" encoding="${encoding.startsWith('utf-16') ? 'utf-16' : encoding.replace('-bom', '')}"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>Generated.Case</id>
    <version>1.0.0</version>
    <authors>a</authors>
    <title>${slot('title')}</title>
    <description>${slot('description')}<![CDATA[${slot('cdata')}]]>z</description>
    <repository type="git" commit="${slot('attribute')}" />
    <!-- ${slot('comment')} -->
    <?pawket ${slot('instruction')}?>
  </metadata>
</package>`;
  let bytes: Buffer;
  let label = `${form} U+${code.toString(16).toUpperCase().padStart(4, '0')} in ${place}, ${encoding}`;
  if (encoding === 'utf-16le' || encoding === 'utf-16be') {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    bytes = encoding === 'utf-16le' ? le : Buffer.from(le).swap16();
  } else if (encoding === 'iso-8859-1') {
    // Latin-1 has only U+0000-U+00FF; anything above is written as a reference.
    bytes = Buffer.from(text.replace(/[^\u0000-\u00ff]/gu, (c) => `&#${c.codePointAt(0)};`), 'latin1');
  } else {
    bytes = Buffer.from(text, 'utf8');
    if (encoding === 'utf-8-bom') bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    if (rand.chance(0.15)) {
      const bad = rand.pick([[0x80], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xc3, 0xa9]]);
      const at = bytes.indexOf('<description>') + '<description>'.length;
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(bad), bytes.subarray(at)]);
      label += `, bytes ${bad.map((b) => b.toString(16)).join(' ')} in description`;
    }
  }
  return { bytes, label };
}
