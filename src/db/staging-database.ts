import type { FeedUsage, PackageIdentity } from './database.js';
import type { NewSymbolPackage } from './symbol-database.js';

/** What is staged: a package (.nupkg) or the symbols package (.snupkg) of a staged package. */
export type StagedKind = 'package' | 'symbols';

/**
 * Stored statuses. Validation runs while the upload request waits, so an artifact is stored `ready` or not at all
 * (`validationFailed` is never stored); `promoting`, `succeeded` and `promotionFailed` belong to promotion.
 */
export type StagedStatus = 'ready' | 'promoting' | 'succeeded' | 'promotionFailed';

export interface NewStagedArtifact {
  readonly kind: StagedKind;
  readonly id: string;
  readonly lowerId: string;
  /** Normalized version. */
  readonly version: string;
  readonly lowerVersion: string;
  readonly fullVersion: string;
  /** The version as the nuspec writes it (what a published row keeps); null for rows staged before it was kept. */
  readonly originalVersion: string | null;
  readonly owner: string;
  readonly lowerGroupId: string | null;
  readonly status: StagedStatus;
  readonly listed: boolean;
  readonly size: number;
  readonly sha512: string;
  readonly blobKey: string;
  readonly metadata: string;
  readonly nuspec: Uint8Array | null;
  readonly uploaded: string;
  readonly validated: string | null;
  readonly expires: string;
}

/** A staged artifact as read, with what its blockers are computed from. */
export interface StagedArtifactRecord extends NewStagedArtifact {
  /** The same id and version is published on the feed (a package row exists). */
  readonly published: boolean;
  /** For symbols: whether the package they belong to is staged (unexpired). Always true for packages. */
  readonly hasParent: boolean;
}

export interface StagingGroupRecord {
  readonly owner: string;
  readonly lowerGroupId: string;
  readonly groupId: string;
  readonly name: string;
  readonly created: string;
  readonly expires: string;
  /** Unexpired member artifacts. */
  readonly itemCount: number;
  /** Members that cannot be promoted (published meanwhile, symbols without their package). */
  readonly blockedCount: number;
}

/** Which artifacts a list shows. */
export interface ArtifactFilter {
  readonly kind?: StagedKind;
  /** Only these owners' artifacts; null: every owner's (admins). */
  readonly owners: readonly string[] | null;
  /** Only the members of this group. */
  readonly group?: { readonly owner: string; readonly lowerGroupId: string };
}

export interface Page<T> {
  readonly items: T[];
  readonly totalCount: number;
}

/** A staged package on its way into the feed's packages. */
export interface PromotedStagedPackage extends PackageIdentity {
  /** The staged bytes that were checked: a package staged again meanwhile is not promoted. */
  readonly sha512: string;
  readonly originalVersion: string;
  readonly isPrerelease: boolean;
  readonly isSemVer2: boolean;
  /** Who owns the id once promoted, when the feed has not registered it yet. */
  readonly claimOwners: readonly string[];
  /** Its staged symbols as published rows (their PDBs already stored), or null. */
  readonly symbols: NewSymbolPackage | null;
}

export interface StagedPromotion {
  readonly owner: string;
  /** The group promoted (it goes with its members); null when one package is. */
  readonly lowerGroupId: string | null;
  readonly packages: readonly PromotedStagedPackage[];
  /** The published time of every package: the promotion's. */
  readonly published: string;
}

/** What {@link StagingDatabase.promote} did: all of it, or nothing (and why). */
export type StagedPromotionOutcome =
  | { readonly status: 'promoted' }
  /** These versions were published meanwhile. */
  | { readonly status: 'conflict'; readonly identities: readonly PackageIdentity[] }
  /** What is staged changed meanwhile (staged again, deleted, expired, or the group's members changed). */
  | { readonly status: 'changed'; readonly identities: readonly PackageIdentity[] };

/**
 * One feed's staged artifacts and groups (kysely-staging-database.ts). Every read skips what has expired at `now`:
 * expired artifacts are gone for callers before the sweep removes them.
 */
