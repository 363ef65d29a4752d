/**
 * NuGet version ranges, with the semantics of NuGet.Versioning's `VersionRange` (parsing with floating versions
 * allowed, `Satisfies`, `FindBestMatch`, `ToNormalizedString`, the legacy strings).
 *
 * Notation: `1.0` means `>= 1.0`; `[1.0]` exactly 1.0; `[1.0,2.0)`, `(,1.0]`, `(1.0,)` intervals; floating minimums
 * (`1.*`, `1.0.*-beta*`, `*`, `*-*`) choose the highest version in the floating part rather than the lowest.
 * Checked against NuGet itself by `test/unit/nuget/differential.test.ts`.
 */
import {
  compareVersions,
  dotnetTrim,
  isSemVer2,
  normalizeVersion,
  parseVersion,
  type NuGetVersion,
} from './version.js';

/** Which part of a floating version floats (`NuGetVersionFloatBehavior`). */
export type FloatBehavior =
  | 'none'
  | 'prerelease'
  | 'revision'
  | 'patch'
  | 'minor'
  | 'major'
  | 'absoluteLatest'
  | 'prereleaseRevision'
  | 'prereleasePatch'
  | 'prereleaseMinor'
  | 'prereleaseMajor';

/** The floating part of a range's minimum (`FloatRange`). */
export interface FloatRange {
  readonly behavior: FloatBehavior;
  /** The lowest version the float can choose, e.g. `1.0.0` for `1.*`, `1.0.0-beta` for `1.0.0-beta*`. */
  readonly minVersion: NuGetVersion;
  /** The release label prefix that prerelease floats match (`beta` for `1.0.0-beta*`); null when none. */
  readonly releasePrefix: string | null;
}

/** A parsed version range. Plain data; build with {@link parseRange}. */
export interface VersionRange {
  /** Lower bound, null when unbounded. */
  readonly minVersion: NuGetVersion | null;
  /** True when the lower bound exists and is included. */
  readonly isMinInclusive: boolean;
  /** Upper bound, null when unbounded. */
  readonly maxVersion: NuGetVersion | null;
  /** True when the upper bound exists and is included. */
  readonly isMaxInclusive: boolean;
  /** Floating behaviour of the minimum, null when the text had no `*`. */
  readonly float: FloatRange | null;
  /** The text as given. */
  readonly original: string;
}

/** `string.IsNullOrWhiteSpace` with .NET's idea of white space. */
function isBlank(text: string): boolean {
  return dotnetTrim(text).length === 0;
}

function countParts(text: string): number {
  return text.split('.').length;
}

function floatRange(behavior: FloatBehavior, minVersion: NuGetVersion, releasePrefix: string | null): FloatRange {
  // NuGet fills a missing prefix from the minimum's labels.
  const prefix = releasePrefix ?? (minVersion.releaseLabels.length > 0 ? minVersion.releaseLabels.join('.') : null);
  return { behavior, minVersion, releasePrefix: prefix };
}

const PRERELEASE_BY_PARTS: readonly FloatBehavior[] = [
  'none',
  'prereleaseMajor',
  'prereleaseMinor',
  'prereleasePatch',
  'prereleaseRevision',
];
const STABLE_BY_PARTS: readonly FloatBehavior[] = ['none', 'none', 'minor', 'patch', 'revision'];

/**
 * `FloatRange.TryParse`. NuGet turns the `*` into the lowest value it can stand for (`0` in a number or a numeric
 * label, an extra `-` after a label that ends in `-`) and parses the result as a version. Its rules are loose in
 * places we keep on purpose, for agreement: `1*` is the plain version `10`, and `1.2*` floats like `1.*` from `1.20`.
 *
 * @example parseFloatRange('1.0.*')?.behavior // 'patch'
 * @example parseFloatRange('1.0.0-beta*')?.releasePrefix // 'beta'
 */
