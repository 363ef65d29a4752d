import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BlobStore } from '../blobs/blob-store.js';
import { openBlobStore } from '../blobs/open.js';
import type { Config } from '../config/schema.js';
import type { PackageDatabase } from '../db/database.js';
import { openDatabase } from '../db/open.js';
import { ApiKeyAuthenticator } from './auth.js';
import { ChangeWatcher } from './change-watcher.js';
import { FeedEvents } from './events.js';
import { ManageService } from './manage.js';
import { sweepOrphanBlobs } from './orphans.js';
import { PackageReader } from './package-reader.js';
import { PublishService } from './publish.js';

/** Everything the web layer needs, wired once: the composition root of the feed. */
export interface Feed {
  readonly db: PackageDatabase;
  readonly blobs: BlobStore;
  readonly auth: ApiKeyAuthenticator;
  readonly events: FeedEvents;
  readonly reader: PackageReader;
  readonly publish: PublishService;
  readonly manage: ManageService;
  readonly tempDir: string;
  /** Removes files left by crashed pushes; returns their keys. */
  sweepOrphans(): Promise<string[]>;
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
  const tempDir = join(dataDir, 'tmp');
  // Leftover uploads belong to requests that died with the previous process.
  await rm(tempDir, { recursive: true, force: true });
  await mkdir(tempDir, { recursive: true });

  const db = await openDatabase(config.database, dataDir);
  const blobs = openBlobStore(config, dataDir);
  const auth = new ApiKeyAuthenticator(config.apiKeys);
  const events = new FeedEvents();
  // Other nodes (or processes on the same SQLite file) change the feed too; their changes reach our caches here.
  const watcher = new ChangeWatcher(db, events, options.onBackgroundError ?? (() => {}));
  await watcher.start(config.changePollInterval);
  return {
    db,
    blobs,
    auth,
    events,
    tempDir,
    reader: new PackageReader(db, blobs),
    publish: new PublishService(db, blobs, auth, events, {
      allowOverwrite: config.allowOverwrite,
      limits: { maxEntries: config.maxPackageEntries },
    }),
    manage: new ManageService(db, blobs, auth, events, config.deleteMode),
    sweepOrphans: () => sweepOrphanBlobs(db, blobs, ORPHAN_MIN_AGE_MS),
    async close() {
      watcher.stop();
      blobs.close?.();
      await db.close();
    },
  };
}
