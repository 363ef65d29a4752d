import type { PackageRecord } from '../db/database.js';
import { fullVersion } from '../nuget/version.js';
import type { PackageMetadata } from '../package/metadata.js';

/** PackageMetadata as kept in the database: the version as its full string instead of the parsed object. */
export type StoredMetadata = Omit<PackageMetadata, 'version'> & { readonly version: string };

export function toStoredMetadata(m: PackageMetadata): string {
  const stored: StoredMetadata = { ...m, version: fullVersion(m.version) };
  return JSON.stringify(stored);
}

/** A stored package version with its metadata parsed, as the read side uses it. */
export interface PackageVersionView {
  readonly record: PackageRecord;
  readonly metadata: StoredMetadata;
}

export function viewOf(record: PackageRecord): PackageVersionView {
  return { record, metadata: JSON.parse(record.metadata) as StoredMetadata };
}
