/**
 * Deprecations and vulnerability advisories as NuGet models them: the reasons and severities nuget.org uses, how
 * registration and the VulnerabilityInfo resource spell them, and the checks their inputs get.
 */
import { isValidPackageId } from './id.js';
import { isFloating, normalizeRange, parseRange, satisfies } from './range.js';
import type { NuGetVersion } from './version.js';

/** nuget.org's deprecation reasons (registration `deprecation.reasons`). */
export const DEPRECATION_REASONS = ['Legacy', 'CriticalBugs', 'Other'] as const;
export type DeprecationReason = (typeof DEPRECATION_REASONS)[number];

/** Severities as VulnerabilityInfo numbers them (0 low … 3 critical); registration spells them as strings. */
export const SEVERITY_NAMES = ['low', 'moderate', 'high', 'critical'] as const;
export type Severity = 0 | 1 | 2 | 3;

/** A package that replaces a deprecated one; `range` null means any version. */
export interface AlternatePackage {
  readonly id: string;
  readonly range: string | null;
}

export interface Deprecation {
  readonly reasons: readonly DeprecationReason[];
  readonly message: string | null;
  readonly alternate: AlternatePackage | null;
}

/** A known vulnerability of the versions of an id within a range. */
export interface Vulnerability {
  readonly url: string;
  readonly severity: Severity;
  /** The vulnerable versions, as a normalized NuGet range. */
  readonly versions: string;
}

export const MAX_DEPRECATION_MESSAGE = 4000;
export const MAX_ADVISORY_URL = 2000;

/** `legacy`, `Legacy`, `critical-bugs`, `CriticalBugs` … → the reason; null when it is none of them. */
export function parseDeprecationReason(text: string): DeprecationReason | null {
  const key = text.replace(/[-_\s]/g, '').toLowerCase();
  return DEPRECATION_REASONS.find((r) => r.toLowerCase() === key) ?? null;
}

/** `high`, `High`, `2`, `medium` (GitHub's word for moderate) … → the severity; null when it is none of them. */
export function parseSeverity(text: string | number): Severity | null {
  const t = String(text).trim().toLowerCase();
  if (/^[0-3]$/.test(t)) return Number(t) as Severity;
  const i = SEVERITY_NAMES.indexOf((t === 'medium' ? 'moderate' : t) as (typeof SEVERITY_NAMES)[number]);
  return i < 0 ? null : (i as Severity);
}

export const severityName = (s: Severity): string => SEVERITY_NAMES[s];

/**
 * A vulnerable-versions range as stored and served: parsed by NuGet's rules and normalized; floating ranges are
 * refused (a vulnerability covers fixed versions). Throws a message naming the problem.
 */
export function normalizeVulnerableRange(text: string): string {
  const parsed = parseRange(text.trim());
  if (!parsed) throw new Error(`"${text}" is not a NuGet version range, e.g. "[1.0.0, 2.0.3)" or "(, 1.4.2]"`);
  if (isFloating(parsed)) throw new Error(`"${text}" floats; name the vulnerable versions, e.g. "[1.0.0, 2.0.3)"`);
  return normalizeRange(parsed);
}

/** Whether a version is in a stored (normalized) vulnerable range. */
export function isVulnerable(v: Vulnerability, version: NuGetVersion): boolean {
  const range = parseRange(v.versions);
  return range !== null && satisfies(range, version);
}

/** An advisory link must be an absolute http(s) URL: clients show it and open it. */
export function checkAdvisoryUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`"${text}" is not an http(s) URL`);
  if (text.length > MAX_ADVISORY_URL) throw new Error(`the URL is longer than ${MAX_ADVISORY_URL} characters`);
  return url.href;
}

/**
 * `Id` or `Id@RANGE` → the alternate package; throws a message naming the problem.
 * @example parseAlternate('Contoso.Http@[2.0.0, )') // { id: 'Contoso.Http', range: '[2.0.0, )' }
 */
export function parseAlternate(text: string): AlternatePackage {
  const at = text.indexOf('@');
  const id = (at < 0 ? text : text.slice(0, at)).trim();
  const rangeText = at < 0 ? '' : text.slice(at + 1).trim();
  if (!isValidPackageId(id)) throw new Error(`"${id}" is not a valid package id`);
  if (!rangeText || rangeText === '*') return { id, range: null };
  const parsed = parseRange(rangeText);
  if (!parsed) throw new Error(`"${rangeText}" is not a NuGet version range`);
  return { id, range: normalizeRange(parsed) };
}
