import type { BlobContent, BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase, PackageRecord } from '../db/database.js';
import { identityKey, type PackageIdentityKey } from '../nuget/identity.js';
import { lowerId as toLowerId, isValidPackageId } from '../nuget/id.js';
import { compareVersions, parseVersion, type NuGetVersion } from '../nuget/version.js';
import type { VersionAdvisories } from './advisories.js';
import type { FeedEvents } from './events.js';
import { viewOf, type PackageVersionView } from './stored-metadata.js';

/** A version of an id with its parsed version, for sorting and filtering. */
export interface SortedVersion extends PackageVersionView {
  readonly parsed: NuGetVersion;
  /** What an upstream says about this version (deprecation, advisories), for versions that come from one. */
  readonly upstreamAdvisories?: VersionAdvisories | undefined;
}

/** A package version without its metadata: what serving its files needs. */
export type PackageFile = Omit<PackageRecord, 'metadata'>;

/** Ids whose files' records stay cached; a few hundred bytes each, dropped when the id changes. */
const CACHED_IDS = 20_000;

/** Read-side use cases: what versions exist, and the files of one. */
export class PackageReader {
  /** lowerId → lowerVersion → file record, least recently used id first. */
  private readonly files = new Map<string, Map<string, PackageFile>>();

  constructor(
    private readonly db: PackageDatabase,
    private readonly blobs: BlobStore,
    events: FeedEvents,
  ) {
    events.onPackageChanged((lowerId) => this.files.delete(lowerId));
  }

  /**
   * The file record of one version, from memory when seen before: the download path makes no database query for
   * packages it served recently.
   */
  async findFile(id: string, version: string): Promise<PackageFile | null> {
    const key = lookupKey(id, version);
    if (!key) return null;
    let versions = this.files.get(key.lowerId);
    const cached = versions?.get(key.lowerVersion);
    if (cached) {
      this.files.delete(key.lowerId);
      this.files.set(key.lowerId, versions!);
      return cached;
    }
    const record = await this.db.getPackage(key.lowerId, key.lowerVersion);
    if (!record) return null;
    const { metadata: _metadata, ...file } = record;
    versions = this.files.get(key.lowerId) ?? new Map();
    versions.set(key.lowerVersion, file);
    this.files.delete(key.lowerId);
    this.files.set(key.lowerId, versions);
    if (this.files.size > CACHED_IDS) this.files.delete(this.files.keys().next().value!);
    return file;
  }

  /** Every version of an id (listed or not), ascending in NuGet order; empty for unknown or invalid ids. */
  async versions(id: string): Promise<SortedVersion[]> {
    if (!isValidPackageId(id)) return [];
    const records = await this.db.listVersions(toLowerId(id));
    return records
      .map((r) => ({ ...viewOf(r), parsed: parseVersion(r.fullVersion)! }))
      .sort((a, b) => compareVersions(a.parsed, b.parsed));
  }

  /** One version by id and version text in any accepted form (`1.0` finds `1.0.0`); null when unknown. */
  async find(id: string, version: string): Promise<PackageRecord | null> {
    const key = lookupKey(id, version);
    return key ? this.db.getPackage(key.lowerId, key.lowerVersion) : null;
  }

  async nuspec(id: string, version: string): Promise<Buffer | null> {
    const key = lookupKey(id, version);
    return key ? this.db.getNuspec(key.lowerId, key.lowerVersion) : null;
  }

  async open(record: PackageFile): Promise<BlobContent | null> {
    return this.blobs.open(record.blobKey);
  }

  /** Where the client may fetch the file directly (a presigned object-store URL), when storage is set up for it. */
  async redirectUrl(record: PackageFile): Promise<string | null> {
    return (await this.blobs.redirectUrl?.(record.blobKey)) ?? null;
  }
}

function lookupKey(id: string, version: string): PackageIdentityKey | null {
  const parsed = parseVersion(version);
  return parsed && isValidPackageId(id) ? identityKey(id, parsed) : null;
}
