import { rm } from 'node:fs/promises';
import { loadPackageReader } from '../package/load.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase } from '../db/database.js';
import type { NewStagedArtifact, StagedArtifactRecord, StagedKind, StagingDatabase, StagingGroupRecord, StagingSweepDatabase } from '../db/staging-database.js';
import { PawketError } from '../errors.js';
import { isValidPackageId, toLowerInvariant } from '../nuget/id.js';
import { identityKey } from '../nuget/identity.js';
import { fullVersion, normalizeVersion, parseVersion } from '../nuget/version.js';
import type { PackageLimits } from '../package/read.js';
import type { SymbolPackageLimits } from '../package/read-symbols.js';
import type { PackageAccess } from './access.js';
import { ownersActedFor, type Principal } from './auth.js';
import { packageBlobKey, symbolsBlobFolder, type FeedScope } from './feed-scope.js';
import type { ReceivedUpload } from './publish.js';
import { copyPackageToTemp } from './package-file-copy.js';
import { enforceQuota, type FeedQuota } from './quota.js';
import type { PackageSignatureCheck } from '../signing/package-signatures.js';
import { toStoredMetadata } from './stored-metadata.js';
import { withRepositorySigner, type FeedRepositorySigning } from '../signing/repository-signer.js';
import { promoteStagedPackages, type PromotionDeps, type PromotionView } from './staging-promotion.js';
import type { FeedNotifier } from './webhook-events.js';

/**
 * A refusal of a staging route: a PawketError with the machine-readable code the staging contract's
 * `{"error":{"code","message"}}` carries.
 */
export class StagingError extends PawketError {
  constructor(
    status: number,
    readonly code: string,
    message: string,
  ) {
    super(status, message);
  }
}

/** `Blocker` of the contract: why an artifact or group cannot be promoted. */
export interface Blocker {
  readonly code: string;
  readonly message: string;
}

/** `Group` of the contract. */
export interface GroupView {
  readonly id: string;
  readonly name: string;
  readonly canPromote: boolean;
  readonly itemCount: number;
  readonly blockers: Blocker[];
  readonly owner: string;
  readonly created: string;
  readonly expires: string;
}

/** `Artifact` of the contract. */
export interface ArtifactView {
  readonly id: string;
  readonly version: string;
  readonly kind: StagedKind;
  readonly status: string;
  readonly group: GroupView | null;
  readonly listed?: boolean;
  readonly canPromote: boolean;
  readonly blockers: Blocker[];
  readonly owner: string;
  readonly uploaded: string;
  readonly validated: string | null;
  readonly expires: string;
}

export interface PageRequest {
  readonly page: number;
  readonly pageSize: number;
}

export interface PageView<T> extends PageRequest {
  readonly items: T[];
  readonly totalCount: number;
}

export interface StagingOptions {
  readonly scope: FeedScope;
  readonly limits: PackageLimits;
  readonly symbolLimits: SymbolPackageLimits;
  /** Where a staged package is copied while its symbols are checked against it. */
  readonly tempDir: string;
  /** How long an artifact (and a group) lives unpromoted, in ms. */
  readonly ttlMs: number;
  /** Most groups an owner may have at once. */
  readonly maxGroups: number;
  /** Most packages one group may hold (default: no bound). */
  readonly maxGroupSize?: number;
  /** Most packages an owner may have staged at once (default: no bound). */
  readonly maxPerOwner?: number;
  /** The feed's quota: staged packages count as stored ones do. */
  readonly quota?: FeedQuota;
  readonly notifier?: FeedNotifier;
  /** Verifies package signatures under the feed's signature policies, as a push does. */
  readonly signatures?: PackageSignatureCheck;
  /** What promotion needs besides (staging-promotion.ts); without it, nothing can be promoted here. */
  readonly promotion?: Pick<PromotionDeps, 'events' | 'fence' | 'deleteUnreferencedSymbols' | 'onWarning'>;
  /** Adds the repository signature to every staged package (promotion then publishes the signed bytes). */
  readonly repositorySigning?: FeedRepositorySigning | null;
  readonly now?: () => Date;
}

/** Longest group id and name accepted. */
const MAX_GROUP_ID = 100;
const MAX_GROUP_NAME = 256;
/** Group ids: what is safe in a URL segment and a log line. */
const GROUP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The access checks staging asks of the feed. */
export type StagingGuard = Pick<PackageAccess, 'authorizeAnyStage' | 'authorizeStage' | 'authorizePromote' | 'onFeed' | 'record'>;

