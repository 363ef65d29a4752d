import { join, resolve } from 'node:path';
import type { BlobStore } from '../blobs/blob-store.js';
import { openBlobStore } from '../blobs/open.js';
import type { Config } from '../config/schema.js';
import type { PackageDatabase } from '../db/database.js';
import type { AccessDatabase } from '../db/access-database.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { KyselyAdvisoryDatabase } from '../db/kysely-advisory-database.js';
import { KyselySymbolDatabase } from '../db/kysely-symbol-database.js';
import { openDatabase } from '../db/open.js';
import { PackageAccess } from './access.js';
import { AdvisoryService } from './advisories.js';
import { AuditLog } from './audit.js';
import { ApiKeyAuthenticator } from './auth.js';
import { ChangeWatcher } from './change-watcher.js';
import { FeedEvents } from './events.js';
import { KeyManager } from './keys.js';
import { FileBytesCache } from './file-bytes-cache.js';
import { ManageService } from './manage.js';
import { sweepOrphanBlobs } from './orphans.js';
import { Ownership } from './ownership.js';
import { PackageReader } from './package-reader.js';
import { PublishService } from './publish.js';
import { SymbolService } from './symbols.js';
import { openTempArea } from './temp-area.js';
import { MergedReader } from './upstream/merged-reader.js';
import { UpstreamService } from './upstream/service.js';

/** Everything the web layer needs, wired once: the composition root of the feed. */
export interface Feed {
  readonly db: PackageDatabase;
  readonly blobs: BlobStore;
  readonly auth: ApiKeyAuthenticator;
  /** Who may change which id (scopes, ownership, prefix reservations); symbol pushes use it too. */
  readonly access: PackageAccess;
  /** Owners and prefix reservations; `ownership.isVerifiedId` for search results. */
  readonly ownership: Ownership;
  readonly keys: KeyManager;
  readonly audit: AuditLog;
  readonly accessDb: AccessDatabase;
  readonly events: FeedEvents;
  readonly reader: PackageReader;
  readonly publish: PublishService;
  readonly manage: ManageService;
  /** Symbols packages, the symbol server's lookups and .snupkg downloads. */
  readonly symbols: SymbolService;
  /** Deprecations and vulnerability advisories. */
  readonly advisories: AdvisoryService;
  /** Read-through to upstream feeds, when configured (docs/UPSTREAMS.md). */
  readonly upstream: UpstreamService | null;
  /** The read side the protocol routes use: `reader`, merged with the upstreams when configured. */
  readonly mergedReader: PackageReader;
  /** Small package files in memory, shared by the readers (null when turned off). */
  readonly fileBytes: FileBytesCache | null;
  /** The resolved data dir. */
  readonly dataDir: string;
  /** This process's own temporary folder (under `<dataDir>/tmp`), removed on close. */
  readonly tempDir: string;
  /** Removes files left by crashed pushes; returns their keys. */
  sweepOrphans(dryRun?: boolean): Promise<string[]>;
  close(): Promise<void>;
}

/** A push in flight writes its file moments before its row; anything older and unreferenced is an orphan. */
const ORPHAN_MIN_AGE_MS = 10 * 60 * 1000;

export interface OpenFeedOptions {
  /** Log sink for background failures (change polling); the server passes its logger. */
  readonly onBackgroundError?: (err: unknown) => void;
}

export async function openFeed(config: Config, options: OpenFeedOptions = {}): Promise<Feed> {
  const dataDir = resolve(config.dataDir);
  const onError = options.onBackgroundError ?? (() => {});
  const db = await openDatabase(config.database, dataDir);
  const blobs = await openBlobStore(config, dataDir);
  // Other processes may be using the data dir at this moment (a server beside `pawket gc`): each has its own temporary
  // folder, and only what a gone process left is removed (feed/temp-area.ts).
  const temp = await openTempArea(join(dataDir, 'tmp'), { onError });
  const tempDir = temp.dir;
  const accessDb = new KyselyAccessDatabase(db.kysely);
  const auth = new ApiKeyAuthenticator(accessDb, config.apiKeys, { onError });
  const events = new FeedEvents();
  const audit = new AuditLog(accessDb);
  const ownership = new Ownership(accessDb, audit, onError);
  await ownership.start(events);
  const access = new PackageAccess(auth, accessDb, ownership, audit, onError);
  // Other nodes (or processes on the same SQLite file) change the feed too; their changes reach our caches here.
  const watcher = new ChangeWatcher(db, events, onError);
  await watcher.start(config.changePollInterval);
  const symbolDb = new KyselySymbolDatabase(db.kysely);
  const symbols = new SymbolService(db, symbolDb, blobs, access, {
    allowOverwrite: config.allowOverwrite,
    // A PDB or assembly bigger than a whole package may be is not worth inflating to check.
    limits: { maxEntries: config.maxPackageEntries, maxFileBytes: config.maxPackageSize },
    tempDir,
  });
  const fileBytes = config.packageBytesCacheSize > 0 ? new FileBytesCache(config.packageBytesCacheSize) : null;
  const reader = new PackageReader(db, blobs, events, fileBytes);
  const upstream = config.upstreams.length
    ? new UpstreamService(db, db.kysely as never, blobs, events, config, tempDir, (m) => onError(new Error(m)))
    : null;
  return {
    db,
    blobs,
    auth,
    access,
    ownership,
    keys: new KeyManager(accessDb, auth, audit),
    audit,
    accessDb,
    events,
    dataDir,
    tempDir,
    reader,
    upstream,
    mergedReader: upstream ? new MergedReader(db, blobs, events, upstream, fileBytes) : reader,
    fileBytes,
    publish: new PublishService(db, blobs, access, events, {
      allowOverwrite: config.allowOverwrite,
      limits: { maxEntries: config.maxPackageEntries },
    }),
    manage: new ManageService(db, blobs, access, events, config.deleteMode, symbols),
    symbols,
    advisories: new AdvisoryService(new KyselyAdvisoryDatabase(db.kysely), db, access, events),
    sweepOrphans: (dryRun = false) =>
      sweepOrphanBlobs(
        { isBlobReferenced: async (key) => (await db.isBlobReferenced(key)) || (await symbolDb.isSymbolBlobReferenced(key)) },
        blobs,
        ORPHAN_MIN_AGE_MS,
        Date.now(),
        dryRun,
      ),
    async close() {
      watcher.stop();
      upstream?.close();
      blobs.close?.();
      await db.close();
      await temp.close();
    },
  };
}
