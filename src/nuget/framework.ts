/**
 * Target frameworks, with the semantics of NuGet.Frameworks: `NuGetFramework.Parse` of folder names (`net48`,
 * `net8.0-windows7.0`, `portable-net45+win8`) and of long names (`.NETFramework,Version=v4.5`), the short folder name
 * (`GetShortFolderName()`) and the long name (`DotNetFrameworkName`).
 *
 * The mapping tables below are NuGet's published facts (identifier names, profile numbers); the code is ours.
 * Checked against NuGet itself by `test/unit/nuget/differential.test.ts`.
 */
import { isDotnetLetterOrDigit, toLowerInvariant } from './id.js';
import { dotnetTrim, parseDotnetInt, parseSystemVersion } from './version.js';

/** A framework version: always four parts, as NuGet normalizes `System.Version`. */
export type FrameworkVersion = readonly [major: number, minor: number, build: number, revision: number];

/** A parsed target framework (`NuGetFramework`). Plain data. */
export interface Framework {
  /** The framework identifier, e.g. `.NETCoreApp`, `.NETFramework`, `.NETStandard`, `Any`, `Unsupported`. */
  readonly framework: string;
  readonly version: FrameworkVersion;
  /** e.g. `Client`, `Profile259`; `''` when none. */
  readonly profile: string;
  /** .NET 5+ platform, e.g. `windows`; `''` when none. */
  readonly platform: string;
  readonly platformVersion: FrameworkVersion;
}

/** Thrown where NuGet throws: text it refuses to parse, or a framework it cannot write a short name for. */
export class FrameworkError extends Error {
  override readonly name = 'FrameworkError';
}

/** NuGet's framework identifiers. */
export const FrameworkIds = {
  NetCoreApp: '.NETCoreApp',
  NetStandardApp: '.NETStandardApp',
  NetStandard: '.NETStandard',
  NetPlatform: '.NETPlatform',
  Net: '.NETFramework',
  NetCore: '.NETCore',
  WinRT: 'WinRT',
  NetMicro: '.NETMicroFramework',
  Portable: '.NETPortable',
  WindowsPhone: 'WindowsPhone',
  Windows: 'Windows',
  WindowsPhoneApp: 'WindowsPhoneApp',
  Dnx: 'DNX',
  DnxCore: 'DNXCore',
  AspNet: 'ASP.NET',
  AspNetCore: 'ASP.NETCore',
  Silverlight: 'Silverlight',
  Native: 'native',
  MonoAndroid: 'MonoAndroid',
  MonoTouch: 'MonoTouch',
  MonoMac: 'MonoMac',
  XamarinIOs: 'Xamarin.iOS',
  XamarinMac: 'Xamarin.Mac',
  XamarinPlayStation3: 'Xamarin.PlayStation3',
  XamarinPlayStation4: 'Xamarin.PlayStation4',
  XamarinPlayStationVita: 'Xamarin.PlayStationVita',
  XamarinWatchOS: 'Xamarin.WatchOS',
  XamarinTVOS: 'Xamarin.TVOS',
  XamarinXbox360: 'Xamarin.Xbox360',
  XamarinXboxOne: 'Xamarin.XboxOne',
  UAP: 'UAP',
  Tizen: 'Tizen',
  NanoFramework: '.NETnanoFramework',
} as const;

const EMPTY: FrameworkVersion = [0, 0, 0, 0];

/** NuGet's case-insensitive keys are ASCII, and .NET's OrdinalIgnoreCase does not fold `ı` or `ſ` into them. */
function key(text: string): string {
  // toUpperCase is exact for ASCII text and fast; other text upper-cases only its ASCII letters.
  return /^[\x00-\x7f]*$/.test(text) ? text.toUpperCase() : text.replace(/[a-z]+/g, (c) => c.toUpperCase());
}

function same(a: string, b: string): boolean {
  return key(a) === key(b);
}

function v(major: number, minor = 0, build = 0, revision = 0): FrameworkVersion {
  return [major, minor, build, revision];
}

/** `new NuGetFramework(...)`: normalizes the versions; only .NET 5+ (`.NETCoreApp` 5 and up) keeps a platform. */
function make(
  framework: string,
  version: FrameworkVersion = EMPTY,
  profile = '',
  platform = '',
  platformVersion: FrameworkVersion = EMPTY,
): Framework {
  const normalized = normalizeVersionParts(version);
  const net5Era = normalized[0] >= 5 && same(framework, FrameworkIds.NetCoreApp);
  return {
    framework,
    version: normalized,
    profile,
    platform: net5Era ? platform : '',
    platformVersion: net5Era ? normalizeVersionParts(platformVersion) : EMPTY,
  };
}