export function parseFloatRange(text: string): FloatRange | null {
  if (isBlank(text)) return null;
  const firstStar = text.indexOf('*');
  const lastStar = text.lastIndexOf('*');
  const hasPlus = text.includes('+');
  if (text === '*') return floatRange('major', zeroVersion('0.0'), null);
  if (text === '*-*') return floatRange('absoluteLatest', zeroVersion('0.0.0-0'), '');

  if (firstStar !== lastStar && !hasPlus) {
    // Two stars: only `<stable>*-<prefix>*`, the first star right before the first dash, the last at the end.
    const dash = text.indexOf('-');
    if (dash < 0 || lastStar !== text.length - 1 || firstStar !== dash - 1) return null;
    const stable = `${text.slice(0, dash - 1)}0`;
    const behavior = PRERELEASE_BY_PARTS[countParts(stable)] ?? 'none';
    const prefix = text.slice(dash + 1, -1);
    const label = prefix.length === 0 || prefix.endsWith('.') ? `${prefix}0` : prefix;
    const version = parseVersion(`${stable}-${label}`);
    return version ? floatRange(behavior, version, prefix) : null;
  }

  if (lastStar === text.length - 1 && !hasPlus) {
    let actual = text.slice(0, -1);
    let behavior: FloatBehavior;
    let prefix: string | null = null;
    if (!text.includes('-')) {
      actual += '0';
      behavior = STABLE_BY_PARTS[countParts(actual)] ?? 'none';
    } else {
      behavior = 'prerelease';
      if (text.indexOf('-') === text.lastIndexOf('-')) {
        prefix = actual.slice(text.lastIndexOf('-') + 1);
        // An empty label is not valid; `0` is the lowest numeric label.
        if (prefix.length === 0 || actual.endsWith('.')) actual += '0';
        else if (actual.endsWith('-')) actual += '-';
      }
    }
    const version = parseVersion(actual);
    return version ? floatRange(behavior, version, prefix) : null;
  }

  const version = parseVersion(text);
  return version ? floatRange('none', version, null) : null;
}

function zeroVersion(text: string): NuGetVersion {
  const version = parseVersion(text);
  if (version === null) throw new Error(`unreachable: ${text}`);
  return version;
}

/**
 * Parses a range exactly as `VersionRange.TryParse(text, allowFloating: true)` does; `null` where NuGet answers
 * false.
 *
 * @example parseRange('[1.0,2.0)') // 1.0.0 <= v < 2.0.0
 * @example parseRange('1.0') // v >= 1.0.0 (a bare version is a minimum, not an exact match)
 * @example parseRange('(1.0]') // null: a single version needs both brackets inclusive
 */
export function parseRange(text: string): VersionRange | null {
  if (typeof text !== 'string') return null;
  const trimmed = dotnetTrim(text);
  if (trimmed.length === 0) return null;
  if (trimmed === '*') {
    return {
      minVersion: zeroVersion('0.0.0'),
      isMinInclusive: true,
      maxVersion: null,
      isMaxInclusive: false,
      float: parseFloatRange('*'),
      original: text,
    };
  }

  let minText: string;
  let maxText: string | null = null;
  let minInclusive = true;
  let maxInclusive = false;
  const open = trimmed[0];
  if (open === '[' || open === '(') {
    minInclusive = open === '[';
    const close = trimmed[trimmed.length - 1];
    if (close !== ']' && close !== ')') return null;
    maxInclusive = close === ']';
    const parts = trimmed.slice(1, -1).split(',');
    if (parts.length > 2 || parts.every((part) => part.length === 0)) return null;
    // A single version, `[1.0]`, must be inclusive on both sides.
    if (parts.length === 1 && !(minInclusive && maxInclusive)) return null;
    minText = parts[0] ?? '';
    maxText = parts.length === 2 ? (parts[1] ?? '') : minText;
  } else {
    minText = trimmed;
  }

  let minVersion: NuGetVersion | null = null;
  let maxVersion: NuGetVersion | null = null;
  let float: FloatRange | null = null;
  if (!isBlank(minText)) {
    if (minText.includes('*')) {
      float = parseFloatRange(minText);
      if (float === null) return null;
      minVersion = float.minVersion;
    } else {
      minVersion = parseVersion(minText);
      if (minVersion === null) return null;
    }
  }
  // The maximum never floats.
  if (maxText !== null && !isBlank(maxText)) {
    maxVersion = parseVersion(maxText);
    if (maxVersion === null) return null;
  }
  if (minVersion !== null && maxVersion !== null) {
    const order = compareVersions(minVersion, maxVersion);
    if (order > 0) return null;
    // (1.0, 1.0] and [1.0, 1.0) are empty and refused; (1.0, 1.0) is accepted (and matches nothing).
    if (order === 0 && minInclusive !== maxInclusive) return null;
  }
  return {
    minVersion,
    isMinInclusive: minVersion !== null && minInclusive,
    maxVersion,
    isMaxInclusive: maxVersion !== null && maxInclusive,
    float,
    original: text,
  };
}

/**
 * True when the range floats (its float behaviour is not `none`).
 * @example isFloating(parseRange('1.*')!) // true
 * @example isFloating(parseRange('[1.0, )')!) // false
 */
export function isFloating(r: VersionRange): boolean {
  return r.float !== null && r.float.behavior !== 'none';
}

/** `VersionComparer.Default.Equals`: like compare == 0, but labels must match one to one, ignoring case. */
function versionsEqual(a: NuGetVersion, b: NuGetVersion): boolean {
  if (a.major !== b.major || a.minor !== b.minor || a.patch !== b.patch || a.revision !== b.revision) return false;
  if (a.releaseLabels.length !== b.releaseLabels.length) return false;
  return a.releaseLabels.every((label, i) => label.toUpperCase() === b.releaseLabels[i]?.toUpperCase());
}