/**
 * Package staging (docs/STAGING.md): packages and symbols packages uploaded by their owners' keys, validated as a push
 * is, stored at the blob key a push of the same bytes would use, and invisible to every reader of the feed (they are
 * not package rows). Only principals acting for the owner, and admins, see them; for everyone else they do not exist.
 */
export class StagingService {
  private readonly now: () => Date;

  constructor(
    private readonly db: PackageDatabase,
    private readonly staging: StagingDatabase,
    private readonly blobs: BlobStore,
    private readonly access: StagingGuard,
    private readonly options: StagingOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** May this key stage at all? Asked before an upload's body is read. */
  authorizeAny(principal: Principal): Promise<void> {
    return this.access.authorizeAnyStage(principal);
  }

  async stagePackage(upload: ReceivedUpload, principal: Principal, groupId: string | undefined): Promise<ArtifactView> {
    try {
      const { readPackageFile } = await loadPackageReader();
      const { metadata, nuspec } = await readPackageFile(upload.file, this.options.limits).catch((e: unknown) => {
        throw invalid(e, 'InvalidPackage');
      });
      await this.access.authorizeStage(principal, metadata.id);
      const key = identityKey(metadata.id, metadata.version);
      const display = `${metadata.id} ${fullVersion(metadata.version)}`;
      const signature = await this.options.signatures?.check(upload.file, { id: metadata.id, display, owner: principal.owner }).catch((e: unknown) => {
        throw invalid(e, 'InvalidSignature');
      });
      if (await this.db.getPackage(key.lowerId, key.lowerVersion)) {
        throw new StagingError(409, 'AlreadyPublished', `Package ${display} is already published on this feed: stage a new version instead.`);
      }
      const now = this.now();
      const existing = await this.staging.getArtifact('package', key.lowerId, key.lowerVersion, now.toISOString());
      if (existing && !this.mayActFor(principal, existing.owner)) throw stagedByAnother(display);
      const group = groupId !== undefined ? await this.groupToJoin(principal, groupId, now) : null;
      if (existing && existing.sha512 === upload.sha512 && (group === null || existing.lowerGroupId === group.lowerGroupId)) {
        // The same bytes again: nothing changes (a CI job retried).
        return await this.view(existing, now);
      }
      if (group && existing && group.owner !== existing.owner) throw ownerMismatch(display, group.groupId);
      const owner = existing?.owner ?? group?.owner ?? principal.owner;
      // A replacement (same identity) adds nothing to its owner's staged packages, nor to the group it stays in.
      if (!existing) await this.checkOwnerLimit(owner, now);
      if (group && existing?.lowerGroupId !== group.lowerGroupId) await this.checkGroupSize(group, now);
      // Repository signing rewrites the file: the quota, the stored bytes and the row see the signed package. A new id
      // has no owners before promotion: the signature names the one it is staged for.
      const signed = await this.options.repositorySigning?.sign(upload, metadata.id, [owner]);
      if (signed) upload = signed.upload;
      await enforceQuota(this.db, this.options.quota, existing ? { packages: 0, bytes: upload.size - existing.size } : { packages: 1, bytes: upload.size }, 'staging this package');

      const blobKey = packageBlobKey(this.options.scope, key.lowerId, key.lowerVersion, upload.sha512);
      const at = now.toISOString();
      const expires = this.expiry(now);
      const previous = await this.storeArtifact(upload.file, display, {
        kind: 'package',
        id: metadata.id,
        ...key,
        version: normalizeVersion(metadata.version),
        fullVersion: fullVersion(metadata.version),
        originalVersion: metadata.version.original,
        owner,
        // Different bytes replace the package and keep its group (unless the upload names another).
        lowerGroupId: group?.lowerGroupId ?? existing?.lowerGroupId ?? null,
        status: 'ready',
        listed: true,
        size: upload.size,
        sha512: upload.sha512,
        blobKey,
        metadata: withRepositorySigner(toStoredMetadata(metadata, signature), signed?.signer),
        nuspec,
        uploaded: at,
        // Validation ran while the request waited.
        validated: at,
        expires,
      });
      if (previous && previous !== blobKey) {
        await this.removeUnlessReferenced(previous);
        // Symbols staged for the old build were checked against its assemblies: they go (stage the new build's).
        const oldSymbols = await this.staging.deleteArtifact('symbols', key.lowerId, key.lowerVersion);
        if (oldSymbols) await this.removeUnlessReferenced(oldSymbols);
      }
      // Its symbols (staged after it) stay with it: same group, same expiry.
      const lowerGroupId = group?.lowerGroupId ?? existing?.lowerGroupId ?? null;
      await this.staging.setGroup(key.lowerId, key.lowerVersion, lowerGroupId);
      await this.staging.setExpiry(key.lowerId, key.lowerVersion, expires);
      if (lowerGroupId) await this.staging.setGroupExpiry(owner, lowerGroupId, expires);
      await this.access.record(principal, 'stage', display, existing ? 'replaced a staged package' : null);
      await this.options.notifier?.notify(principal, {
        event: 'package.staged',
        package: { id: metadata.id, version: fullVersion(metadata.version), size: upload.size, sha512: upload.sha512, group: group?.groupId ?? null, replaced: existing !== null },
      });
      const stored = await this.staging.getArtifact('package', key.lowerId, key.lowerVersion, at);
      return await this.view(stored!, now);
    } finally {
      await rm(upload.file, { force: true });
    }
  }

  async stageSymbols(upload: ReceivedUpload, principal: Principal, groupId: string | undefined): Promise<ArtifactView> {
    const { openSymbolPackage } = await import('../package/read-symbols.js');
    let snupkg: Awaited<ReturnType<typeof openSymbolPackage>> | undefined;
    try {
      snupkg = await openSymbolPackage(upload.file, this.options.symbolLimits).catch((e: unknown) => {
        throw invalid(e, 'InvalidSymbolsPackage');
      });
      await this.access.authorizeStage(principal, snupkg.id);
      const key = identityKey(snupkg.id, snupkg.version);
      const display = `${snupkg.id} ${fullVersion(snupkg.version)}`;
      const now = this.now();
      const parent = await this.staging.getArtifact('package', key.lowerId, key.lowerVersion, now.toISOString());
      if (!parent || !this.mayActFor(principal, parent.owner)) {
        throw new StagingError(404, 'ParentNotStaged', `Package ${display} is not staged: stage its .nupkg before its symbols package (.snupkg).`);
      }
      const existing = await this.staging.getArtifact('symbols', key.lowerId, key.lowerVersion, now.toISOString());
      const group = groupId !== undefined ? await this.groupToJoin(principal, groupId, now) : null;
      if (group && group.owner !== parent.owner) throw ownerMismatch(display, group.groupId);
      // Symbols take their package along into the group they name.
      if (group && parent.lowerGroupId !== group.lowerGroupId) await this.checkGroupSize(group, now);
      if (existing && existing.sha512 === upload.sha512 && (group === null || existing.lowerGroupId === group.lowerGroupId)) {
        return await this.view(existing, now);
      }
      // The PDBs must match the staged package's assemblies, as for a push of symbols.
      const nupkgFile = await this.download(parent);
      try {
        for await (const pdb of snupkg.matchPdbs(nupkgFile)) void pdb;
      } catch (e) {
        throw invalid(e, 'InvalidSymbolsPackage');
      } finally {
        await rm(nupkgFile, { force: true });
      }
      snupkg.close();

      const blobKey = `${symbolsBlobFolder(this.options.scope, key.lowerId, key.lowerVersion, upload.sha512)}.snupkg`;
      const at = now.toISOString();
      const expires = this.expiry(now);
      const lowerGroupId = group?.lowerGroupId ?? parent.lowerGroupId;
      const previous = await this.storeArtifact(upload.file, display, {
        kind: 'symbols',
        id: parent.id,
        lowerId: key.lowerId,
        lowerVersion: key.lowerVersion,
        version: parent.version,
        fullVersion: parent.fullVersion,
        originalVersion: parent.originalVersion,
        owner: parent.owner,
        lowerGroupId,
        status: 'ready',
        listed: true,
        size: upload.size,
        sha512: upload.sha512,
        blobKey,
        metadata: JSON.stringify({ packageSha512: parent.sha512 }),
        nuspec: null,
        uploaded: at,
        validated: at,
        expires,
      });
      if (previous && previous !== blobKey) await this.removeUnlessReferenced(previous);
      // The package and its symbols share their group; joining a group resets the group's expiry.
      await this.staging.setGroup(key.lowerId, key.lowerVersion, lowerGroupId);
      if (group) await this.staging.setGroupExpiry(group.owner, group.lowerGroupId, expires);
      await this.access.record(principal, 'stage.symbols', display, existing ? 'replaced staged symbols' : null);
      await this.options.notifier?.notify(principal, {
        event: 'package.staged',
        package: { id: parent.id, version: parent.fullVersion, kind: 'symbols', size: upload.size, sha512: upload.sha512, group: group?.groupId ?? null, replaced: existing !== null },
      });
      const stored = await this.staging.getArtifact('symbols', key.lowerId, key.lowerVersion, at);
      return await this.view(stored!, now);
    } finally {
      snupkg?.close();
      await rm(upload.file, { force: true });
    }
  }

  async listArtifacts(principal: Principal, kind: StagedKind, page: PageRequest): Promise<PageView<ArtifactView>> {
    await this.access.authorizeAnyStage(principal);
    const now = this.now();
    const found = await this.staging.listArtifacts({ kind, owners: this.visibleOwners(principal) }, now.toISOString(), (page.page - 1) * page.pageSize, page.pageSize);
    return { items: await this.views(found.items, now), page: page.page, pageSize: page.pageSize, totalCount: found.totalCount };
  }

  async getArtifact(principal: Principal, kind: StagedKind, id: string, version: string): Promise<ArtifactView> {
    await this.access.authorizeAnyStage(principal);
    const now = this.now();
    const artifact = await this.find(principal, kind, id, version, now);
    if (!artifact) throw artifactNotFound(kind, id, version);
    return this.view(artifact, now);
  }

  /** Deletes a staged artifact; what is not there (or not visible) is already gone, which is success. */
  async deleteArtifact(principal: Principal, kind: StagedKind, id: string, version: string): Promise<void> {
    await this.access.authorizeAnyStage(principal);
    const artifact = await this.find(principal, kind, id, version, this.now());
    if (!artifact) return;
    const blobKey = await this.staging.deleteArtifact(kind, artifact.lowerId, artifact.lowerVersion);
    if (blobKey) await this.removeUnlessReferenced(blobKey);
    await this.access.record(principal, kind === 'package' ? 'stage.delete' : 'stage.symbols.delete', `${artifact.id} ${artifact.fullVersion}`);
  }

  async createGroup(principal: Principal, groupId: unknown, name: unknown): Promise<GroupView> {
    await this.access.authorizeAnyStage(principal);
    const id = checkGroupId(groupId);
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_GROUP_NAME) {
      throw new StagingError(400, 'InvalidGroupName', `A group needs a name: a non-empty string of at most ${MAX_GROUP_NAME} characters.`);
    }
    const now = this.now();
    const lower = toLowerInvariant(id);
    await this.checkGroupLimit(principal.owner, now);
    const created = await this.staging.createGroup(
      { owner: principal.owner, lowerGroupId: lower, groupId: id, name, created: now.toISOString(), expires: this.expiry(now) },
      now.toISOString(),
    );
    if (!created) throw new StagingError(409, 'GroupExists', `${principal.owner} has a group '${id}' already (group ids are case-insensitive).`);
    await this.access.record(principal, 'stage.group.create', `group ${id}`);
    return this.groupView((await this.staging.getGroup(principal.owner, lower, now.toISOString()))!);
  }

