/**
 * Merged search (docs/UPSTREAMS.md): pure functions that put upstream search answers behind the local ones. No I/O.
 */
import { identityKey } from '../../nuget/identity.js';
import { isValidPackageId, lowerId as toLowerId } from '../../nuget/id.js';
import { compareVersions, fullVersion, isPrerelease, isSemVer2, lowerNormalizedVersion, parseVersion, type NuGetVersion } from '../../nuget/version.js';
import type { SearchFilter, SearchResultPackage, SearchResultVersion } from '../search/search-index.js';
import type { UpstreamSearchHit } from './client.js';

/** What one upstream answered for the merged window, in the configured order of upstreams. */
export interface UpstreamAnswer<T> {
  readonly upstream: string;
  readonly totalHits: number;
  readonly items: readonly T[];
}

export interface MergedPage<T> {
  readonly totalHits: number;
  readonly items: T[];
}

/**
 * One page of local results followed by upstream hits: the merged list is every local match, then the upstreams'
 * hits in configured order, leaving out ids `keep` refuses (ids this feed has, ids an upstream may not show) and ids
 * already seen. `local` is the local page for this `skip`/`take`; each upstream answer is its first `skip + take` hits.
 * `totalHits` adds the upstreams' totals to the local one, less the hits seen to be dropped.
 *
 * @example mergePages(0, 2, { totalHits: 1, items: ['A'] }, [{ upstream: 'u', totalHits: 2, items: ['a', 'B'] }], (x) => x, (_, id) => id !== 'a')
 * // { totalHits: 2, items: ['A', 'B'] }
 */
export function mergePages<T>(
  skip: number,
  take: number,
  local: MergedPage<T>,
  upstream: readonly UpstreamAnswer<T>[],
  idOf: (item: T) => string,
  keep: (upstream: string, id: string) => boolean,
): MergedPage<T> {
  const seen = new Set<string>();
  const extra: T[] = [];
  let dropped = 0;
  let upstreamTotal = 0;
  for (const answer of upstream) {
    upstreamTotal += answer.totalHits;
    for (const item of answer.items) {
      const id = idOf(item);
      const lid = toLowerId(id);
      if (seen.has(lid) || !keep(answer.upstream, id)) {
        dropped++;
        continue;
      }
      seen.add(lid);
      extra.push(item);
    }
  }
  // Merged positions at or past the local total are upstream hits.
  const from = Math.max(0, skip - local.totalHits);
  const to = Math.max(0, skip + take - local.totalHits);
  const items = [...local.items, ...extra.slice(from, to)].slice(0, take);
  return { totalHits: local.totalHits + Math.max(extra.length, upstreamTotal - dropped), items };
}

/** Whether a version may be shown under a filter (prerelease, SemVer 2.0.0); the upstream was asked the same. */
function visible(v: NuGetVersion, filter: Pick<SearchFilter, 'prerelease' | 'semVer2'>): boolean {
  return (filter.prerelease || !isPrerelease(v)) && (filter.semVer2 || !isSemVer2(v));
}

const list = (v: string | string[] | null | undefined): string[] =>
  v == null ? [] : Array.isArray(v) ? v : v.split(/[\s,;]+/).filter((t) => t.length > 0);

/**
 * An upstream search hit as a local result, marked with its upstream; null when its id or version is unusable or
 * its version is one the filter hides (an upstream that ignored `prerelease` or `semVerLevel`).
 */
export function toSearchResult(
  upstream: string,
  hit: UpstreamSearchHit,
  filter: Pick<SearchFilter, 'prerelease' | 'semVer2'>,
): SearchResultPackage | null {
  const parsed = parseVersion(hit.version);
  if (!parsed || !isValidPackageId(hit.id) || !visible(parsed, filter)) return null;
  const key = identityKey(hit.id, parsed);
  const versions: SearchResultVersion[] = [];
  for (const v of hit.versions ?? []) {
    const p = parseVersion(v.version);
    if (!p || !visible(p, filter)) continue;
    versions.push({ version: fullVersion(p), lowerVersion: lowerNormalizedVersion(p), downloads: v.downloads ?? 0 });
  }
  return {
    id: hit.id,
    lowerId: key.lowerId,
    version: fullVersion(parsed),
    lowerVersion: key.lowerVersion,
    title: hit.title ?? '',
    description: hit.description ?? '',
    summary: hit.summary ?? '',
    tags: list(hit.tags),
    authors: list(hit.authors),
    owners: list(hit.owners),
    // The upstream's URL as it gives it (nuget.org's points at its own copy of an embedded icon).
    iconUrl: hit.iconUrl ?? null,
    embeddedIcon: false,
    licenseUrl: hit.licenseUrl ?? null,
    licenseExpression: hit.licenseExpression ?? null,
    projectUrl: hit.projectUrl ?? null,
    packageTypes: hit.packageTypes?.length ? hit.packageTypes.map((t) => t.name) : ['Dependency'],
    totalDownloads: hit.totalDownloads ?? 0,
    versions,
    mirroredFrom: upstream,
  };
}

/** The versions the upstreams list for an id, each once, filtered and in NuGet order (full version strings). */
export function mergeVersionLists(answers: readonly (readonly string[])[], filter: Pick<SearchFilter, 'prerelease' | 'semVer2'>): string[] {
  const byKey = new Map<string, NuGetVersion>();
  for (const list of answers) {
    for (const text of list) {
      const v = parseVersion(text);
      if (!v || !visible(v, filter)) continue;
      const key = lowerNormalizedVersion(v);
      if (!byKey.has(key)) byKey.set(key, v);
    }
  }
  return [...byKey.values()].sort(compareVersions).map(fullVersion);
}
