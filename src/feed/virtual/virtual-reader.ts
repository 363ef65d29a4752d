import type { BlobStore } from '../../blobs/blob-store.js';
import type { DownloadCount, PackageDatabase, PackageRecord } from '../../db/database.js';
import { isValidPackageId, lowerId as toLowerId } from '../../nuget/id.js';
import type { FeedEvents } from '../events.js';
import type { Feed } from '../feed.js';
import type { FileBytesCache } from '../file-bytes-cache.js';
import { PackageReader, type PackageFile, type SortedVersion } from '../package-reader.js';
import type { VirtualMembers } from './members.js';

/** Ids whose serving member stays remembered (a reference each), dropped when the id changes in any member. */
const REMEMBERED_IDS = 20_000;

/** The member that serves an id on a virtual feed, and its versions there. */
export interface Served {
  readonly member: Feed;
  readonly versions: SortedVersion[];
}

/**
 * The read side of a virtual feed (docs/FEEDS.md): for each id, the first member (in member order) that has any version
 * of it serves it, with all of its versions there and none of the later members'. A member reads as its own routes
 * do, upstreams included (its merged reader), so a version only an upstream of the member has is fetched into that
 * member when asked for. An id a member owns (pushed there once, or given owners there) is never served from a later
 * member, even while the owner has no version of it: a public package cannot stand in for a private one. A member
 * that cannot answer (its upstreams unreachable and nothing cached) fails the request rather than let a later member
 * answer in its place.
 *
 * Package files live in the shared storage under their member's keys, so reading them is the base class's.
 */
export class VirtualReader extends PackageReader {
  /** lowerId → the member that served it last, least recently used first; only ids some member serves. */
  private readonly servedBy = new Map<string, Feed>();
  /** Bumped whenever remembered answers may have gone stale, so that a lookup overtaken by a change is not kept. */
  private generation = 0;

  constructor(
    db: PackageDatabase,
    blobs: BlobStore,
    events: FeedEvents,
    private readonly members: VirtualMembers,
    fileBytes: FileBytesCache | null = null,
  ) {
    super(db, blobs, events, fileBytes);
    events.onPackageChanged((lowerId) => {
      this.servedBy.delete(lowerId);
      this.generation++;
    });
    members.onReset(() => {
      this.servedBy.clear();
      this.generation++;
    });
  }

  /** Which member serves an id and its versions there; null when none may (no member has it, or the owner has none). */
  async serve(id: string): Promise<Served | null> {
    if (!isValidPackageId(id)) return null;
    const lowerId = toLowerId(id);
    const generation = this.generation;
    for (const member of await this.members.feeds()) {
      const versions = await member.mergedReader.versions(id);
      if (versions.length > 0) {
        if (generation === this.generation) this.remember(lowerId, member);
        return { member, versions };
      }
      if ((await member.accessDb.registration(lowerId)).registered) return null;
    }
    return null;
  }

  /** The member that serves an id, from memory when it served it recently. */
  async memberOf(id: string): Promise<Feed | null> {
    if (!isValidPackageId(id)) return null;
    return this.servedBy.get(toLowerId(id)) ?? (await this.serve(id))?.member ?? null;
  }

  /** The member that served an id recently, without waiting (downloads are counted for it). */
  recentMemberOf(lowerId: string): Feed | undefined {
    return this.servedBy.get(lowerId);
  }

  override async versions(id: string): Promise<SortedVersion[]> {
    return (await this.serve(id))?.versions ?? [];
  }

  override async find(id: string, version: string): Promise<PackageRecord | null> {
    return (await this.memberOf(id))?.mergedReader.find(id, version) ?? null;
  }

  override async findFile(id: string, version: string): Promise<PackageFile | null> {
    return (await this.memberOf(id))?.mergedReader.findFile(id, version) ?? null;
  }

  /** From the member's memory when it served the id recently: the restore fast path answers from there. */
  override cachedFile(id: string, version: string): PackageFile | undefined {
    return this.servedBy.get(toLowerId(id))?.mergedReader.cachedFile(id, version);
  }

  override async nuspec(id: string, version: string): Promise<Buffer | null> {
    return (await this.memberOf(id))?.mergedReader.nuspec(id, version) ?? null;
  }

  /** The download counts of an id in the member that serves it. */
  async listDownloadCounts(lowerId: string): Promise<DownloadCount[]> {
    return (await this.memberOf(lowerId))?.db.listDownloadCounts(lowerId) ?? [];
  }

  private remember(lowerId: string, member: Feed): void {
    this.servedBy.delete(lowerId);
    this.servedBy.set(lowerId, member);
    if (this.servedBy.size > REMEMBERED_IDS) this.servedBy.delete(this.servedBy.keys().next().value!);
  }
}