function normalizeVersionParts(version: readonly number[]): FrameworkVersion {
  return [
    Math.max(version[0] ?? 0, 0),
    Math.max(version[1] ?? 0, 0),
    Math.max(version[2] ?? 0, 0),
    Math.max(version[3] ?? 0, 0),
  ];
}

/** The framework NuGet uses for anything it does not understand. */
export const UNSUPPORTED: Framework = make('Unsupported');
/** A wildcard matching all frameworks. */
export const ANY: Framework = make('Any');
/** No specific framework (content-only packages). */
export const AGNOSTIC: Framework = make('Agnostic');

// ---------------------------------------------------------------------------------------------------------------
// NuGet's mapping tables (DefaultFrameworkMappings / DefaultPortableFrameworkMappings), as data.

/** Other spellings of identifiers. */
const IDENTIFIER_SYNONYMS: readonly (readonly [string, string])[] = [
  ['NETFramework', FrameworkIds.Net],
  ['.NET', FrameworkIds.Net],
  ['NETCore', FrameworkIds.NetCore],
  ['NETPortable', FrameworkIds.Portable],
  ['asp.net', FrameworkIds.AspNet],
  ['asp.netcore', FrameworkIds.AspNetCore],
  ['Xamarin.PlayStationThree', FrameworkIds.XamarinPlayStation3],
  ['XamarinPlayStationThree', FrameworkIds.XamarinPlayStation3],
  ['Xamarin.PlayStationFour', FrameworkIds.XamarinPlayStation4],
  ['XamarinPlayStationFour', FrameworkIds.XamarinPlayStation4],
  ['XamarinPlayStationVita', FrameworkIds.XamarinPlayStationVita],
];

/** Identifier -> short folder name. */
const IDENTIFIER_SHORT_NAMES: readonly (readonly [string, string])[] = [
  [FrameworkIds.NetCoreApp, 'netcoreapp'],
  [FrameworkIds.NetStandardApp, 'netstandardapp'],
  [FrameworkIds.NetStandard, 'netstandard'],
  [FrameworkIds.NetPlatform, 'dotnet'],
  [FrameworkIds.Net, 'net'],
  [FrameworkIds.NetMicro, 'netmf'],
  [FrameworkIds.Silverlight, 'sl'],
  [FrameworkIds.Portable, 'portable'],
  [FrameworkIds.WindowsPhone, 'wp'],
  [FrameworkIds.WindowsPhoneApp, 'wpa'],
  [FrameworkIds.Windows, 'win'],
  [FrameworkIds.AspNet, 'aspnet'],
  [FrameworkIds.AspNetCore, 'aspnetcore'],
  [FrameworkIds.Native, 'native'],
  [FrameworkIds.MonoAndroid, 'monoandroid'],
  [FrameworkIds.MonoTouch, 'monotouch'],
  [FrameworkIds.MonoMac, 'monomac'],
  [FrameworkIds.XamarinIOs, 'xamarinios'],
  [FrameworkIds.XamarinMac, 'xamarinmac'],
  [FrameworkIds.XamarinPlayStation3, 'xamarinpsthree'],
  [FrameworkIds.XamarinPlayStation4, 'xamarinpsfour'],
  [FrameworkIds.XamarinPlayStationVita, 'xamarinpsvita'],
  [FrameworkIds.XamarinWatchOS, 'xamarinwatchos'],
  [FrameworkIds.XamarinTVOS, 'xamarintvos'],
  [FrameworkIds.XamarinXbox360, 'xamarinxboxthreesixty'],
  [FrameworkIds.XamarinXboxOne, 'xamarinxboxone'],
  [FrameworkIds.Dnx, 'dnx'],
  [FrameworkIds.DnxCore, 'dnxcore'],
  [FrameworkIds.NetCore, 'netcore'],
  [FrameworkIds.WinRT, 'winrt'],
  [FrameworkIds.UAP, 'uap'],
  [FrameworkIds.Tizen, 'tizen'],
  [FrameworkIds.NanoFramework, 'netnano'],
];

/** Short profile -> profile. */
const PROFILE_SHORT_NAMES: readonly (readonly [string, string])[] = [
  ['Client', 'Client'],
  ['CF', 'CompactFramework'],
  ['Full', ''],
  ['WP', 'WindowsPhone'],
  ['WP71', 'WindowsPhone71'],
];

