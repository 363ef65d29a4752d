import {
  checkAdvisoryUrl,
  normalizeVulnerableRange,
  parseAlternate,
  parseDeprecationReason,
  parseSeverity,
  type Deprecation,
  type DeprecationReason,
  type Vulnerability,
} from '../../nuget/advisory.js';
import type { VersionAdvisories } from '../advisories.js';
import type { UpstreamCatalogEntry } from './client.js';

const MAX_MESSAGE = 4000;

/** Runs `read`; what it cannot read (it throws) is left out. */
function orNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

/**
 * What an upstream's catalog entry says about its version: the deprecation and the advisories, as checked as ours
 * (unknown reasons, non-http links and unreadable ranges are left out). Undefined when it says nothing usable.
 */
export function catalogEntryAdvisories(e: UpstreamCatalogEntry, version: string): VersionAdvisories | undefined {
  let deprecation: Deprecation | null = null;
  const reasons = (e.deprecation?.reasons ?? []).map(parseDeprecationReason).filter((r): r is DeprecationReason => r !== null);
  if (e.deprecation && reasons.length) {
    const alt = e.deprecation.alternatePackage;
    deprecation = {
      reasons: [...new Set(reasons)],
      message: e.deprecation.message?.slice(0, MAX_MESSAGE) || null,
      alternate: alt ? orNull(() => parseAlternate(alt.range && alt.range !== '*' ? `${alt.id}@${alt.range}` : alt.id)) : null,
    };
  }
  const vulnerabilities = (e.vulnerabilities ?? []).flatMap((v) => {
    const severity = parseSeverity(v.severity);
    const url = orNull(() => checkAdvisoryUrl(v.advisoryUrl));
    return severity === null || url === null ? [] : [{ url, severity, versions: `[${version}]` }];
  });
  return deprecation || vulnerabilities.length ? { deprecation, vulnerabilities } : undefined;
}

/** The entries of one id in an upstream's VulnerabilityInfo data file that read as ours would. */
export function vulnerabilityEntries(raw: readonly unknown[]): Vulnerability[] {
  return raw.flatMap((item) => {
    if (typeof item !== 'object' || item === null) return [];
    const { url, severity, versions } = item as Record<string, unknown>;
    if (typeof url !== 'string' || typeof versions !== 'string' || (typeof severity !== 'number' && typeof severity !== 'string')) return [];
    const s = parseSeverity(severity);
    const checkedUrl = orNull(() => checkAdvisoryUrl(url));
    const range = orNull(() => normalizeVulnerableRange(versions));
    return s === null || checkedUrl === null || range === null ? [] : [{ url: checkedUrl, severity: s, versions: range }];
  });
}
