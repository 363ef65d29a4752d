import type { BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase } from '../db/database.js';
import { notFound } from '../errors.js';
import { identityKey } from '../nuget/identity.js';
import { isValidPackageId } from '../nuget/id.js';
import { parseVersion } from '../nuget/version.js';
import type { PackageGuard } from './access.js';
import type { Principal } from './auth.js';
import type { FeedEvents } from './events.js';
import { SILENT_NOTIFIER, type FeedNotifier } from './webhook-events.js';

export type DeleteMode = 'unlist' | 'delete';

/** The symbols of a version go with it on hard delete: their rows in the same transaction, then their files. */
export interface SymbolCleanup {
  blobKeysOf(lowerId: string, lowerVersion: string): Promise<string[]>;
  deleteUnreferenced(blobKeys: readonly string[]): Promise<void>;
}

/** Unlist, relist and hard delete, as `dotnet nuget delete` and the relist POST ask. */
export class ManageService {
  constructor(
    private readonly db: PackageDatabase,
    private readonly blobs: BlobStore,
    private readonly access: PackageGuard,
    private readonly events: FeedEvents,
    private readonly deleteMode: DeleteMode,
    private readonly symbols?: SymbolCleanup,
    /** Told of every change that committed (webhooks). */
    private readonly notifier: FeedNotifier = SILENT_NOTIFIER,
  ) {}

  /** DELETE: unlists, or removes row and file when the feed is configured for hard deletes. */
  delete(id: string, version: string, principal: Principal): Promise<DeleteMode> {
    return this.remove(id, version, principal, this.deleteMode);
  }

  /** Unlists or hard-deletes one version, whatever the feed's delete mode (retention decides its own). */
  async remove(id: string, version: string, principal: Principal, mode: DeleteMode): Promise<DeleteMode> {
    const key = await this.resolve(id, version, principal);
    if (mode === 'unlist') {
      await this.setListed(id, version, key, false);
      await this.access.record(principal, 'unlist', `${id} ${version}`);
      await this.notifier.notify(principal, { event: 'package.unlisted', package: { id, version } });
      return 'unlist';
    }
    const symbolBlobs = (await this.symbols?.blobKeysOf(key.lowerId, key.lowerVersion)) ?? [];
    const blobKey = await this.db.deletePackage(key.lowerId, key.lowerVersion);
    if (blobKey === null) throw missing(id, version);
    this.events.packageChanged(key.lowerId, false, [key.lowerVersion]);
    await this.access.record(principal, 'delete', `${id} ${version}`);
    await this.notifier.notify(principal, { event: 'package.deleted', package: { id, version } });
    if (!(await this.db.isBlobReferenced(blobKey))) await this.blobs.delete(blobKey);
    await this.symbols?.deleteUnreferenced(symbolBlobs);
    return 'delete';
  }

  async relist(id: string, version: string, principal: Principal): Promise<void> {
    await this.setListed(id, version, await this.resolve(id, version, principal), true);
    await this.access.record(principal, 'relist', `${id} ${version}`);
    await this.notifier.notify(principal, { event: 'package.relisted', package: { id, version } });
  }

  private async resolve(id: string, version: string, principal: Principal) {
    const parsed = parseVersion(version);
    if (!parsed || !isValidPackageId(id)) throw missing(id, version);
    await this.access.authorizeUnlist(principal, id);
    return identityKey(id, parsed);
  }

  private async setListed(id: string, version: string, key: ReturnType<typeof identityKey>, listed: boolean) {
    if (!(await this.db.setListed(key.lowerId, key.lowerVersion, listed))) throw missing(id, version);
    this.events.packageChanged(key.lowerId, false, [key.lowerVersion]);
  }
}

const missing = (id: string, version: string) => notFound(`Package ${id} ${version} was not found on this feed.`);