/** A case-insensitive dictionary that also remembers how each key was spelled. */
class Dictionary {
  private readonly entries = new Map<string, readonly [string, string]>();
  constructor(pairs: Iterable<readonly [string, string]>) {
    // First one wins, as NuGet adds only missing keys.
    for (const pair of pairs) if (!this.entries.has(key(pair[0]))) this.entries.set(key(pair[0]), pair);
  }
  value(k: string): string | undefined {
    return this.entries.get(key(k))?.[1];
  }
  /** The key as spelled in the table. */
  spelledKey(k: string): string | undefined {
    return this.entries.get(key(k))?.[0];
  }
}

const identifierSynonyms = new Dictionary([
  ...IDENTIFIER_SYNONYMS,
  ...IDENTIFIER_SHORT_NAMES.map(([long, short]) => [short, long] as const),
]);
const identifierToShort = new Dictionary(IDENTIFIER_SHORT_NAMES);
const identifierShortToLong = new Dictionary(IDENTIFIER_SHORT_NAMES.map(([long, short]) => [short, long] as const));
const profileShortToLong = new Dictionary(PROFILE_SHORT_NAMES);
const profileToShort = new Dictionary(PROFILE_SHORT_NAMES.map(([short, long]) => [long, short] as const));

/** NuGet's `TryConvertOrNormalize`: map the key, or if it is already a mapped value, return its proper spelling. */
function convertOrNormalize(k: string, mapping: Dictionary, reverse: Dictionary): string | null {
  return mapping.value(k) ?? reverse.spelledKey(k) ?? null;
}

function lookupIdentifier(name: string): string | null {
  return convertOrNormalize(name, identifierSynonyms, identifierToShort);
}
function lookupShortIdentifier(identifier: string): string | null {
  return convertOrNormalize(identifier, identifierToShort, identifierShortToLong);
}
function lookupProfile(shortProfile: string): string | null {
  return convertOrNormalize(shortProfile, profileShortToLong, profileToShort);
}
function lookupShortProfile(profile: string): string | null {
  return convertOrNormalize(profile, profileToShort, profileShortToLong);
}

const net4 = make(FrameworkIds.Net, v(4));
const net403 = make(FrameworkIds.Net, v(4, 0, 3));
const net45 = make(FrameworkIds.Net, v(4, 5));
const net451 = make(FrameworkIds.Net, v(4, 5, 1));
const win8 = make(FrameworkIds.Windows, v(8));
const win81 = make(FrameworkIds.Windows, v(8, 1));
const sl4 = make(FrameworkIds.Silverlight, v(4));
const sl5 = make(FrameworkIds.Silverlight, v(5));
const wp7 = make(FrameworkIds.WindowsPhone, v(7));
const wp75 = make(FrameworkIds.WindowsPhone, v(7, 5));
const wp8 = make(FrameworkIds.WindowsPhone, v(8));
const wp81 = make(FrameworkIds.WindowsPhone, v(8, 1));
const wpa81 = make(FrameworkIds.WindowsPhoneApp, v(8, 1));

/** Portable profile number -> the frameworks it requires. Order matters: the first matching profile wins. */
const PORTABLE_PROFILES: readonly (readonly [number, readonly Framework[]])[] = [
  [31, [win81, wp81]],
  [32, [win81, wpa81]],
  [44, [net451, win81]],
  [84, [wp81, wpa81]],
  [151, [net451, win81, wpa81]],
  [157, [win81, wp81, wpa81]],
  [7, [net45, win8]],
  [49, [net45, wp8]],
  [78, [net45, win8, wp8]],
  [111, [net45, win8, wpa81]],
  [259, [net45, win8, wpa81, wp8]],
  [2, [net4, win8, sl4, wp7]],
  [3, [net4, sl4]],
  [4, [net45, sl4, win8, wp7]],
  [5, [net4, win8]],
  [6, [net403, win8]],
  [14, [net4, sl5]],
  [18, [net403, sl4]],
  [19, [net403, sl5]],
  [23, [net45, sl4]],
  [24, [net45, sl5]],
  [36, [net4, sl4, win8, wp8]],
  [37, [net4, sl5, win8]],
  [41, [net403, sl4, win8]],
  [42, [net403, sl5, win8]],
  [46, [net45, sl4, win8]],
  [47, [net45, sl5, win8]],
  [88, [net4, sl4, win8, wp75]],
  [92, [net4, win8, wpa81]],
  [95, [net403, sl4, win8, wp7]],
  [96, [net403, sl4, win8, wp75]],
  [102, [net403, win8, wpa81]],
  [104, [net45, sl4, win8, wp75]],
  [136, [net4, sl5, win8, wp8]],
  [143, [net403, sl4, win8, wp8]],
  [147, [net403, sl5, win8, wp8]],
  [154, [net45, sl4, win8, wp8]],
  [158, [net45, sl5, win8, wp8]],
  [225, [net4, sl5, win8, wpa81]],
  [240, [net403, sl5, win8, wpa81]],
  [255, [net45, sl5, win8, wpa81]],
  [328, [net4, sl5, win8, wpa81, wp8]],
  [336, [net403, sl5, win8, wpa81, wp8]],
  [344, [net45, sl5, win8, wpa81, wp8]],
];
const portableProfiles = new Map(PORTABLE_PROFILES);