  async listGroups(principal: Principal, page: PageRequest): Promise<PageView<GroupView>> {
    await this.access.authorizeAnyStage(principal);
    const found = await this.staging.listGroups(this.visibleOwners(principal), this.now().toISOString(), (page.page - 1) * page.pageSize, page.pageSize);
    return { items: found.items.map((g) => this.groupView(g)), page: page.page, pageSize: page.pageSize, totalCount: found.totalCount };
  }

  async getGroup(principal: Principal, groupId: string, page: PageRequest): Promise<PageView<ArtifactView> & { group: GroupView }> {
    await this.access.authorizeAnyStage(principal);
    const now = this.now();
    const group = await this.requireGroup(principal, groupId, now);
    const members = await this.staging.listArtifacts(
      { owners: [group.owner], group: { owner: group.owner, lowerGroupId: group.lowerGroupId } },
      now.toISOString(),
      (page.page - 1) * page.pageSize,
      page.pageSize,
    );
    return { group: this.groupView(group), items: await this.views(members.items, now, group), page: page.page, pageSize: page.pageSize, totalCount: members.totalCount };
  }

  async renameGroup(principal: Principal, groupId: string, name: unknown): Promise<void> {
    await this.access.authorizeAnyStage(principal);
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_GROUP_NAME) {
      throw new StagingError(400, 'InvalidGroupName', `A group's name is a non-empty string of at most ${MAX_GROUP_NAME} characters.`);
    }
    const group = await this.requireGroup(principal, groupId, this.now());
    await this.staging.renameGroup(group.owner, group.lowerGroupId, name);
    await this.access.record(principal, 'stage.group.rename', `group ${group.groupId}`, name);
  }

  /** Deletes a group and every member; a group that is not there is already gone, which is success. */
  async deleteGroup(principal: Principal, groupId: string): Promise<void> {
    await this.access.authorizeAnyStage(principal);
    const group = await this.requireGroup(principal, groupId, this.now()).catch((e: unknown) => {
      if (e instanceof StagingError && e.status === 404) return null;
      throw e;
    });
    if (!group) return;
    const blobKeys = await this.staging.deleteGroup(group.owner, group.lowerGroupId);
    for (const key of new Set(blobKeys)) await this.removeUnlessReferenced(key);
    await this.access.record(principal, 'stage.group.delete', `group ${group.groupId}`, `${blobKeys.length} artifact${blobKeys.length === 1 ? '' : 's'}`);
  }

  /** Adds a staged package (and its symbols) to a group, moving it out of the one it was in. */
  async addToGroup(principal: Principal, groupId: string, id: string, version: string): Promise<void> {
    await this.access.authorizeAnyStage(principal);
    const now = this.now();
    const group = await this.requireGroup(principal, groupId, now);
    const artifact = await this.find(principal, 'package', id, version, now);
    if (!artifact) throw artifactNotFound('package', id, version);
    if (artifact.owner !== group.owner) throw ownerMismatch(`${artifact.id} ${artifact.fullVersion}`, group.groupId);
    if (artifact.lowerGroupId !== group.lowerGroupId) await this.checkGroupSize(group, now);
    await this.staging.setGroup(artifact.lowerId, artifact.lowerVersion, group.lowerGroupId);
    await this.staging.setGroupExpiry(group.owner, group.lowerGroupId, this.expiry(now));
    await this.access.record(principal, 'stage.group.add', `${artifact.id} ${artifact.fullVersion}`, `group ${group.groupId}`);
  }

  /** Takes a package (and its symbols) out of a group, keeping them staged; not in it is already done, which is success. */
  async removeFromGroup(principal: Principal, groupId: string, id: string, version: string): Promise<void> {
    await this.access.authorizeAnyStage(principal);
    const now = this.now();
    const group = await this.requireGroup(principal, groupId, now);
    const artifact = await this.find(principal, 'package', id, version, now);
    if (!artifact || artifact.owner !== group.owner || artifact.lowerGroupId !== group.lowerGroupId) return;
    await this.staging.setGroup(artifact.lowerId, artifact.lowerVersion, null);
    await this.access.record(principal, 'stage.group.remove', `${artifact.id} ${artifact.fullVersion}`, `group ${group.groupId}`);
  }

  /** Promotes a staged package and its symbols (docs/STAGING.md, Promotion). */
  async promotePackage(principal: Principal, id: string, version: string): Promise<PromotionView> {
    await this.access.authorizeAnyStage(principal);
    const now = this.now();
    const pkg = await this.find(principal, 'package', id, version, now);
    if (!pkg) throw artifactNotFound('package', id, version);
    const symbols = await this.staging.getArtifact('symbols', pkg.lowerId, pkg.lowerVersion, now.toISOString());
    return promoteStagedPackages(this.promotionDeps(), principal, symbols ? [pkg, symbols] : [pkg], null);
  }

  /** Promotes every member of a group at once, and the group goes (docs/STAGING.md, Promotion). */
  async promoteGroup(principal: Principal, groupId: string): Promise<PromotionView> {
    await this.access.authorizeAnyStage(principal);
    const group = await this.requireGroup(principal, groupId, this.now());
    return promoteStagedPackages(this.promotionDeps(), principal, await this.membersOf(group), group);
  }

  private promotionDeps(): PromotionDeps {
    const promotion = this.options.promotion;
    if (!promotion) throw new PawketError(500, 'This process cannot promote staged packages.');
    return { ...promotion, staging: this.staging, blobs: this.blobs, access: this.access, notifier: this.options.notifier, symbolLimits: this.options.symbolLimits, tempDir: this.options.tempDir, now: this.now };
  }

  /** Every unexpired member of a group. */
  private async membersOf(group: StagingGroupRecord): Promise<StagedArtifactRecord[]> {
    const members: StagedArtifactRecord[] = [];
    const filter = { owners: [group.owner], group: { owner: group.owner, lowerGroupId: group.lowerGroupId } };
    for (let offset = 0; ; offset += 500) {
      const page = await this.staging.listArtifacts(filter, this.now().toISOString(), offset, 500);
      members.push(...page.items);
      if (page.items.length < 500) return members;
    }
  }

  /** Groups cost a row each, empty or not: an owner has at most `maxGroups` (as of now; concurrent creations may pass it by a few). */
  private async checkGroupLimit(owner: string, now: Date): Promise<void> {
    const count = await this.staging.countGroups(owner, now.toISOString());
    if (count >= this.options.maxGroups) {
      throw new StagingError(
        403,
        'TooManyGroups',
        `${owner} has ${count} staging groups on this feed, the most allowed (stagingMaxGroups): delete or promote some first.`,
      );
    }
  }

  /** A group holds at most `maxGroupSize` packages (as of now; concurrent stagings into it may pass it by a few). */
  private async checkGroupSize(group: StagingGroupRecord, now: Date): Promise<void> {
    const max = this.options.maxGroupSize;
    if (max === undefined) return;
    const count = await this.staging.countGroupPackages(group.owner, group.lowerGroupId, now.toISOString());
    if (count >= max) {
      throw new StagingError(
        403,
        'GroupFull',
        `Group '${group.groupId}' of ${group.owner} holds ${count} packages, the most a group may hold (stagingMaxGroupSize): promote it, or stage into another group.`,
      );
    }
  }

  /** An owner has at most `maxPerOwner` packages staged on the feed (as of now, like the other limits). */
  private async checkOwnerLimit(owner: string, now: Date): Promise<void> {
    const max = this.options.maxPerOwner;
    if (max === undefined) return;
    const count = await this.staging.countOwnerPackages(owner, now.toISOString());
    if (count >= max) {
      throw new StagingError(
        403,
        'TooManyStaged',
        `${owner} has ${count} packages staged on this feed, the most allowed (stagingMaxPerOwner): promote or delete some first.`,
      );
    }
  }

  private expiry(from: Date): string {
    return new Date(from.getTime() + this.options.ttlMs).toISOString();
  }

  private isAdmin(principal: Principal): boolean {
    return this.access.onFeed(principal).scopes.has('admin');
  }

  /** Owners whose staging the principal sees; null: every owner's (admins). */
  private visibleOwners(principal: Principal): readonly string[] | null {
    return this.isAdmin(principal) ? null : ownersActedFor(principal);
  }

  private mayActFor(principal: Principal, owner: string): boolean {
    return this.isAdmin(principal) || ownersActedFor(principal).includes(owner);
  }

  private async find(principal: Principal, kind: StagedKind, id: string, version: string, now: Date): Promise<StagedArtifactRecord | null> {
    const parsed = parseVersion(version);
    if (!isValidPackageId(id) || !parsed) return null;
    const key = identityKey(id, parsed);
    const artifact = await this.staging.getArtifact(kind, key.lowerId, key.lowerVersion, now.toISOString());
    return artifact && this.mayActFor(principal, artifact.owner) ? artifact : null;
  }

  /** The group a principal names: its own owner's first, then its organisations' (admins: anyone's). 404 when none. */
  private async requireGroup(principal: Principal, groupId: string, now: Date): Promise<StagingGroupRecord> {
    const groups = await this.staging.findGroups(this.visibleOwners(principal), toLowerInvariant(groupId), now.toISOString());
    const group = groups.find((g) => g.owner === principal.owner) ?? groups[0];
    if (!group) throw new StagingError(404, 'GroupNotFound', `There is no staging group '${groupId.slice(0, MAX_GROUP_ID)}' on this feed.`);
    return group;
  }

  /** The group an upload's `groupId` names, created for the uploader's owner when there is none. */
  private async groupToJoin(principal: Principal, groupId: string, now: Date): Promise<StagingGroupRecord> {
    const id = checkGroupId(groupId);
    const groups = await this.staging.findGroups(this.visibleOwners(principal), toLowerInvariant(id), now.toISOString());
    const found = groups.find((g) => g.owner === principal.owner) ?? groups[0];
    if (found) return found;
    const at = now.toISOString();
    await this.checkGroupLimit(principal.owner, now);
    await this.staging.createGroup({ owner: principal.owner, lowerGroupId: toLowerInvariant(id), groupId: id, name: id, created: at, expires: this.expiry(now) }, at);
    return (await this.staging.getGroup(principal.owner, toLowerInvariant(id), at))!;
  }

  private async views(items: readonly StagedArtifactRecord[], now: Date, known?: StagingGroupRecord): Promise<ArtifactView[]> {
    const groups = new Map<string, StagingGroupRecord | null>();
    if (known) groups.set(`${known.owner}\n${known.lowerGroupId}`, known);
    const out: ArtifactView[] = [];
    for (const item of items) out.push(await this.view(item, now, groups));
    return out;
  }

  private async view(a: StagedArtifactRecord, now: Date, groups = new Map<string, StagingGroupRecord | null>()): Promise<ArtifactView> {
    let group: StagingGroupRecord | null = null;
    if (a.lowerGroupId) {
      const cacheKey = `${a.owner}\n${a.lowerGroupId}`;
      if (!groups.has(cacheKey)) groups.set(cacheKey, await this.staging.getGroup(a.owner, a.lowerGroupId, now.toISOString()));
      group = groups.get(cacheKey) ?? null;
    }
    const blockers = artifactBlockers(a);
    const status = a.kind === 'symbols' && !a.hasParent ? 'waitingForParent' : a.status;
    return {
      id: a.id,
      version: a.fullVersion,
      kind: a.kind,
      status,
      group: group ? this.groupView(group) : null,
      ...(a.kind === 'package' ? { listed: a.listed } : {}),
      canPromote: status === 'ready' && blockers.length === 0,
      blockers,
      owner: a.owner,
      uploaded: a.uploaded,
      validated: a.validated,
      expires: a.expires,
    };
  }

  private groupView(g: StagingGroupRecord): GroupView {
    const blockers: Blocker[] = [];
    if (g.itemCount === 0) blockers.push({ code: 'EmptyGroup', message: 'The group has no staged package to promote.' });
    if (g.blockedCount > 0) {
      blockers.push({ code: 'MembersBlocked', message: `${g.blockedCount} of the group's ${g.itemCount} artifacts cannot be promoted: see their blockers.` });
    }
    return { id: g.groupId, name: g.name, canPromote: blockers.length === 0, itemCount: g.itemCount, blockers, owner: g.owner, created: g.created, expires: g.expires };
  }

  /** A staged package's file, copied to a temporary file (zip reading needs a file). */
  private async download(a: StagedArtifactRecord): Promise<string> {
    return copyPackageToTemp(this.blobs, a.blobKey, this.options.tempDir, `staged package ${a.id} ${a.fullVersion}`);
  }

  /**
   * Stores an artifact's file, then its row; the file goes again when the row is not written (a failure, or another
   * request staging the same identity at the same moment: 409). The blob key the row had before, if any.
   */
  private async storeArtifact(file: string, display: string, row: NewStagedArtifact): Promise<string | null> {
    await this.blobs.putFile(row.blobKey, file);
    let outcome: { readonly inserted: boolean; readonly previousBlobKey: string | null };
    try {
      outcome = await this.staging.putArtifact(row);
    } catch (error) {
      await this.removeUnlessReferenced(row.blobKey).catch(() => {});
      throw error;
    }
    if (!outcome.inserted) {
      await this.removeUnlessReferenced(row.blobKey);
      throw new StagingError(409, 'StagedConcurrently', `${display} was staged by another request at the same moment: look at it, or stage again.`);
    }
    return outcome.previousBlobKey;
  }

  private async removeUnlessReferenced(blobKey: string): Promise<void> {
    if (!(await this.db.isBlobReferenced(blobKey))) await this.blobs.delete(blobKey);
  }

  /**
   * A staged artifact's file, for its owners to inspect before promoting it: the visibility of getArtifact (404 for
   * everyone else). It streams through this node, never from a storage URL that would work for anyone holding it.
   */
  async openArtifact(principal: Principal, kind: StagedKind, id: string, version: string): Promise<StagedFile> {
    await this.access.authorizeAnyStage(principal);
    const now = this.now();
    const artifact = await this.find(principal, kind, id, version, now);
    if (!artifact) throw artifactNotFound(kind, id, version);
    const content = await this.blobs.open(artifact.blobKey);
    if (!content) throw new StagingError(404, kind === 'package' ? 'PackageNotFound' : 'SymbolsNotFound', `The file of staged ${artifact.id} ${artifact.fullVersion} is missing from storage.`);
    const fileName = `${artifact.lowerId}.${artifact.lowerVersion}.${kind === 'package' ? 'nupkg' : 'snupkg'}`;
    return { artifact: await this.view(artifact, now), fileName, sha512: artifact.sha512, content };
  }
}