/** `V` format: the numeric part only. */
function numericPart(v: NuGetVersion): string {
  return `${v.major}.${v.minor}.${v.patch}${v.revision > 0 ? `.${v.revision}` : ''}`;
}

/**
 * `FloatRange.ToString()`: `1.*`, `1.0.0-beta*`, `1.*-rc*`, `*`, `*-*`, or the normalized minimum for `none`.
 * @example floatToString(parseFloatRange('1.0.*')!) // '1.0.*'
 */
export function floatToString(f: FloatRange): string {
  const v = f.minVersion;
  const prefix = f.releasePrefix ?? '';
  switch (f.behavior) {
    case 'none':
      return normalizeVersion(v);
    case 'prerelease':
      return `${numericPart(v)}-${prefix}*`;
    case 'revision':
      return `${v.major}.${v.minor}.${v.patch}.*`;
    case 'patch':
      return `${v.major}.${v.minor}.*`;
    case 'minor':
      return `${v.major}.*`;
    case 'major':
      return '*';
    case 'prereleaseRevision':
      return `${v.major}.${v.minor}.${v.patch}.*-${prefix}*`;
    case 'prereleasePatch':
      return `${v.major}.${v.minor}.*-${prefix}*`;
    case 'prereleaseMinor':
      return `${v.major}.*-${prefix}*`;
    case 'prereleaseMajor':
      return `*-${prefix}*`;
    case 'absoluteLatest':
      return '*-*';
  }
}

function interval(r: VersionRange, lower: string): string {
  const upper = r.maxVersion ? normalizeVersion(r.maxVersion) : '';
  return `${r.isMinInclusive ? '[' : '('}${lower}, ${upper}${r.isMaxInclusive ? ']' : ')'}`;
}

/**
 * `ToNormalizedString()`: always interval notation, floating minimums written as floats.
 *
 * @example normalizeRange(parseRange('1.0')!) // '[1.0.0, )'
 * @example normalizeRange(parseRange('[1.0]')!) // '[1.0.0, 1.0.0]'
 * @example normalizeRange(parseRange('1.*')!) // '[1.*, )'
 */
export function normalizeRange(r: VersionRange): string {
  let lower = '';
  if (r.minVersion !== null) lower = isFloating(r) && r.float ? floatToString(r.float) : normalizeVersion(r.minVersion);
  return interval(r, lower);
}

/**
 * `ToLegacyString()`: interval notation with the floating minimum written as its lowest version.
 * @example legacyRange(parseRange('1.*')!) // '[1.0.0, )'
 */
export function legacyRange(r: VersionRange): string {
  return interval(r, r.minVersion ? normalizeVersion(r.minVersion) : '');
}

/** The two short forms NuGet writes for `>= v` and `== v`; null when the range is neither. */
function shortForm(r: VersionRange): string | null {
  if (r.minVersion !== null && r.isMinInclusive && r.maxVersion === null) return normalizeVersion(r.minVersion);
  if (
    r.minVersion !== null &&
    r.maxVersion !== null &&
    r.isMinInclusive &&
    r.isMaxInclusive &&
    versionsEqual(r.minVersion, r.maxVersion)
  ) {
    return `[${normalizeVersion(r.minVersion)}]`;
  }
  return null;
}

/**
 * `ToLegacyShortString()`: what NuGet 2.x wrote in a nuspec (`1.0.0` for a minimum, `[1.0.0]` for an exact
 * version, interval notation otherwise; floats written as their lowest version).
 *
 * @example legacyShortRange(parseRange('[1.0,)')!) // '1.0.0'
 */
export function legacyShortRange(r: VersionRange): string {
  return shortForm(r) ?? legacyRange(r);
}

/**
 * `ToShortString()`: like {@link legacyShortRange}, but floats keep their `*` and other ranges are normalized.
 * @example shortRange(parseRange('1.0.*')!) // '1.0.*'
 */
export function shortRange(r: VersionRange): string {
  if (r.minVersion !== null && r.isMinInclusive && r.maxVersion === null && isFloating(r) && r.float) {
    return floatToString(r.float);
  }
  return shortForm(r) ?? normalizeRange(r);
}

/**
 * `VersionRange.Satisfies`: within the bounds, metadata ignored. Floats only widen which version is *best*, not
 * which versions satisfy: `1.*` is satisfied by `2.0.0` too.
 *
 * @example satisfies(parseRange('[1.0,2.0)')!, parseVersion('1.5')!) // true
 */
export function satisfies(r: VersionRange, v: NuGetVersion): boolean {
  if (r.minVersion !== null) {
    const order = compareVersions(r.minVersion, v);
    if (r.isMinInclusive ? order > 0 : order >= 0) return false;
  }
  if (r.maxVersion !== null) {
    const order = compareVersions(r.maxVersion, v);
    if (r.isMaxInclusive ? order < 0 : order <= 0) return false;
  }
  return true;
}

