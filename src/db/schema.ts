import type { Generated } from 'kysely';

/** Table shapes as Kysely sees them; booleans are 0/1 integers so SQLite and PostgreSQL share one schema. */
export interface PackagesTable {
  key: Generated<number>;
  /** The feed the version is in (feeds.feed_id); 1 is the default feed. */
  feed_id: Generated<number>;
  id: string;
  lower_id: string;
  /** Normalized version (NuGet's ToNormalizedString), original case. */
  version: string;
  lower_version: string;
  /** Normalized version with build metadata (ToFullString): what clients display. */
  full_version: string;
  original_version: string;
  is_prerelease: number;
  is_semver2: number;
  listed: number;
  /** ISO 8601 UTC time of the push. */
  published: string;
  size: number;
  /** Base64 SHA-512 of the .nupkg, as NuGet's packageHash. */
  sha512: string;
  blob_key: string;
  /** PackageMetadata as JSON (the version as its full string). */
  metadata: string;
  nuspec: Uint8Array;
}

export interface ChangesTable {
  seq: Generated<number>;
  feed_id: Generated<number>;
  /** The id that changed, or a marker (`#access`, `#feeds`) for changes of other things. */
  lower_id: string;
}

/** Downloads per version; rows are only ever added to (`count = count + delta`), except by `pawket copy`, which sets them. */
export interface DownloadCountsTable {
  feed_id: Generated<number>;
  lower_id: string;
  lower_version: string;
  count: number;
}

/** The mark of a package row fetched from an upstream (upstream-migrations.ts); written with the row. */
export interface UpstreamPackagesTable {
  feed_id: Generated<number>;
  lower_id: string;
  lower_version: string;
  /** The upstream's service index URL. */
  upstream: string;
  mirrored_at: string;
}

/** A feed (feed-migrations.ts): its name, settings that differ from the configuration's, and a virtual feed's members. */
export interface FeedsTable {
  feed_id: Generated<number>;
  name: string;
  lower_name: string;
  description: Generated<string>;
  /** JSON object of setting overrides. */
  settings: Generated<string>;
  /** JSON array of member feed ids (virtual feeds), or null. */
  members: string | null;
  created: string;
}

export interface Tables {
  feeds: FeedsTable;
  packages: PackagesTable;
  download_counts: DownloadCountsTable;
  changes: ChangesTable;
  upstream_packages: UpstreamPackagesTable;
}