/** A staged artifact's stored file, opened (StagingService.openArtifact). */
export interface StagedFile {
  readonly artifact: ArtifactView;
  /** `{lowerId}.{lowerVersion}.nupkg` (or `.snupkg`), as a push of it would be named. */
  readonly fileName: string;
  readonly sha512: string;
  readonly content: NonNullable<Awaited<ReturnType<BlobStore['open']>>>;
}

/** Why an artifact cannot be promoted now. */
export function artifactBlockers(a: StagedArtifactRecord): Blocker[] {
  const blockers: Blocker[] = [];
  if (a.published) blockers.push({ code: 'AlreadyPublished', message: `${a.id} ${a.fullVersion} was published on this feed after it was staged.` });
  if (a.kind === 'symbols' && !a.hasParent) blockers.push({ code: 'ParentMissing', message: `The package ${a.id} ${a.fullVersion} these symbols belong to is no longer staged.` });
  return blockers;
}

/**
 * Removes artifacts (of every feed) past their expiry, and their files unless a row still points to them; then groups
 * expired with no member left. `announce` hears of the removed artifacts first (their rows are gone by then). Returns
 * the removed files' keys.
 */
export async function sweepExpiredStaging(
  sweep: StagingSweepDatabase,
  db: Pick<PackageDatabase, 'isBlobReferenced'>,
  blobs: BlobStore,
  now = new Date(),
  announce: (expired: Awaited<ReturnType<StagingSweepDatabase['deleteExpired']>>) => Promise<void> = async () => {},
): Promise<string[]> {
  const expired = await sweep.deleteExpired(now.toISOString());
  await announce(expired);
  const removed: string[] = [];
  for (const key of new Set(expired.map((a) => a.blobKey))) {
    if (await db.isBlobReferenced(key)) continue;
    await blobs.delete(key);
    removed.push(key);
  }
  return removed;
}

