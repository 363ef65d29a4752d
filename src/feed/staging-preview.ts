import type { BlobContent } from '../blobs/blob-store.js';
import type { PackageRecord } from '../db/database.js';
import type { StagedArtifactRecord, StagingDatabase } from '../db/staging-database.js';
import { isValidPackageId, lowerId as toLowerId, toLowerInvariant } from '../nuget/id.js';
import { identityKey } from '../nuget/identity.js';
import { compareVersions, isPrerelease, parseVersion } from '../nuget/version.js';
import type { PackageAccess } from './access.js';
import { ownersActedFor, type Principal } from './auth.js';
import type { PackageFile, PackageReader, SortedVersion } from './package-reader.js';
import { viewOf, type StoredMetadata } from './stored-metadata.js';

/** What a preview reads of the staging tables: one narrow query per request. */
export type PreviewStore = Pick<StagingDatabase, 'previewPackages'>;

/** The access check a preview asks of the feed: whether the principal is an admin here. */
export type PreviewGuard = Pick<PackageAccess, 'onFeed'>;

/** A staged package as the read side sees a package row, with its nuspec. */
interface StagedVersion {
  readonly record: PackageRecord;
  readonly nuspec: Buffer | null;
}

/**
 * Preview feeds of staging groups (docs/STAGING.md, Preview feeds): a group's staged packages laid over the feed's
 * published ones, for principals acting for the group's owner and admins of the feed, so CI can restore the release
 * set before a person promotes it. Nothing here writes; upstream packages are not part of a preview.
 */
export class StagingPreviews {
  constructor(
    private readonly reader: PackageReader,
    private readonly store: PreviewStore,
    private readonly access: PreviewGuard,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * A group's preview as `principal` may read it, with the staged packages of `ids` loaded (none: the group's existence
   * only). Null when the owner has no such group now (promoted, deleted, expired) and when the principal does not act
   * for the owner: both are a 404, so a preview URL says nothing to keys of other owners.
   */
  async open(principal: Principal, owner: string, groupId: string, ids: readonly string[]): Promise<GroupPreview | null> {
    const lowerOwner = toLowerInvariant(owner);
    // Decided from the principal alone: a key of another owner costs no query.
    if (!ownersActedFor(principal).includes(lowerOwner) && !this.access.onFeed(principal).scopes.has('admin')) return null;
    const lowerIds = [...new Set(ids.filter(isValidPackageId).map(toLowerId))];
    const staged = await this.store.previewPackages(lowerOwner, toLowerInvariant(groupId), lowerIds, this.now().toISOString());
    return staged ? new GroupPreview(this.reader, staged) : null;
  }
}

/**
 * One request's view of a preview: what PackageReader answers for the feed, with the group's staged versions of the
 * ids loaded beside them. A version both published and staged (the staged one is blocked) is the published one.
 */
export class GroupPreview {
  /** lowerId → lowerVersion → staged version. */
  private readonly staged = new Map<string, Map<string, StagedVersion>>();

  constructor(
    private readonly published: PackageReader,
    staged: readonly StagedArtifactRecord[],
  ) {
    for (const a of staged) {
      if (a.published) continue;
      const versions = this.staged.get(a.lowerId) ?? new Map<string, StagedVersion>();
      versions.set(a.lowerVersion, stagedVersion(a));
      this.staged.set(a.lowerId, versions);
    }
  }

  /** Every version of an id, published and staged, ascending in NuGet order; empty for unknown or invalid ids. */
  async versions(id: string): Promise<SortedVersion[]> {
    const published = await this.published.versions(id);
    const staged = isValidPackageId(id) ? this.staged.get(toLowerId(id)) : undefined;
    if (!staged) return published;
    const known = new Set(published.map((v) => v.record.lowerVersion));
    const added = [...staged.values()]
      .filter((s) => !known.has(s.record.lowerVersion))
      .map((s) => ({ ...viewOf(s.record), parsed: parseVersion(s.record.fullVersion)! }));
    return [...published, ...added].sort((a, b) => compareVersions(a.parsed, b.parsed));
  }

  /** One version by id and version text in any accepted form; published first, then staged; null when neither. */
  async find(id: string, version: string): Promise<PackageRecord | null> {
    return (await this.published.find(id, version)) ?? this.stagedOf(id, version)?.record ?? null;
  }

  async nuspec(id: string, version: string): Promise<Buffer | null> {
    return (await this.published.nuspec(id, version)) ?? this.stagedOf(id, version)?.nuspec ?? null;
  }

  /** A staged package's file is where a push of its bytes would store it: the feed's reader opens it as any other. */
  open(record: PackageFile): Promise<BlobContent | null> {
    return this.published.open(record);
  }

  redirectUrl(record: PackageFile): Promise<string | null> {
    return this.published.redirectUrl(record);
  }

  private stagedOf(id: string, version: string): StagedVersion | undefined {
    const parsed = parseVersion(version);
    if (!parsed || !isValidPackageId(id)) return undefined;
    const key = identityKey(id, parsed);
    return this.staged.get(key.lowerId)?.get(key.lowerVersion);
  }
}

/** A staged row as a package row: published (for registration's timestamps) when it was uploaded. */
function stagedVersion(a: StagedArtifactRecord): StagedVersion {
  const parsed = parseVersion(a.fullVersion)!;
  // SemVer 2.0.0 as a push decides it: the version, or a dependency's range (the plain registration hives hide it).
  const metadata = JSON.parse(a.metadata) as Pick<StoredMetadata, 'isSemVer2'>;
  return {
    record: {
      id: a.id,
      lowerId: a.lowerId,
      version: a.version,
      lowerVersion: a.lowerVersion,
      fullVersion: a.fullVersion,
      originalVersion: a.fullVersion,
      isPrerelease: isPrerelease(parsed),
      isSemVer2: metadata.isSemVer2,
      listed: a.listed,
      published: a.uploaded,
      size: a.size,
      sha512: a.sha512,
      blobKey: a.blobKey,
      metadata: a.metadata,
    },
    nuspec: a.nuspec ? Buffer.from(a.nuspec) : null,
  };
}
