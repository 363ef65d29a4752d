import { unlink } from 'node:fs/promises';
import type { BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase } from '../db/database.js';
import { PawketError } from '../errors.js';
import { matchesIdPattern } from '../nuget/id-pattern.js';
import { identityKey } from '../nuget/identity.js';
import { fullVersion, isPrerelease, normalizeVersion } from '../nuget/version.js';
import { loadPackageReader } from '../package/load.js';
import type { PackageLimits } from '../package/read.js';
import type { PackageSignatureCheck } from '../signing/package-signatures.js';
import type { PackageGuard } from './access.js';
import type { Principal } from './auth.js';
import type { FeedEvents } from './events.js';
import { toStoredMetadata } from './stored-metadata.js';
import { withRepositorySigner, type FeedRepositorySigning } from '../signing/repository-signer.js';
import { DEFAULT_FEED_SCOPE, packageBlobKey, type FeedScope } from './feed-scope.js';
import { enforceQuota, hasQuota, type FeedQuota } from './quota.js';
import type { FeedNotifier } from './webhook-events.js';

/** A pushed body, already streamed to a temporary file and hashed. */
export interface ReceivedUpload {
  readonly file: string;
  readonly size: number;
  /** Base64 SHA-512. */
  readonly sha512: string;
}

export interface PublishResult {
  readonly id: string;
  readonly version: string;
  readonly replaced: boolean;
}

export interface PublishOptions {
  readonly allowOverwrite: boolean;
  readonly limits: PackageLimits;
  /** The feed packages are stored in (their files' key prefix). */
  readonly scope: FeedScope;
  /** The feed's quota; a push over it is refused before anything is stored. */
  readonly quota?: FeedQuota;
  /** Told of every push that committed (webhooks). */
  readonly notifier?: FeedNotifier;
  /** Id patterns whose packages must be staged and promoted: a push of a matching id is refused (docs/STAGING.md). */
  readonly requireStaging?: readonly string[];
  /** Verifies package signatures under the feed's signature policies (none: signatures are not looked at). */
  readonly signatures?: PackageSignatureCheck;
  /** Adds the repository signature to every package pushed (docs/SIGNING.md); none: packages are stored as pushed. */
  readonly repositorySigning?: FeedRepositorySigning | null;
}

/** Where a push came from, for its messages. */
export interface PushOrigin {
  /** The feed's staging endpoint as the client reaches it; by default its path (`/f/{name}/v3/staging`). */
  readonly stagingUrl?: () => string;
}

/**
 * Push: read the untrusted package, decide, store the file, then commit the row.
 * The file is written before the row so a visible package always has its file; a crash in between leaves an orphan
 * file that is never served (nothing points to it) and is removed by the orphan sweep.
 */
export class PublishService {
  constructor(
    private readonly db: PackageDatabase,
    private readonly blobs: BlobStore,
    private readonly access: PackageGuard,
    private readonly events: FeedEvents,
    private readonly options: PublishOptions,
  ) {}