export interface StagingDatabase {
  getArtifact(kind: StagedKind, lowerId: string, lowerVersion: string, now: string): Promise<StagedArtifactRecord | null>;
  /**
   * Stores an artifact, replacing the one with the same identity (an expired one too); returns the replaced one's blob
   * key, or null when there was none. `inserted` is false when a concurrent staging of the identity won.
   */
  putArtifact(row: NewStagedArtifact): Promise<{ readonly inserted: boolean; readonly previousBlobKey: string | null }>;
  /** Removes an artifact (expired or not); returns its blob key, or null when there was none. */
  deleteArtifact(kind: StagedKind, lowerId: string, lowerVersion: string): Promise<string | null>;
  listArtifacts(filter: ArtifactFilter, now: string, offset: number, limit: number): Promise<Page<StagedArtifactRecord>>;
  /** Puts both artifacts of an identity (package and symbols) into a group of their owner, or out of any (null). */
  setGroup(lowerId: string, lowerVersion: string, lowerGroupId: string | null): Promise<void>;
  /** Extends an identity's artifacts' expiry. */
  setExpiry(lowerId: string, lowerVersion: string, expires: string): Promise<void>;

  getGroup(owner: string, lowerGroupId: string, now: string): Promise<StagingGroupRecord | null>;
  /** Groups of these owners (null: every owner's), ordered by owner and id. */
  findGroups(owners: readonly string[] | null, lowerGroupId: string, now: string): Promise<StagingGroupRecord[]>;
  listGroups(owners: readonly string[] | null, now: string, offset: number, limit: number): Promise<Page<StagingGroupRecord>>;
  /** How many unexpired groups the owner has. */
  countGroups(owner: string, now: string): Promise<number>;
  /** Creates a group; false when the owner has one with that id already (an expired one is replaced). */
  createGroup(group: Omit<StagingGroupRecord, 'itemCount' | 'blockedCount'>, now: string): Promise<boolean>;
  renameGroup(owner: string, lowerGroupId: string, name: string): Promise<void>;
  setGroupExpiry(owner: string, lowerGroupId: string, expires: string): Promise<void>;
  /** Deletes a group and its members; returns the members' blob keys. */
  deleteGroup(owner: string, lowerGroupId: string): Promise<string[]>;

  /** Staged packages and their bytes (symbols do not count, as for published packages), expired or not. */
  usage(): Promise<FeedUsage>;

  /**
   * Promotion's one transaction: each staged package becomes a package row (its nuspec and metadata copied inside the
   * database), with its symbols, published at the promotion time; new ids are registered; the staged rows (and the
   * group) go; a change row per id tells every node. All of it, or nothing.
   */
  promote(promotion: StagedPromotion): Promise<StagedPromotionOutcome>;

  /** How many unexpired packages (not symbols) a group holds. */
  countGroupPackages(owner: string, lowerGroupId: string, now: string): Promise<number>;
  /** How many unexpired packages (not symbols) the owner has staged, in groups or not. */
  countOwnerPackages(owner: string, now: string): Promise<number>;

  /**
   * A group's preview feed (feed/staging-preview.ts): its unexpired staged packages (with metadata and nuspec) whose
   * lower-case id is one of `lowerIds`; null when the owner has no such group now.
   */
  previewPackages(owner: string, lowerGroupId: string, lowerIds: readonly string[], now: string): Promise<StagedArtifactRecord[] | null>;
}

/** An artifact the sweep removed or warned of, with the feed it belongs to (its webhooks hear of it). */
export interface SweptArtifact {
  readonly feedId: number;
  readonly kind: StagedKind;
  readonly id: string;
  readonly fullVersion: string;
  readonly owner: string;
  /** Its group's id as created, or null when ungrouped. */
  readonly groupId: string | null;
  readonly expires: string;
  readonly blobKey: string;
}

/** The sweep's side: expired artifacts and groups of every feed. */
export interface StagingSweepDatabase {
  /**
   * Removes artifacts expired at `now`, and groups expired with no member left; returns the artifacts removed. With
   * several nodes sweeping at once, each artifact is returned to the one whose delete removed it.
   */
  deleteExpired(now: string): Promise<SweptArtifact[]>;
  /**
   * Marks the artifacts that expire after `now` and by `before` and were not yet warned of as warned; returns them, to
   * one caller only (a conditional update).
   */
  claimExpiryWarnings(now: string, before: string): Promise<SweptArtifact[]>;
}
