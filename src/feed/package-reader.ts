import type { BlobContent, BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase, PackageRecord } from '../db/database.js';
import { identityKey, type PackageIdentityKey } from '../nuget/identity.js';
import { lowerId as toLowerId, isValidPackageId } from '../nuget/id.js';
import { compareVersions, parseVersion, type NuGetVersion } from '../nuget/version.js';
import { viewOf, type PackageVersionView } from './stored-metadata.js';

/** A version of an id with its parsed version, for sorting and filtering. */
export interface SortedVersion extends PackageVersionView {
  readonly parsed: NuGetVersion;
}

/** Read-side use cases: what versions exist, and the files of one. */
export class PackageReader {
  constructor(
    private readonly db: PackageDatabase,
    private readonly blobs: BlobStore,
  ) {}

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

  async open(record: PackageRecord): Promise<BlobContent | null> {
    return this.blobs.open(record.blobKey);
  }

  /** Where the client may fetch the file directly (a presigned object-store URL), when storage is set up for it. */
  async redirectUrl(record: PackageRecord): Promise<string | null> {
    return (await this.blobs.redirectUrl?.(record.blobKey)) ?? null;
  }
}

function lookupKey(id: string, version: string): PackageIdentityKey | null {
  const parsed = parseVersion(version);
  return parsed && isValidPackageId(id) ? identityKey(id, parsed) : null;
}