/** Profiles that also accept the Mono/Xamarin frameworks without naming them. */
const PROFILES_WITH_OPTIONAL_FRAMEWORKS = new Set([
  5, 6, 7, 14, 19, 24, 37, 42, 44, 47, 49, 78, 92, 102, 111, 136, 147, 151, 158, 225, 255, 259, 328, 336, 344,
]);
const OPTIONAL_FRAMEWORKS: readonly Framework[] = [
  FrameworkIds.MonoAndroid,
  FrameworkIds.MonoTouch,
  FrameworkIds.XamarinIOs,
  FrameworkIds.XamarinMac,
  FrameworkIds.XamarinWatchOS,
  FrameworkIds.XamarinTVOS,
].map((id) => make(id));

/** Frameworks NuGet treats as the same thing (`win` = `win8` = `netcore45` = `winrt45`...), closed transitively. */
const EQUIVALENCE_CLASSES: readonly (readonly Framework[])[] = [
  [make(FrameworkIds.UAP), make(FrameworkIds.UAP, v(10))],
  [
    make(FrameworkIds.Windows),
    win8,
    make(FrameworkIds.NetCore, v(4, 5)),
    make(FrameworkIds.WinRT, v(4, 5)),
    make(FrameworkIds.NetCore),
    make(FrameworkIds.WinRT),
  ],
  [win81, make(FrameworkIds.NetCore, v(4, 5, 1))],
  [make(FrameworkIds.WindowsPhone), wp7, make(FrameworkIds.Silverlight, v(3), 'WindowsPhone')],
  [make(FrameworkIds.WindowsPhone, v(7, 1)), make(FrameworkIds.Silverlight, v(4), 'WindowsPhone71')],
  [wp8, make(FrameworkIds.Silverlight, v(8), 'WindowsPhone')],
  [wp81, make(FrameworkIds.Silverlight, v(8, 1), 'WindowsPhone')],
  [make(FrameworkIds.WindowsPhoneApp), wpa81],
  [make(FrameworkIds.Tizen), make(FrameworkIds.Tizen, v(3))],
  [make(FrameworkIds.Dnx), make(FrameworkIds.Dnx, v(4, 5)), make(FrameworkIds.AspNet), make(FrameworkIds.AspNet, v(5))],
  [
    make(FrameworkIds.DnxCore),
    make(FrameworkIds.DnxCore, v(5)),
    make(FrameworkIds.AspNetCore),
    make(FrameworkIds.AspNetCore, v(5)),
  ],
  [make(FrameworkIds.NetPlatform), make(FrameworkIds.NetPlatform, v(5))],
];

/** `dotnet` (all versions) is written as `.NETPlatform,Version=v5.0` and `dotnet5.0` is written as `dotnet`. */
const DOTNET = make(FrameworkIds.NetPlatform);
const DOTNET50 = make(FrameworkIds.NetPlatform, v(5));

// ---------------------------------------------------------------------------------------------------------------
// Equality

/** A string that is equal for frameworks NuGet's full comparer finds equal. */
function identityKey(f: Framework): string {
  const parts = [key(f.framework), f.version.join('.'), key(f.profile), key(f.platform), f.platformVersion.join('.')];
  return parts.join('|');
}

/**
 * NuGet's full framework comparison: identifier, version, profile, platform, platform version (names ignore case).
 * @example frameworksEqual(parseFramework('net45'), parseFramework('.NETFramework,Version=v4.5')) // true
 */
export function frameworksEqual(a: Framework, b: Framework): boolean {
  return identityKey(a) === identityKey(b);
}

/**
 * True for the framework NuGet uses for what it does not understand.
 * @example isUnsupported(parseFramework('lib')) // true
 */