function startsWithIgnoreCase(text: string, prefix: string): boolean {
  return text.length >= prefix.length && text.slice(0, prefix.length).toUpperCase() === prefix.toUpperCase();
}

/**
 * `FloatRange.Satisfies`: is the version inside the floating part (e.g. `1.x` stable for `1.*`)?
 * @example floatSatisfies(parseFloatRange('1.*')!, parseVersion('1.5.0')!) // true
 */
export function floatSatisfies(f: FloatRange, v: NuGetVersion): boolean {
  const min = f.minVersion;
  const pre = v.releaseLabels.length > 0;
  // Prerelease floats take stable versions too, and prereleases whose label starts with the prefix.
  const labelOk = !pre || startsWithIgnoreCase(v.releaseLabels.join('.'), f.releasePrefix ?? '');
  switch (f.behavior) {
    case 'absoluteLatest':
      return true;
    case 'major':
      return !pre;
    case 'prereleaseRevision':
      return min.major === v.major && min.minor === v.minor && min.patch === v.patch && labelOk;
    case 'prereleasePatch':
      return min.major === v.major && min.minor === v.minor && labelOk;
    case 'prereleaseMinor':
      return min.major === v.major && labelOk;
    case 'prereleaseMajor':
      return labelOk;
    case 'prerelease':
      return (
        min.major === v.major &&
        min.minor === v.minor &&
        min.patch === v.patch &&
        min.revision === v.revision &&
        labelOk
      );
    case 'revision':
      return min.major === v.major && min.minor === v.minor && min.patch === v.patch && !pre;
    case 'patch':
      return min.major === v.major && min.minor === v.minor && !pre;
    case 'minor':
      return min.major === v.major && !pre;
    case 'none':
      return false;
  }
}

function hasPrereleaseBounds(r: VersionRange): boolean {
  return (r.minVersion?.releaseLabels.length ?? 0) > 0 || (r.maxVersion?.releaseLabels.length ?? 0) > 0;
}

/** `VersionRange.IsBetter`: should `considering` replace `current` as the best match? */
function isBetter(r: VersionRange, current: NuGetVersion | null, considering: NuGetVersion): boolean {
  if (current === considering) return false;
  // A range with only stable bounds takes prereleases only when it floats into them.
  const behavior = r.float?.behavior;
  if (
    !hasPrereleaseBounds(r) &&
    considering.releaseLabels.length > 0 &&
    behavior !== 'prerelease' &&
    behavior !== 'absoluteLatest'
  ) {
    return false;
  }
  if (!satisfies(r, considering)) return false;
  if (current === null) return true;
  if (isFloating(r) && r.float) {
    const currentIn = floatSatisfies(r.float, current);
    const consideringIn = floatSatisfies(r.float, considering);
    if (currentIn !== consideringIn) return consideringIn;
    if (currentIn) return compareVersions(current, considering) < 0;
    // Neither floats: prefer versions above the float, the lowest of them; below it, the highest.
    const currentBelow = compareVersions(current, r.float.minVersion) < 0;
    const consideringBelow = compareVersions(considering, r.float.minVersion) < 0;
    if (currentBelow !== consideringBelow) return currentBelow;
    return currentBelow ? compareVersions(current, considering) < 0 : compareVersions(current, considering) > 0;
  }
  // Without a float the lowest satisfying version wins (NuGet's "lowest applicable version" rule).
  return compareVersions(current, considering) > 0;
}

/**
 * `VersionRange.FindBestMatch`: the version a client resolving this range would pick from `versions`: the lowest
 * that satisfies, or for a float the highest inside the floating part. Of equal versions the first one listed wins.
 *
 * @example findBestMatch(parseRange('1.0')!, ['1.0.0', '1.1.0'].map(versionOf)) // 1.0.0
 * @example findBestMatch(parseRange('1.*')!, ['1.0.0', '1.1.0', '2.0.0'].map(versionOf)) // 1.1.0
 */
export function findBestMatch(r: VersionRange, versions: readonly NuGetVersion[]): NuGetVersion | null {
  let best: NuGetVersion | null = null;
  for (const version of versions) {
    if (isBetter(r, best, version)) best = version;
  }
  return best;
}

/**
 * True when a bound is a SemVer 2.0.0 version: a package depending on such a range is itself SemVer 2.0.0 and is
 * hidden from older clients (NuGetGallery's rule).
 *
 * @example rangeIsSemVer2(parseRange('[1.0.0-beta.1, )')!) // true
 */
export function rangeIsSemVer2(r: VersionRange): boolean {
  return (r.minVersion !== null && isSemVer2(r.minVersion)) || (r.maxVersion !== null && isSemVer2(r.maxVersion));
}
