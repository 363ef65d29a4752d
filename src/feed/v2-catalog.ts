import type { PackageDatabase } from '../db/database.js';
import { lowerId as toLowerId, isValidPackageId } from '../nuget/id.js';
import type { FeedEvents } from './events.js';
import type { PackageReader, SortedVersion } from './package-reader.js';

/**
 * One id as the V2 (OData) feed reads it: every version (listed or not) in NuGet order, with download counts.
 * The same rows, flags and ordering the V3 resources use (PackageReader); only the shape differs.
 */
export interface V2PackageId {
  readonly lowerId: string;
  /** Every version, ascending in NuGet order. */
  readonly versions: readonly SortedVersion[];
  /** Downloads per lower-case normalized version. */
  readonly downloads: ReadonlyMap<string, number>;
  /** Downloads of every version. */
  readonly totalDownloads: number;
}

/** A version together with the facts V2 entries state about it under one request's SemVer level. */
export interface V2Package {
  readonly view: SortedVersion;
  readonly versionDownloads: number;
  readonly totalDownloads: number;
  /** The newest listed stable version the request may see. */
  readonly isLatestVersion: boolean;
  /** The newest listed version (prerelease or not) the request may see. */
  readonly isAbsoluteLatestVersion: boolean;
}

/**
 * Visibility under a request's SemVer level: clients that do not send `semVerLevel=2.0.0` never see SemVer 2.0.0
 * versions, as in the plain registration hives; the latest flags are computed among the visible listed versions.
 *
 * @example v2Packages(id, { semVer2: false }).filter((p) => p.isLatestVersion)
 */
export function v2Packages(id: V2PackageId, opts: { readonly semVer2: boolean }): V2Package[] {
  const visible = opts.semVer2 ? id.versions : id.versions.filter((v) => !v.record.isSemVer2);
  let latest: SortedVersion | undefined;
  let absoluteLatest: SortedVersion | undefined;
  for (const v of visible) {
    if (!v.record.listed) continue;
    absoluteLatest = v;
    if (!v.record.isPrerelease) latest = v;
  }
  return visible.map((view) => ({
    view,
    versionDownloads: id.downloads.get(view.record.lowerVersion) ?? 0,
    totalDownloads: id.totalDownloads,
    isLatestVersion: view === latest,
    isAbsoluteLatestVersion: view === absoluteLatest,
  }));
}

export interface V2CatalogOptions {
  /** Ids whose versions are kept in memory (least recently used go first). */
  readonly maxIds?: number;
}

/**
 * Reads ids for the V2 feed: the versions (one indexed query, cached per id until the feed announces a change of it,
 * local or from another node) and their download counts (one indexed query, never cached: counts change without a
 * package changing).
 */
export class V2Catalog {
  private readonly cache = new Map<string, Promise<SortedVersion[]>>();
  private readonly maxIds: number;

  constructor(
    private readonly reader: PackageReader,
    private readonly counts: Pick<PackageDatabase, 'listDownloadCounts'>,
    events: FeedEvents,
    opts: V2CatalogOptions = {},
  ) {
    this.maxIds = opts.maxIds ?? 1000;
    events.onPackageChanged((lowerId) => this.cache.delete(lowerId));
  }

  /** An id with its versions; null when the feed has no version of it (or the id is not a valid id). */
  async get(id: string): Promise<V2PackageId | null> {
    if (!isValidPackageId(id)) return null;
    const lowerId = toLowerId(id);
    const [versions, counts] = await Promise.all([this.versions(lowerId), this.counts.listDownloadCounts(lowerId)]);
    if (versions.length === 0) return null;
    const downloads = new Map(counts.map((c) => [c.lowerVersion, c.count]));
    let totalDownloads = 0;
    for (const v of versions) totalDownloads += downloads.get(v.record.lowerVersion) ?? 0;
    return { lowerId, versions, downloads, totalDownloads };
  }

  private versions(lowerId: string): Promise<SortedVersion[]> {
    const hit = this.cache.get(lowerId);
    if (hit) {
      this.cache.delete(lowerId);
      this.cache.set(lowerId, hit);
      return hit;
    }
    const value = this.reader.versions(lowerId);
    this.cache.set(lowerId, value);
    // A failed read must not stay cached; nor a read that a change overtook (the event deleted it already).
    value.catch(() => {
      if (this.cache.get(lowerId) === value) this.cache.delete(lowerId);
    });
    while (this.cache.size > this.maxIds) this.cache.delete(this.cache.keys().next().value!);
    return value;
  }
}
