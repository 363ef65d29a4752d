import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BlobStore } from '../blobs/blob-store.js';
import { FilesystemBlobStore } from '../blobs/filesystem.js';
import type { Config } from '../config/schema.js';
import type { PackageDatabase } from '../db/database.js';
import { openSqliteDatabase } from '../db/sqlite.js';
import { ApiKeyAuthenticator } from './auth.js';
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

export async function openFeed(config: Config): Promise<Feed> {
  const dataDir = resolve(config.dataDir);
  const tempDir = join(dataDir, 'tmp');
  // Leftover uploads belong to requests that died with the previous process.
  await rm(tempDir, { recursive: true, force: true });
  await mkdir(tempDir, { recursive: true });

  const db = await openSqliteDatabase(join(dataDir, 'pawket.sqlite'));
  const blobs = new FilesystemBlobStore(join(dataDir, 'blobs'));
  const auth = new ApiKeyAuthenticator(config.apiKeys);
  const events = new FeedEvents();
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
    close: () => db.close(),
  };
}
