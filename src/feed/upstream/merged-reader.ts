import type { BlobStore } from '../../blobs/blob-store.js';
import type { PackageDatabase, PackageRecord } from '../../db/database.js';
import { PawketError } from '../../errors.js';
import { isValidPackageId, lowerId as toLowerId } from '../../nuget/id.js';
import { compareVersions, parseVersion } from '../../nuget/version.js';
import type { FeedEvents } from '../events.js';
import type { FileBytesCache } from '../file-bytes-cache.js';
import { PackageReader, type PackageFile, type SortedVersion } from '../package-reader.js';
import type { UpstreamService } from './service.js';

/**
 * The read side with upstreams: local rows (pushed or mirrored) merged with the versions the upstreams have; a local
 * version wins over an upstream one with the same version. Asking for the file of an upstream-only version mirrors it.
 * With blockShadowing, an id that has pushed versions shows only those.
 */
export class MergedReader extends PackageReader {
  constructor(
    db: PackageDatabase,
    blobs: BlobStore,
    events: FeedEvents,
    private readonly upstream: UpstreamService,
    fileBytes: FileBytesCache | null = null,
  ) {
    super(db, blobs, events, fileBytes);
  }

  override async versions(id: string): Promise<SortedVersion[]> {
    const local = await super.versions(id);
    if (!this.upstream.covers(id)) return local;
    const lid = toLowerId(id);
    const state = await this.upstream.localState(lid);
    if (state.blocked) return local.filter((v) => !state.mirrored.has(v.record.lowerVersion));
    const view = await this.upstream.view(id);
    if (view.down.length && local.length === 0 && view.versions.length === 0) {
      throw new PawketError(502, `Package ${id} is not cached and the upstream is unreachable: ${view.down.join('; ')}`);
    }
    const upstreamVersions = new Map(view.versions.map((v) => [v.record.lowerVersion, v]));
    // A mirrored version keeps what its upstream says about it (a deprecation made there after we fetched it too).
    const merged: SortedVersion[] = local.map((v) => {
      const said = v.record.mirroredFrom ? upstreamVersions.get(v.record.lowerVersion)?.advisories : undefined;
      return said ? { ...v, upstreamAdvisories: said } : v;
    });
    const have = new Set(local.map((v) => v.record.lowerVersion));
    for (const v of view.versions) {
      if (have.has(v.record.lowerVersion)) continue;
      merged.push({
        record: { ...v.record, mirroredFrom: v.upstream },
        metadata: v.metadata,
        parsed: parseVersion(v.record.fullVersion)!,
        upstreamAdvisories: v.advisories,
      });
    }
    return merged.sort((a, b) => compareVersions(a.parsed, b.parsed));
  }

  /** Never from memory alone: a local row may be hidden (shadowing) and a missing one fetched. */
  override cachedFile(): undefined {
    return undefined;
  }

  override async findFile(id: string, version: string): Promise<PackageFile | null> {
    const local = await super.findFile(id, version);
    if (local) return (await this.hidden(local)) ? null : local;
    if (!isValidPackageId(id) || !this.upstream.covers(id)) return null;
    const mirrored = await this.upstream.mirror(id, version);
    if (!mirrored) return null;
    const { metadata: _metadata, ...file } = mirrored;
    return file;
  }

  override async find(id: string, version: string): Promise<PackageRecord | null> {
    const local = await super.find(id, version);
    if (local) return (await this.hidden(local)) ? null : local;
    const parsed = parseVersion(version);
    if (!parsed || !this.upstream.covers(id)) return null;
    const found = (await this.versions(id)).find((v) => compareVersions(v.parsed, parsed) === 0);
    return found?.record ?? null;
  }

  /** A mirrored row of an id that has pushed versions, with blockShadowing on. */
  private async hidden(record: { lowerId: string; lowerVersion: string }): Promise<boolean> {
    if (!this.upstream.blockShadowing) return false;
    const state = await this.upstream.localState(record.lowerId);
    return state.blocked && state.mirrored.has(record.lowerVersion);
  }
}

/**
 * The restore fast path's reader with upstreams: local rows only (it never fetches), but with blockShadowing a
 * mirrored version of an id pushed here is not found, as in {@link MergedReader}.
 */
export class ShadowCheckedReader extends PackageReader {
  constructor(
    db: PackageDatabase,
    blobs: BlobStore,
    events: FeedEvents,
    private readonly upstream: UpstreamService,
    fileBytes: FileBytesCache | null = null,
  ) {
    super(db, blobs, events, fileBytes);
  }

  /** Never from memory alone: whether a mirrored version is hidden needs the shadowing check. */
  override cachedFile(): undefined {
    return undefined;
  }

  override async findFile(id: string, version: string): Promise<PackageFile | null> {
    const local = await super.findFile(id, version);
    if (!local || !this.upstream.blockShadowing) return local;
    const state = await this.upstream.localState(local.lowerId);
    return state.blocked && state.mirrored.has(local.lowerVersion) ? null : local;
  }
}