function checkGroupId(groupId: unknown): string {
  if (typeof groupId !== 'string' || groupId.length === 0 || groupId.length > MAX_GROUP_ID || !GROUP_ID.test(groupId)) {
    throw new StagingError(
      400,
      'InvalidGroupId',
      `A group id is 1 to ${MAX_GROUP_ID} letters, digits, '.', '_' or '-', starting with a letter or digit.`,
    );
  }
  return groupId;
}

/** A failure to read an uploaded file as a package: 400s keep their message with a code; the rest stay as they are. */
function invalid(e: unknown, code: string): unknown {
  if (e instanceof StagingError) return e;
  if (e instanceof PawketError && e.status === 400) return new StagingError(400, code, e.message);
  return e;
}

const artifactNotFound = (kind: StagedKind, id: string, version: string) =>
  new StagingError(404, kind === 'package' ? 'PackageNotFound' : 'SymbolsNotFound', `No staged ${kind === 'package' ? 'package' : 'symbols package'} ${id.slice(0, 100)} ${version.slice(0, 64)} on this feed.`);

const stagedByAnother = (display: string) =>
  new StagingError(409, 'StagedByAnotherOwner', `Package ${display} is staged by another owner: it cannot be staged twice.`);

const ownerMismatch = (display: string, groupId: string) =>
  new StagingError(409, 'OwnerMismatch', `Package ${display} and group '${groupId}' belong to different owners: a group holds its owner's packages only.`);
