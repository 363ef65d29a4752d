import type { BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase } from '../db/database.js';
import { notFound } from '../errors.js';
import { identityKey } from '../nuget/identity.js';
import { isValidPackageId } from '../nuget/id.js';
import { parseVersion } from '../nuget/version.js';
import type { ApiKeyAuthenticator, Principal } from './auth.js';
import type { FeedEvents } from './events.js';

export type DeleteMode = 'unlist' | 'delete';

/** Unlist, relist and hard delete, as `dotnet nuget delete` and the relist POST ask. */
export class ManageService {
  constructor(
    private readonly db: PackageDatabase,
    private readonly blobs: BlobStore,
    private readonly auth: ApiKeyAuthenticator,
    private readonly events: FeedEvents,
    private readonly deleteMode: DeleteMode,
  ) {}

  /** DELETE: unlists, or removes row and file when the feed is configured for hard deletes. */
  async delete(id: string, version: string, principal: Principal): Promise<DeleteMode> {
    const key = this.resolve(id, version, principal);
    if (this.deleteMode === 'unlist') {
      await this.setListed(id, version, key, false);
      return 'unlist';
    }
    const blobKey = await this.db.deletePackage(key.lowerId, key.lowerVersion);
    if (blobKey === null) throw missing(id, version);
    this.events.packageChanged(key.lowerId);
    if (!(await this.db.isBlobReferenced(blobKey))) await this.blobs.delete(blobKey);
    return 'delete';
  }

  async relist(id: string, version: string, principal: Principal): Promise<void> {
    await this.setListed(id, version, this.resolve(id, version, principal), true);
  }

  private resolve(id: string, version: string, principal: Principal) {
    const parsed = parseVersion(version);
    if (!parsed || !isValidPackageId(id)) throw missing(id, version);
    this.auth.authorizePush(principal, id);
    return identityKey(id, parsed);
  }

  private async setListed(id: string, version: string, key: ReturnType<typeof identityKey>, listed: boolean) {
    if (!(await this.db.setListed(key.lowerId, key.lowerVersion, listed))) throw missing(id, version);
    this.events.packageChanged(key.lowerId);
  }
}

const missing = (id: string, version: string) => notFound(`Package ${id} ${version} was not found on this feed.`);