  async publish(upload: ReceivedUpload, principal: Principal, origin: PushOrigin = {}): Promise<PublishResult> {
    try {
      return await this.store(upload, principal, origin);
    } finally {
      // Gone already when the store took the file over (a rename): plain unlink, no recursive removal.
      await unlink(upload.file).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
  }

  private async store(upload: ReceivedUpload, principal: Principal, origin: PushOrigin): Promise<PublishResult> {
    const { readPackageFile } = await loadPackageReader();
    const { metadata, nuspec } = await readPackageFile(upload.file, this.options.limits);
    // Before authorizePush, which claims a new id.
    await this.refuseUnstaged(principal, metadata.id, origin);
    await this.access.authorizePush(principal, metadata.id);
    const key = identityKey(metadata.id, metadata.version);
    const display = `${metadata.id} ${fullVersion(metadata.version)}`;
    const conflict = () =>
      new PawketError(409, `Package ${display} already exists and cannot be modified. Push a new version instead.`);
    // The package as pushed is verified; then repository signing rewrites the file, and what follows (quota, blob,
    // row, webhooks) sees the signed package.
    const signature = await this.checkSignature(upload, principal, metadata.id, display);
    const signed = await this.options.repositorySigning?.sign(upload, metadata.id);
    if (signed) upload = signed.upload;

    const { allowOverwrite, quota } = this.options;
    const existing = !allowOverwrite || hasQuota(quota) ? await this.db.getPackage(key.lowerId, key.lowerVersion) : null;
    if (existing && !allowOverwrite) throw conflict();
    // An overwrite counts what it adds: the difference in size.
    await enforceQuota(this.db, quota, existing ? { packages: 0, bytes: upload.size - existing.size } : { packages: 1, bytes: upload.size }, 'this push');

    // The hash in the key lets an overwrite store its file beside the old one until the row switches over.
    const blobKey = packageBlobKey(this.options.scope, key.lowerId, key.lowerVersion, upload.sha512);
    await this.blobs.putFile(blobKey, upload.file);
    const row = {
      id: metadata.id,
      ...key,
      version: normalizeVersion(metadata.version),
      fullVersion: fullVersion(metadata.version),
      originalVersion: metadata.version.original,
      isPrerelease: isPrerelease(metadata.version),
      isSemVer2: metadata.isSemVer2,
      listed: true,
      published: new Date().toISOString(),
      size: upload.size,
      sha512: upload.sha512,
      blobKey,
      metadata: withRepositorySigner(toStoredMetadata(metadata, signature), signed?.signer),
      nuspec,
    };

    let replaced = false;
    let previous: string | null = null;
    let inserted: boolean;
    try {
      if (this.options.allowOverwrite) {
        previous = await this.db.replacePackage(row);
        replaced = previous !== null;
        inserted = true;
      } else {
        inserted = await this.db.insertPackage(row);
      }
    } catch (error) {
      // The row was not written (a full disk, a lost database): the file goes too, unless a row already points to it
      // (the same bytes pushed before). Should that fail as well, the orphan sweep removes it.
      await this.removeUnlessReferenced(blobKey).catch(() => {});
      throw error;
    }
    if (!inserted) {
      // Lost a race with a concurrent push of the same identity; the winner's file may share our key (same bytes).
      await this.removeUnlessReferenced(blobKey);
      throw conflict();
    }
    if (previous && previous !== blobKey) await this.blobs.delete(previous);
    this.events.packageChanged(key.lowerId, false, [key.lowerVersion]);
    await this.access.record(principal, 'push', display, replaced ? 'replaced an existing version' : null);
    await this.options.notifier?.notify(principal, { event: 'package.pushed', package: { id: metadata.id, version: row.fullVersion, size: upload.size, sha512: upload.sha512, replaced } });
    return { id: metadata.id, version: fullVersion(metadata.version), replaced };
  }

  /**
   * An id the feed requires staging for is refused to every push, admins' too: its versions reach the feed by promotion
   * only (which moves staged rows without a push), so a leaked key can at most stage them.
   */
  private async refuseUnstaged(principal: Principal, id: string, origin: PushOrigin): Promise<void> {
    const pattern = this.options.requireStaging?.find((p) => matchesIdPattern(p, id));
    if (pattern === undefined) return;
    const { scope } = this.options;
    const url = origin.stagingUrl?.() ?? `${scope.id === DEFAULT_FEED_SCOPE.id ? '' : `/f/${scope.name}`}/v3/staging`;
    await this.access.record(principal, 'push.denied', id, `requires staging (${pattern})`);
    throw new PawketError(
      403,
      `Feed '${scope.name}' requires staging for ${id} (requireStaging: ${pattern}): stage the package at ${url} (PackageStaging/1.0.0) for a person to promote; it cannot be pushed directly.`,
    );
  }

  /** The signature policy's decision; a refusal by policy (403) is recorded like other denied pushes. */
  private async checkSignature(upload: ReceivedUpload, principal: Principal, id: string, display: string) {
    try {
      return await this.options.signatures?.check(upload.file, { id, display, owner: principal.owner });
    } catch (e) {
      if (e instanceof PawketError && e.status === 403) await this.access.record(principal, 'push.denied', display, 'signature policy');
      throw e;
    }
  }

  private async removeUnlessReferenced(blobKey: string): Promise<void> {
    if (!(await this.db.isBlobReferenced(blobKey))) await this.blobs.delete(blobKey);
  }
}