export function isUnsupported(f: Framework): boolean {
  return frameworksEqual(f, UNSUPPORTED);
}

/**
 * True for a real framework (not `any`, `agnostic` or `unsupported`).
 * @example isSpecificFramework(parseFramework('any')) // false
 */
export function isSpecificFramework(f: Framework): boolean {
  return !frameworksEqual(f, ANY) && !frameworksEqual(f, AGNOSTIC) && !frameworksEqual(f, UNSUPPORTED);
}

/**
 * True for a portable class library (`portable-...`).
 * @example isPortable(parseFramework('portable-net45+win8')) // true
 */
export function isPortable(f: Framework): boolean {
  return same(f.framework, FrameworkIds.Portable) && f.version[0] < 5;
}

/** True for .NET 5 and later (`net5.0`...), the frameworks that can have a platform. */
function isNet5Era(f: Framework): boolean {
  return f.version[0] >= 5 && same(f.framework, FrameworkIds.NetCoreApp);
}

/** Identity key -> the keys of all frameworks equivalent to it (itself included). */
const equivalentKeys = new Map<string, readonly string[]>(
  EQUIVALENCE_CLASSES.flatMap((group) => {
    const keys = group.map(identityKey);
    return keys.map((k) => [k, keys] as const);
  }),
);

function equivalentsOf(k: string): readonly string[] {
  return equivalentKeys.get(k) ?? [k];
}

/** For each profile: for each required framework, the keys it may be swapped for. */
const PROFILE_CHOICES = PORTABLE_PROFILES.map(
  ([number, required]) => [number, required.map((r) => equivalentsOf(identityKey(r)))] as const,
);

