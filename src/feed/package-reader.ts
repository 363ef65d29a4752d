import { Readable } from 'node:stream';
import type { BlobContent, BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase, PackageRecord } from '../db/database.js';
import { PawketError } from '../errors.js';
import { identityKey, type PackageIdentityKey } from '../nuget/identity.js';
import { lowerId as toLowerId, isValidPackageId } from '../nuget/id.js';
import { compareVersions, parseVersion, type NuGetVersion } from '../nuget/version.js';
import type { RandomAccessSource } from '../package/read.js';
import type { VersionAdvisories } from './advisories.js';
import type { FeedEvents } from './events.js';
import type { FileBytesCache } from './file-bytes-cache.js';
import { viewOf, type PackageVersionView } from './stored-metadata.js';

/** A version of an id with its parsed version, for sorting and filtering. */
export interface SortedVersion extends PackageVersionView {
  readonly parsed: NuGetVersion;
  /** What an upstream says about this version (deprecation, advisories), for versions that come from one. */
  readonly upstreamAdvisories?: VersionAdvisories | undefined;
}

/** A package version without its metadata: what serving its files needs. */
export type PackageFile = Omit<PackageRecord, 'metadata'>;

/** Ids whose files' records stay cached; a few hundred bytes each, dropped when the id changes. */
const CACHED_IDS = 20_000;

/** Read-side use cases: what versions exist, and the files of one. */
export class PackageReader {
  /** lowerId → lowerVersion → file record, least recently used id first. */
  private readonly files = new Map<string, Map<string, PackageFile>>();

  constructor(
    private readonly db: PackageDatabase,
    private readonly blobs: BlobStore,
    events: FeedEvents,
    /** Small package files kept in memory (the storage hands over their bytes); none when null. */
    private readonly fileBytes: FileBytesCache | null = null,
  ) {
    events.onPackageChanged((lowerId) => this.files.delete(lowerId));
  }

  /**
   * The file record of one version, from memory when seen before: the download path makes no database query for
   * packages it served recently.
   */
  async findFile(id: string, version: string): Promise<PackageFile | null> {
    const key = lookupKey(id, version);
    if (!key) return null;
    const cached = this.cachedFileOf(key);
    if (cached) return cached;
    const record = await this.db.getPackage(key.lowerId, key.lowerVersion);
    if (!record) return null;
    const { metadata: _metadata, ...file } = record;
    const versions = this.files.get(key.lowerId) ?? new Map<string, PackageFile>();
    versions.set(key.lowerVersion, file);
    this.files.delete(key.lowerId);
    this.files.set(key.lowerId, versions);
    if (this.files.size > CACHED_IDS) this.files.delete(this.files.keys().next().value!);
    return file;
  }

  /**
   * What {@link findFile} would answer, when it can answer from memory without waiting (undefined otherwise): the
   * restore fast path answers such requests synchronously.
   */
  cachedFile(id: string, version: string): PackageFile | undefined {
    // Clients ask with the lower-case id and normalized version (flat container URLs): a hit on the text as it came
    // is that identity, without parsing the version.
    const direct = this.files.get(id)?.get(version);
    if (direct) return direct;
    const key = lookupKey(id, version);
    return key ? this.cachedFileOf(key) : undefined;
  }

  private cachedFileOf(key: PackageIdentityKey): PackageFile | undefined {
    const versions = this.files.get(key.lowerId);
    const cached = versions?.get(key.lowerVersion);
    if (cached) {
      this.files.delete(key.lowerId);
      this.files.set(key.lowerId, versions!);
    }
    return cached;
  }

  /** The bytes of a package file when they are in memory (small files already served once). */
  cachedBytes(record: PackageFile): Buffer | undefined {
    return this.fileBytes?.get(record.blobKey);
  }

  /** Every version of an id (listed or not), ascending in NuGet order; empty for unknown or invalid ids. */
  async versions(id: string): Promise<SortedVersion[]> {
    if (!isValidPackageId(id)) return [];
    const records = await this.db.listVersions(toLowerId(id));
    return records
      .map((r) => ({ ...viewOf(r), parsed: parseVersion(r.fullVersion)! }))
      .sort((a, b) => compareVersions(a.parsed, b.parsed));
  }

  /** One version by id and version text in any accepted form (`1.0` finds `1.0.0`); null when unknown. */
  async find(id: string, version: string): Promise<PackageRecord | null> {
    const key = lookupKey(id, version);
    return key ? this.db.getPackage(key.lowerId, key.lowerVersion) : null;
  }

  async nuspec(id: string, version: string): Promise<Buffer | null> {
    const key = lookupKey(id, version);
    return key ? this.db.getNuspec(key.lowerId, key.lowerVersion) : null;
  }

  async open(record: PackageFile): Promise<BlobContent | null> {
    const cached = this.fileBytes?.get(record.blobKey);
    if (cached) return bytesContent(cached);
    const content = await this.blobs.open(record.blobKey, { immutable: true });
    if (content?.bytes) this.fileBytes?.set(record.blobKey, content.bytes);
    return content;
  }

  /**
   * The package file for reading parts of it (the files the web UI shows from inside packages) without fetching or
   * copying the rest: from memory when its bytes are there, else by ranged reads from storage.
   */
  randomAccess(record: PackageFile): RandomAccessSource {
    return {
      size: record.size,
      read: async (start, length) => {
        const cached = this.fileBytes?.get(record.blobKey);
        if (cached) return cached.subarray(start, start + length);
        const bytes = await this.blobs.readRange(record.blobKey, start, length);
        if (!bytes) throw new PawketError(500, `The file of package ${record.id} ${record.version} is missing from storage.`);
        return bytes;
      },
    };
  }

  /** Where the client may fetch the file directly (a presigned object-store URL), when storage is set up for it. */
  async redirectUrl(record: PackageFile): Promise<string | null> {
    return (await this.blobs.redirectUrl?.(record.blobKey)) ?? null;
  }
}

function bytesContent(bytes: Buffer): BlobContent {
  return {
    size: bytes.length,
    bytes,
    get stream() {
      return Readable.from([bytes]);
    },
  };
}

function lookupKey(id: string, version: string): PackageIdentityKey | null {
  const parsed = parseVersion(version);
  return parsed && isValidPackageId(id) ? identityKey(id, parsed) : null;
}
