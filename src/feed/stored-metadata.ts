import type { PackageRecord } from '../db/database.js';
import { fullVersion } from '../nuget/version.js';
import type { PackageMetadata } from '../package/metadata.js';
import type { PackageSignatureInfo } from '../signing/signature-info.js';

/**
 * PackageMetadata as kept in the database: the version as its full string instead of the parsed object, and who
 * signed the package when its signature was verified at ingestion.
 */
export type StoredMetadata = Omit<PackageMetadata, 'version'> & { readonly version: string; readonly signature?: PackageSignatureInfo };

export function toStoredMetadata(m: PackageMetadata, signature?: PackageSignatureInfo): string {
  const stored: StoredMetadata = { ...m, version: fullVersion(m.version), ...(signature ? { signature } : {}) };
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