function compareVersionParts(a: FrameworkVersion, b: FrameworkVersion): number {
  for (let i = 0; i < 4; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/** `FrameworkNameProvider.TryGetVersion`: `45` is 4.5, `451` is 4.5.1, `4.5` is 4.5; only the first 4 digits count. */
function folderVersion(text: string): FrameworkVersion | null {
  if (text.length === 0) return EMPTY;
  if (text.includes('.')) return asFrameworkVersion(parseSystemVersion(text));
  const digits = text.length < 2 ? `${text}0` : text;
  return asFrameworkVersion(parseSystemVersion([...digits].slice(0, 4).join('.')));
}

/** `TryGetPlatformVersion`: a dotted version, `7` meaning 7.0. */
function platformVersion(text: string): FrameworkVersion | null {
  return asFrameworkVersion(parseSystemVersion(text.includes('.') ? text : `${text}.0`));
}

function asFrameworkVersion(parts: readonly number[] | null): FrameworkVersion | null {
  return parts === null ? null : normalizeVersionParts(parts);
}

function specialFramework(text: string): Framework | null {
  if (same(text, 'Any')) return ANY;
  if (same(text, 'Agnostic')) return AGNOSTIC;
  if (same(text, 'Unsupported')) return UNSUPPORTED;
  return null;
}

interface RawFolder {
  readonly identifier: string;
  readonly version: string | null;
  readonly profile: string;
}

/** Splits a folder name into letters (identifier), digits and dots (version), then `-profile`. */
function rawParse(text: string): RawFolder | null {
  const match = /^([A-Za-z.]+)([0-9.]*)(.*)$/s.exec(text);
  if (!match) return null;
  const [, identifier = '', version = '', rest = ''] = match;
  let profile = '';
  if (rest.length > 0) {
    // Only "-profile" may follow, with a non-empty profile of letters, digits, '.', '+', '-'.
    if (!/^-[A-Za-z0-9.+-]+$/.test(rest)) return null;
    profile = rest.slice(1);
  }
  return { identifier, version: version.length > 0 ? version : null, profile };
}

/** Bare numbers NuGet still reads as .NET Framework versions (an exact match). */
const DEPRECATED_FOLDERS: Readonly<Record<string, Framework>> = {
  '45': net45,
  '4.5': net45,
  '40': net4,
  '4.0': net4,
  '4': net4,
  '35': make(FrameworkIds.Net, v(3, 5)),
  '3.5': make(FrameworkIds.Net, v(3, 5)),
  '20': make(FrameworkIds.Net, v(2)),
  '2': make(FrameworkIds.Net, v(2)),
  '2.0': make(FrameworkIds.Net, v(2)),
};

/** .NET's `Uri.UnescapeDataString`: `%XX` sequences decoded as UTF-8; anything that is not valid stays as written. */
function unescapeDataString(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = run.slice(1).split('%').map((hex) => parseInt(hex, 16));
    let out = '';
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i] ?? 0;
      // How many bytes the sequence starting here should have; 0 for a byte that cannot start one.
      const length = b < 0x80 ? 1 : b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0;
      const slice = bytes.slice(i, i + length);
      const decoded = length > 0 && slice.length === length ? decodeUtf8(slice) : null;
      if (decoded === null) {
        out += `%${run.slice(1 + i * 3, 3 + i * 3)}`;
        i += 1;
      } else {
        out += decoded;
        i += length;
      }
    }
    return out;
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: number[]): string | null {
  try {
    return strictUtf8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** `NuGetFramework.ParseFolder`. Throws {@link FrameworkError} where NuGet throws. */
function parseFolder(input: string): Framework {
  const text = input.includes('%') ? unescapeDataString(input) : input;
  const special = specialFramework(text);
  if (special) return special;
  // NuGet's table of common frameworks only changes the answer for `dotnet`.
  if (toLowerInvariant(text) === 'dotnet') return DOTNET50;

  const raw = rawParse(text);
  if (raw === null) return DEPRECATED_FOLDERS[text] ?? UNSUPPORTED;
  let framework = lookupIdentifier(raw.identifier);
  if (framework === null) return UNSUPPORTED;
  const version = raw.version === null ? EMPTY : folderVersion(raw.version);
  if (version === null) return UNSUPPORTED;
  const profileShort = raw.profile;

  if (version[0] >= 5 && (same(framework, FrameworkIds.Net) || same(framework, FrameworkIds.NetCoreApp))) {
    // net5.0 and later are .NETCoreApp; what follows the dash is a platform: `windows7.0`.
    framework = FrameworkIds.NetCoreApp;
    if (profileShort.length === 0) return make(framework, version);
    const letters = /^[A-Za-z.]*/.exec(profileShort)?.[0].length ?? 0;
    const platform = letters > 0 ? profileShort.slice(0, letters) : profileShort;
    const platformText = letters > 0 ? profileShort.slice(letters) : '';
    const pv = platformText.length === 0 ? EMPTY : platformVersion(platformText);
    if (pv === null) return UNSUPPORTED;
    return make(framework, version, '', platform, pv);
  }

  if (same(framework, FrameworkIds.Portable)) {
    const members = parsePortableMembers(profileShort);
    if (members.length === 0) return UNSUPPORTED;
    const number = portableProfileNumber(members);
    return make(framework, version, number === null ? profileShort : `Profile${number}`);
  }
  return make(framework, version, lookupProfile(profileShort) ?? profileShort);
}

/** The frameworks of a `net45+win8` portable profile. Members may not have profiles of their own. */
function parsePortableMembers(profile: string): Framework[] {
  const members = profile
    .split('+')
    .filter((name) => name.length > 0)
    .map((name) => parseOrThrow(name));
  if (members.some((member) => member.profile.length > 0)) {
    throw new FrameworkError(`portable frameworks may not have profiles: ${profile}`);
  }
  return members;
}

/** `TryGetPortableProfile`: the number of the first portable profile made of exactly these frameworks. */
function portableProfileNumber(frameworks: readonly Framework[]): number | null {
  // Drop frameworks equivalent to one already listed (win+win8 is just win).
  const distinct: Framework[] = [];
  const seen = new Set<string>();
  for (const f of frameworks) {
    const k = identityKey(f);
    if (seen.has(k)) continue;
    distinct.push(f);
    for (const e of equivalentsOf(k)) seen.add(e);
  }
  for (const [number, choices] of PROFILE_CHOICES) {
    if (choices.length > distinct.length) continue;
    const optional = PROFILES_WITH_OPTIONAL_FRAMEWORKS.has(number) ? OPTIONAL_FRAMEWORKS : [];
    const reduced = distinct.filter(
      (f) =>
        !optional.some(
          (o) =>
            same(o.framework, f.framework) &&
            same(o.platform, f.platform) &&
            same(o.profile, f.profile) &&
            compareVersionParts(f.version, o.version) >= 0,
        ),
    );
    if (matchesProfile(choices, new Set(reduced.map(identityKey)))) return number;
  }
  return null;
}

/**
 * Can each required framework (given as the keys it may be swapped for) be swapped for an equivalent so that the
 * set is exactly `keys`? NuGet enumerates every combination; a small search gives the same answer.
 */
function matchesProfile(choices: readonly (readonly string[])[], keys: ReadonlySet<string>): boolean {
  const options = choices.map((c) => c.filter((k) => keys.has(k)));
  if (options.some((o) => o.length === 0)) return false;
  const chosen: string[] = [];
  const search = (i: number): boolean => {
    if (i === options.length) return new Set(chosen).size === keys.size;
    for (const choice of options[i] ?? []) {
      chosen.push(choice);
      if (search(i + 1)) return true;
      chosen.pop();
    }
    return false;
  };
  return search(0);
}

/** `version=` and `profile=` parts of a long name: exactly one such part counts. */
function namedPart(parts: readonly string[], name: string): string | null {
  const matching = parts.filter((part) => key(part).startsWith(key(name)));
  return matching.length === 1 ? (matching[0] ?? null) : null;
}

/** `NuGetFramework.ParseFrameworkName` (`.NETFramework,Version=v4.5,Profile=Client`). */
function parseLongName(text: string): Framework {
  const parts = text
    .split(',')
    .filter((part) => part.length > 0)
    .map(dotnetTrim);
  const first = parts[0];
  if (first === undefined) throw new FrameworkError(`not a framework name: '${text}'`);
  const special = specialFramework(first);
  if (special) return special;

  const framework = lookupIdentifier(first) ?? first;
  let version: FrameworkVersion = v(0);
  const versionPart = namedPart(parts, 'Version=');
  if (versionPart) {
    let versionText = (versionPart.split('=')[1] ?? '').replace(/^v+/, '');
    if (!versionText.includes('.')) versionText += '.0';
    const parsed = asFrameworkVersion(parseSystemVersion(versionText));
    if (parsed === null) throw new FrameworkError(`invalid framework version '${versionText}'`);
    version = parsed;
  }
  const profilePart = namedPart(parts, 'Profile=');
  const profile = profilePart ? (profilePart.split('=')[1] ?? '') : '';
  if (same(framework, FrameworkIds.Portable) && profile.includes('-')) {
    throw new FrameworkError(`portable frameworks may not have profiles: ${profile}`);
  }
  // .NET 5+ has no profiles.
  if (version[0] >= 5 && same(framework, FrameworkIds.NetCoreApp)) return make(framework, version);
  return make(framework, version, profile);
}

function parseOrThrow(text: string): Framework {
  return text.includes(',') ? parseLongName(text) : parseFolder(text);
}

/**
 * `NuGetFramework.Parse`, or `null` where NuGet throws (e.g. `portable-net40-client`, `foo,Version=vX`, `,`).
 *
 * @example tryParseFramework('net8.0-windows7.0')
 *   // { framework: '.NETCoreApp', version: [8, 0, 0, 0], platform: 'windows', platformVersion: [7, 0, 0, 0], ... }
 * @example tryParseFramework(',') // null
 */
export function tryParseFramework(text: string): Framework | null {
  try {
    return parseOrThrow(text);
  } catch (error) {
    if (error instanceof FrameworkError) return null;
    throw error;
  }
}

/**
 * `NuGetFramework.Parse` of a folder name (`net48`, `netstandard2.0`, `portable-net45+win8`) or a long name
 * (`.NETFramework,Version=v4.5`). Never throws: what NuGet does not understand is `Unsupported`, and where NuGet
 * throws we answer `Unsupported` too.
 *
 * @example shortFolderName(parseFramework('.NETFramework,Version=v4.5')) // 'net45'
 * @example parseFramework('lib').framework // 'Unsupported'
 */
export function parseFramework(text: string): Framework {
  return tryParseFramework(text) ?? UNSUPPORTED;
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

const SINGLE_DIGIT_FRAMEWORKS = [FrameworkIds.Windows, FrameworkIds.WindowsPhone, FrameworkIds.Silverlight];

/** `GetVersionString`: `45`, `451`, but `8.0`, `2.0`, `10.0` where decimals are needed. */
function folderVersionString(framework: string, version: FrameworkVersion): string {
  if (version.every((part) => part <= 0)) return '';
  const parts = version.map((part) => Math.max(part, 0));
  const minParts = SINGLE_DIGIT_FRAMEWORKS.some((id) => same(id, framework)) ? 1 : 2;
  while (parts.length > minParts && (parts[parts.length - 1] ?? 0) <= 0) parts.pop();
  const decimals =
    same(framework, FrameworkIds.NetCoreApp) ||
    same(framework, FrameworkIds.NetStandard) ||
    same(framework, FrameworkIds.NanoFramework) ||
    parts.some((part) => part > 9);
  if (!decimals) return parts.join('');
  if (parts.length < 2) parts.push(0);
  return parts.join('.');
}

/** `TryGetPortableFrameworks(profile, includeOptional: false)`: `Profile259` by number, otherwise a `+` list. */
function portableFrameworksOf(profile: string): readonly Framework[] {
  if (key(profile).startsWith('PROFILE')) {
    const number = parseDotnetInt(profile.slice(7));
    if (number !== null) return portableProfiles.get(number) ?? [];
  }
  return parsePortableMembers(profile);
}

function shortFolderNameOrThrow(f: Framework): string {
  if (!isSpecificFramework(f)) return toLowerInvariant(f.framework);
  const replacement = frameworksEqual(f, DOTNET50) ? DOTNET : f;
  const identifier = isNet5Era(f) ? FrameworkIds.Net : f.framework;
  const shortIdentifier =
    lookupShortIdentifier(identifier) ??
    [...replacement.framework].filter((c) => c.length === 1 && isDotnetLetterOrDigit(c.charCodeAt(0))).join('');
  if (shortIdentifier.length === 0) throw new FrameworkError(`no short name for '${f.framework}'`);
  let text = shortIdentifier;
  if (!f.version.every((part) => part === 0)) text += folderVersionString(replacement.framework, replacement.version);
  if (isPortable(f)) {
    const members = replacement.profile.length > 0 ? portableFrameworksOf(replacement.profile) : [];
    if (members.length === 0) throw new FrameworkError(`no frameworks for portable profile '${replacement.profile}'`);
    const distinct = [...new Map(members.map((m) => [identityKey(m), m])).values()];
    const names = distinct.map(shortFolderNameOrThrow).sort((a, b) => compareOrdinalIgnoreCase(a, b));
    text += `-${names.join('+')}`;
  } else if (isNet5Era(f)) {
    if (replacement.platform.length > 0) {
      text += `-${toLowerInvariant(replacement.platform)}`;
      if (!replacement.platformVersion.every((part) => part === 0)) {
        text += folderVersionString(replacement.framework, replacement.platformVersion);
      }
    }
  } else if (replacement.profile.length > 0) {
    text += `-${lookupShortProfile(replacement.profile) ?? replacement.profile}`;
  }
  return toLowerInvariant(text);
}

/** `StringComparer.OrdinalIgnoreCase.Compare`, for the short names of portable members. */
function compareOrdinalIgnoreCase(a: string, b: string): number {
  const ua = a.toUpperCase();
  const ub = b.toUpperCase();
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * `GetShortFolderName()`: the `lib/` folder form, lower case (`net8.0-windows7.0`, `net45`, `portable-net45+win8`).
 * Throws {@link FrameworkError} where NuGet throws (a portable profile number NuGet does not know, an identifier with
 * no letters or digits); see {@link tryShortFolderName}.
 *
 * @example shortFolderName(parseFramework('.NETCoreApp,Version=v3.1')) // 'netcoreapp3.1'
 */
export function shortFolderName(f: Framework): string {
  return shortFolderNameOrThrow(f);
}

/**
 * {@link shortFolderName}, or `null` where NuGet throws.
 * @example tryShortFolderName(parseFramework('portable-Profile999')) // null
 */
export function tryShortFolderName(f: Framework): string | null {
  try {
    return shortFolderNameOrThrow(f);
  } catch (error) {
    if (error instanceof FrameworkError) return null;
    throw error;
  }
}

/** `GetDisplayVersion`: `4.5`, `4.5.1`, `10.0.19041.1`. */
function displayVersion(version: FrameworkVersion): string {
  const [major, minor, build, revision] = version;
  let text = `${major}.${minor}`;
  if (build > 0 || revision > 0) {
    text += `.${build}`;
    if (revision > 0) text += `.${revision}`;
  }
  return text;
}

/**
 * `DotNetFrameworkName`: the long form (`.NETFramework,Version=v4.5,Profile=Client`), as written in nuspec
 * dependency groups and in `targetFramework` attributes. The platform of `net8.0-windows` is not part of it.
 *
 * @example longName(parseFramework('net48')) // '.NETFramework,Version=v4.8'
 * @example longName(parseFramework('net8.0-windows7.0')) // '.NETCoreApp,Version=v8.0'
 */
export function longName(f: Framework): string {
  const replacement = frameworksEqual(f, DOTNET) ? DOTNET50 : f;
  if (!isSpecificFramework(replacement)) return `${replacement.framework},Version=v0.0`;
  let text = `${f.framework},Version=v${displayVersion(replacement.version)}`;
  if (replacement.profile.length > 0) text += `,Profile=${replacement.profile}`;
  return text;
}
