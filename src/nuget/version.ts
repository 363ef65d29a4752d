/**
 * NuGet package versions, with the exact semantics of NuGet.Versioning (`NuGetVersion.TryParse`,
 * `ToNormalizedString`, `ToFullString`, `VersionComparer.Default`, `IsSemVer2`).
 *
 * NuGet versions are not npm semver: up to four numeric parts, `1.0` means `1.0.0`, the numeric parts are read by
 * .NET's `System.Version` (which tolerates whitespace around each number), release labels are compared part by part
 * and case-insensitively, and build metadata never takes part in ordering. The differential test in
 * `test/unit/nuget/differential.test.ts` checks every function here against NuGet's own library.
 */

/** A parsed NuGet version. Plain data: compare with {@link compareVersions}, never with `===`. */
export interface NuGetVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly revision: number;
  /** Release labels split on `.`; `[]` when the version is not a prerelease. */
  readonly releaseLabels: readonly string[];
  /** Build metadata without the `+`; `null` when absent. */
  readonly metadata: string | null;
  /** The text as given, with spaces removed (NuGet's `OriginalVersion`; other whitespace is kept). */
  readonly original: string;
}

/** Largest value of a .NET `int`: each numeric part must fit in one. */
const INT32_MAX = 2147483647;

/** Characters for which .NET's `char.IsWhiteSpace` is true: what `string.Trim()` removes. */
const DOTNET_WHITESPACE = new Set<number>([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/**
 * .NET's `string.Trim()`. JavaScript's `trim()` differs: it removes U+FEFF and keeps U+0085.
 * @example dotnetTrim('\u0085 1.0 ') // '1.0'
 */
export function dotnetTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && DOTNET_WHITESPACE.has(text.charCodeAt(start))) start++;
  while (end > start && DOTNET_WHITESPACE.has(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/**
 * One `System.Version` component: an optional sign and ASCII digits, with white space around (any character .NET's
 * `char.IsWhiteSpace` accepts, not only ASCII: `1.\u00a00` is a valid NuGet version). Non-ASCII digits are refused.
 */
const WS = '[\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*';
const DOTNET_INT = new RegExp(`^${WS}([+-]?)([0-9]+)${WS}$`);

/**
 * `int.TryParse(text, NumberStyles.Integer, InvariantCulture)`: white space around, an optional sign, ASCII digits,
 * within int32. `null` when .NET would refuse it.
 * @example parseDotnetInt(' +42 ') // 42
 */
export function parseDotnetInt(text: string): number | null {
  const match = DOTNET_INT.exec(text);
  if (!match) return null;
  const digits = (match[2] ?? '').replace(/^0+(?=\d)/, '');
  // More than 10 significant digits always overflows an int; 10 digits may.
  if (digits.length > 10) return null;
  const magnitude = Number(digits);
  const negative = match[1] === '-';
  if (magnitude > (negative ? INT32_MAX + 1 : INT32_MAX)) return null;
  return negative ? -magnitude : magnitude;
}

/** Parses one `System.Version` component: an int that is not negative (`-0` passes). */
function parseVersionComponent(text: string): number | null {
  const value = parseDotnetInt(text);
  return value === null || value < 0 ? null : value + 0;
}

/**
 * `System.Version.TryParse`: two to four dot-separated components.
 * Returns `[major, minor, build, revision]` with -1 for absent parts, as .NET does; `null` when .NET refuses.
 * @example parseSystemVersion('4.5') // [4, 5, -1, -1]
 */
export function parseSystemVersion(text: string): [number, number, number, number] | null {
  const parts = text.split('.');
  if (parts.length < 2 || parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    const value = parseVersionComponent(part);
    if (value === null) return null;
    values.push(value);
  }
  return [values[0] ?? -1, values[1] ?? -1, values[2] ?? -1, values[3] ?? -1];
}

/** ASCII letters, digits and `-`: the only characters SemVer allows in labels and metadata. */
const LABEL_PART = /^[0-9A-Za-z-]+$/;

/**
 * One dot-separated part of a release label (or of metadata, which allows leading zeros): non-empty, `[0-9A-Za-z-]`
 * only, and no leading zero in an all-digit part (`0` is fine, `01` is not, `0a` is fine).
 */
function isValidPart(part: string, allowLeadingZeros: boolean): boolean {
  if (!LABEL_PART.test(part)) return false;
  if (!allowLeadingZeros && part.length > 1 && part.startsWith('0') && /^[0-9]+$/.test(part)) return false;
  return true;
}

interface Sections {
  readonly version: string;
  readonly labels: string[] | null;
  readonly metadata: string | null;
}

/**
 * Splits trimmed text into version / release labels / metadata the way NuGet does. NuGet's scanner has one quirk
 * worth keeping: a `-` or `+` that is the very last character stays in the section before it (so `1.0-` and
 * `1.0-beta+` fail later instead of yielding empty sections).
 */
function splitSections(text: string): Sections | null {
  if (text.length === 0) return null;
  const last = text.length - 1;
  const first = text.search(/[-+]/);
  if (first < 0 || first === last) return { version: text, labels: null, metadata: null };
  const version = text.slice(0, first);
  if (text[first] === '+') return { version, labels: null, metadata: text.slice(first + 1) };
  const plus = text.indexOf('+', first + 1);
  if (plus < 0 || plus === last) return { version, labels: text.slice(first + 1).split('.'), metadata: null };
  return { version, labels: text.slice(first + 1, plus).split('.'), metadata: text.slice(plus + 1) };
}

/**
 * Parses a version exactly as `NuGetVersion.TryParse` does; `null` where NuGet answers false.
 *
 * @example
 * parseVersion('1.0.0-beta.1+sha.abc')
 *   // { major: 1, minor: 0, patch: 0, revision: 0, releaseLabels: ['beta', '1'], metadata: 'sha.abc', ... }
 * parseVersion('1.0.0.0.0') // null: at most four numeric parts
 */
export function parseVersion(text: string): NuGetVersion | null {
  if (typeof text !== 'string') return null;
  const sections = splitSections(dotnetTrim(text));
  if (sections === null || sections.version.length === 0) return null;
  // System.Version needs at least two parts; NuGet adds ".0" to a bare number.
  const versionPart = sections.version.includes('.') ? sections.version : `${sections.version}.0`;
  const numbers = parseSystemVersion(versionPart);
  if (numbers === null) return null;
  if (sections.labels !== null && !sections.labels.every((label) => isValidPart(label, false))) return null;
  if (sections.metadata !== null && !sections.metadata.split('.').every((part) => isValidPart(part, true))) {
    return null;
  }
  const [major, minor, build, revision] = numbers;
  return {
    major,
    minor,
    patch: Math.max(build, 0),
    revision: Math.max(revision, 0),
    releaseLabels: sections.labels ?? [],
    metadata: sections.metadata,
    // NuGet removes spaces (only U+0020) from the untrimmed text.
    original: text.replaceAll(' ', ''),
  };
}

/**
 * `ToNormalizedString()`: three parts, a fourth only when non-zero, leading zeros dropped, labels kept as written,
 * metadata dropped. Two versions that normalize alike are the same package version.
 *
 * @example normalizeVersion(parseVersion('01.0-Beta+sha')!) // '1.0.0-Beta'
 */
export function normalizeVersion(v: NuGetVersion): string {
  let text = `${v.major}.${v.minor}.${v.patch}`;
  if (v.revision > 0) text += `.${v.revision}`;
  if (v.releaseLabels.length > 0) text += `-${v.releaseLabels.join('.')}`;
  return text;
}

/**
 * `ToFullString()`: the normalized form plus `+metadata` when there is metadata.
 *
 * @example fullVersion(parseVersion('1.0+sha.abc')!) // '1.0.0+sha.abc'
 */
export function fullVersion(v: NuGetVersion): string {
  const normalized = normalizeVersion(v);
  return v.metadata ? `${normalized}+${v.metadata}` : normalized;
}

/** `int.TryParse` of a release label (labels hold only `[0-9A-Za-z-]`, so only a leading `-` can be a sign). */
function labelAsInt(label: string): number | null {
  return /^-?[0-9]+$/.test(label) ? parseDotnetInt(label) : null;
}

/** `StringComparer.OrdinalIgnoreCase.Compare` for ASCII text: compare upper-cased code units. */
function compareOrdinalIgnoreCase(a: string, b: string): number {
  const upperA = a.toUpperCase();
  const upperB = b.toUpperCase();
  return upperA < upperB ? -1 : upperA > upperB ? 1 : 0;
}

/** One release label against another: numbers as numbers, numbers before words, words case-insensitively. */
function compareLabel(a: string, b: string): number {
  const numA = labelAsInt(a);
  const numB = labelAsInt(b);
  if (numA !== null && numB !== null) return Math.sign(numA - numB);
  if (numA !== null) return -1;
  if (numB !== null) return 1;
  return compareOrdinalIgnoreCase(a, b);
}

/**
 * `VersionComparer.Default.Compare`: numeric parts, then a release sorts after its prereleases, then labels part by
 * part (`beta.10` after `beta.9`, `beta` before `beta.1`), case-insensitively. Metadata is ignored.
 * Returns -1, 0 or 1.
 *
 * @example compareVersions(parseVersion('1.0.0-beta.10')!, parseVersion('1.0.0-beta.9')!) // 1
 */
export function compareVersions(a: NuGetVersion, b: NuGetVersion): number {
  const numeric =
    Math.sign(a.major - b.major) ||
    Math.sign(a.minor - b.minor) ||
    Math.sign(a.patch - b.patch) ||
    Math.sign(a.revision - b.revision);
  if (numeric !== 0) return numeric;
  const labelsA = a.releaseLabels;
  const labelsB = b.releaseLabels;
  if (labelsA.length === 0 || labelsB.length === 0) return Math.sign(labelsB.length) - Math.sign(labelsA.length);
  const count = Math.max(labelsA.length, labelsB.length);
  for (let i = 0; i < count; i++) {
    const labelA = labelsA[i];
    const labelB = labelsB[i];
    if (labelA === undefined) return -1;
    if (labelB === undefined) return 1;
    const result = compareLabel(labelA, labelB);
    if (result !== 0) return result;
  }
  return 0;
}

/**
 * True when the version has release labels.
 * @example isPrerelease(parseVersion('1.0.0-rc.1')!) // true
 */
export function isPrerelease(v: NuGetVersion): boolean {
  return v.releaseLabels.length > 0;
}

/**
 * `IsSemVer2`: a dotted release label (more than one label) or build metadata. Such packages are hidden from clients
 * that do not ask for `semVerLevel=2.0.0`.
 *
 * @example isSemVer2(parseVersion('1.0.0-beta.1')!) // true
 * @example isSemVer2(parseVersion('1.0.0-beta1')!) // false
 */
export function isSemVer2(v: NuGetVersion): boolean {
  return v.releaseLabels.length > 1 || (v.metadata !== null && v.metadata.length > 0);
}

/**
 * Parses or throws; for inputs that are known to be valid (constants, values already validated).
 * @example versionOf('1.2.3').patch // 3
 */
export function versionOf(text: string): NuGetVersion {
  const version = parseVersion(text);
  if (version === null) throw new TypeError(`'${text}' is not a valid NuGet version`);
  return version;
}

/**
 * The lower-case normalized form used in flat-container URLs and unique keys.
 * @example lowerNormalizedVersion(parseVersion('1.0-RC')!) // '1.0.0-rc'
 */
export function lowerNormalizedVersion(v: NuGetVersion): string {
  // Labels are ASCII-only, so toLowerCase matches .NET's ToLowerInvariant here.
  return normalizeVersion(v).toLowerCase();
}

/** Ten digits hold any int32 shifted to be non-negative. */
function sortDigits(n: number): string {
  return String(n + INT32_MAX + 1).padStart(10, '0');
}

/**
 * An ASCII string whose byte order is {@link compareVersions}' order, for `ORDER BY` in SQL: fixed-width numeric
 * parts, then `~` for a release (after every prerelease) or `-` and the labels, each numeric label as `0` and fixed
 * digits (before any word label), each word label as `1` and its upper-case text, labels joined by a space (lower
 * than any label character, so `beta` < `beta.1` < `betax`). Compare with a binary collation (`COLLATE "C"` in
 * PostgreSQL). Equal keys mean equal versions.
 *
 * @example versionSortKey(versionOf('1.0.0-beta.10')) > versionSortKey(versionOf('1.0.0-beta.9')) // true
 */
export function versionSortKey(v: NuGetVersion): string {
  const numbers = [v.major, v.minor, v.patch, v.revision].map(sortDigits).join('.');
  if (v.releaseLabels.length === 0) return `${numbers}~`;
  const labels = v.releaseLabels.map((label) => {
    const n = labelAsInt(label);
    return n === null ? `1${label.toUpperCase()}` : `0${sortDigits(n)}`;
  });
  return `${numbers}-${labels.join(' ')}`;
}
