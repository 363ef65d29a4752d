import type { NewSymbolPackage } from './symbol-database.js';

/** A package version as the database holds it. */
export interface PackageRecord {
  readonly id: string;
  readonly lowerId: string;
  readonly version: string;
  readonly lowerVersion: string;
  readonly fullVersion: string;
  readonly originalVersion: string;
  readonly isPrerelease: boolean;
  readonly isSemVer2: boolean;
  readonly listed: boolean;
  readonly published: string;
  readonly size: number;
  readonly sha512: string;
  readonly blobKey: string;
  /** PackageMetadata as stored (JSON text); parsed by the feed layer. */
  readonly metadata: string;
  /**
   * The upstream (service index URL) a mirrored version was fetched from; absent for pushed packages
   * (docs/UPSTREAMS.md). Written in the same transaction as the row, so a visible mirrored row is always marked.
   */
  readonly mirroredFrom?: string;
}

export interface NewPackage extends PackageRecord {
  readonly nuspec: Buffer;
}

/** What one feed holds, as its quota counts it (docs/FEEDS.md, Quotas). */
export interface FeedUsage {
  /** Package versions, listed or not, pushed, promoted or mirrored. */
  readonly packages: number;
  /** Sum of their .nupkg sizes. */
  readonly bytes: number;
}

/** A package version of another feed to be promoted into this one; its file is already stored under `blobKey`. */
export interface PromotedPackage {
  readonly lowerId: string;
  readonly lowerVersion: string;
  /** The source row's SHA-512: the bytes that were copied (a source row replaced since is not promoted). */
  readonly sha512: string;
  /** Where the copy of the file is, in this feed. */
  readonly blobKey: string;
  readonly published: string;
  /** Its symbols, with their files already stored under this feed's keys; null when it has none. */
  readonly symbols: NewSymbolPackage | null;
}

/** An id and version, as a promotion's outcome names them. */
export interface PackageIdentity {
  readonly lowerId: string;
  readonly lowerVersion: string;
}

/** What {@link PackageDatabase.promotePackages} did: all of them, or none (and why). */
export type PromotionOutcome =
  | { readonly status: 'promoted' }
  /** These versions are in this feed already (another writer won); nothing was written. */
  | { readonly status: 'conflict'; readonly identities: readonly PackageIdentity[] }
  /** These versions are gone from the source feed, or were replaced by other bytes; nothing was written. */
  | { readonly status: 'source-changed'; readonly identities: readonly PackageIdentity[] };

/** Downloads of one package version (counted in memory, added to the database in batches). */
export interface DownloadCount {
  readonly lowerId: string;
  readonly lowerVersion: string;
  readonly count: number;
}

/** A change of one id: pushes, overwrites, unlists, relists and deletes all record one. */
export interface Change {
  readonly seq: number;
  /** The feed the change happened in. */
  readonly feedId: number;
  readonly lowerId: string;
}

/**
 * The narrow interface every database backend implements (SQLite embedded, PostgreSQL for scale-out).
 * The database is the source of truth for what exists; uniqueness of (lowerId, lowerVersion) is enforced here.
 */
export interface PackageDatabase {
  /**
   * Inserts unless the identity exists; `false` means another push won. The row's `mirroredFrom` mark is written (or a
   * stale one cleared) only with a row that was inserted.
   */
  insertPackage(pkg: NewPackage): Promise<boolean>;
  /** Replaces an existing identity (overwrite mode) or inserts it, with its `mirroredFrom` mark; returns the replaced blob key, if any. */
  replacePackage(pkg: NewPackage): Promise<string | null>;
  getPackage(lowerId: string, lowerVersion: string): Promise<PackageRecord | null>;
  /**
   * Points a version at a new file of the same package (re-signing): size, hash, file key and metadata change, nothing
   * else; only while the row still has `expectedBlobKey` (a concurrent overwrite or delete wins). Returns whether it did.
   */
  replacePackageFile(
    lowerId: string,
    lowerVersion: string,
    expectedBlobKey: string,
    file: { readonly size: number; readonly sha512: string; readonly blobKey: string; readonly metadata: string },
  ): Promise<boolean>;
  getNuspec(lowerId: string, lowerVersion: string): Promise<Buffer | null>;
  /** Every package, in pages ordered by an opaque increasing cursor (start with 0); for copy and export. */
  scanPackages(after: number, limit: number): Promise<{ records: NewPackage[]; cursor: number }>;
  countPackages(): Promise<number>;
  /**
   * How many of the feed's packages carry a repository signature by each certificate (upper-case SHA-256) in their
   * stored metadata (`signature.repository.sha256`, written first), for RepositorySignatures and rotation.
   */
  countRepositorySigned(fingerprints: readonly string[]): Promise<Record<string, number>>;
  /** What the feed keeps, for quotas: its packages and its staged packages (one aggregate query each). */
  usage(): Promise<FeedUsage>;
  /**
   * Copies package versions of feed `fromFeedId` into this feed in one transaction: each row as the source has it
   * (nuspec, metadata, listed state, mirrored mark, deprecation) with the given file key and publish time, its symbols,
   * and the source's registration and owners of each id this feed has not registered. All of them become visible at
   * once, or none does: any version already here, or no longer in the source with the copied bytes, rolls back all.
   */
  promotePackages(fromFeedId: number, packages: readonly PromotedPackage[]): Promise<PromotionOutcome>;
  /** Every version of one id, listed or not, in no particular order. */
  listVersions(lowerId: string): Promise<PackageRecord[]>;
  /** Returns false when the package does not exist. */
  setListed(lowerId: string, lowerVersion: string, listed: boolean): Promise<boolean>;
  /** Removes the row (and its mirrored mark); returns its blob key, or null when it did not exist. */
  deletePackage(lowerId: string, lowerVersion: string): Promise<string | null>;
  /** The newest change sequence number (0 when none); the change log is the server's, across feeds. */
  latestChange(): Promise<number>;
  /** Changes after `seq`, oldest first: every mutation above records one in its own transaction. */
  changesSince(seq: number, limit: number): Promise<Change[]>;
  /** Drops change rows at or below `seq` (nodes only ever look a little way back). */
  pruneChanges(seq: number): Promise<void>;
  /**
   * Every package without its nuspec, ordered by (lowerId, lowerVersion), starting after `after` (null: from the
   * first): an id's versions come together, so the search index loads id by id in pages.
   */
  scanByIdentity(after: { lowerId: string; lowerVersion: string } | null, limit: number): Promise<PackageRecord[]>;
  /** Adds each count to its version's total (creating it), in one transaction. */
  addDownloadCounts(counts: readonly DownloadCount[]): Promise<void>;
  /** Sets each version's total to its count (creating it), in one statement: copying a feed twice does not add up. */
  setDownloadCounts(counts: readonly DownloadCount[]): Promise<void>;
  /** Download totals of one id's versions, or of every version when no id is given. */
  listDownloadCounts(lowerId?: string): Promise<DownloadCount[]>;
  /** Throws when the database cannot be reached (readiness checks). */
  ping(): Promise<void>;
  /** Whether some row (a package or a staged artifact) of any feed references this blob (orphan clean-up; blob keys carry their feed's prefix). */
  isBlobReferenced(blobKey: string): Promise<boolean>;
  close(): Promise<void>;
}
