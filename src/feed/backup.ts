import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import SQLite from 'better-sqlite3';
import tar from 'tar-stream';
import { FilesystemBlobStore } from '../blobs/filesystem.js';
import { KyselyFeedDatabase } from '../db/kysely-feed-database.js';
import { openSqliteDatabase } from '../db/sqlite.js';
import { PawketError } from '../errors.js';

const DATABASE_ENTRY = 'pawket.sqlite';
const BLOB_PREFIX = 'blobs/';

export interface BackupResult {
  readonly packages: number;
  readonly files: number;
  readonly bytes: number;
}

/**
 * A consistent backup of an embedded server (every feed) while it runs, as one tar file: an online SQLite snapshot plus the blobs.
 * The snapshot comes first; files are immutable per key, so every file it references is copied unless a delete removed
 * it afterwards, and then its row is dropped from the backup (the backup shows that delete as already done).
 */
export async function backupEmbeddedFeed(dataDir: string, databaseFile: string, outFile: string): Promise<BackupResult> {
  const work = await mkdtemp(join(dirname(resolve(outFile)), '.pawket-backup-'));
  try {
    const snapshotFile = join(work, DATABASE_ENTRY);
    const live = new SQLite(databaseFile, { readonly: true, fileMustExist: true });
    try {
      await live.backup(snapshotFile);
    } finally {
      live.close();
    }

    const blobs = new FilesystemBlobStore(join(dataDir, 'blobs'));
    const pack = tar.pack();
    const written = pipeline(pack, createWriteStream(outFile));
    const copied = new Set<string>();
    let bytes = 0;
    for await (const blob of blobs.list()) {
      const content = await blobs.open(blob.key);
      if (!content) continue; // deleted since it was listed
      await addStream(pack, `${BLOB_PREFIX}${blob.key}`, content.size, content.stream);
      copied.add(blob.key);
      bytes += content.size;
    }

    const snapshot = await openSqliteDatabase(snapshotFile);
    let packages = 0;
    try {
      // Every feed's rows: the files of all of them are in the one blob store.
      for (const feed of await new KyselyFeedDatabase(snapshot.kysely, 'sqlite').listFeeds()) {
        const rows = snapshot.forFeed(feed.id);
        for (let cursor = 0; ; ) {
          const page = await rows.scanPackages(cursor, 500);
          if (page.records.length === 0) break;
          cursor = page.cursor;
          for (const record of page.records) {
            if (copied.has(record.blobKey)) packages++;
            else await rows.deletePackage(record.lowerId, record.lowerVersion);
          }
        }
      }
    } finally {
      await snapshot.close();
    }
    const { size } = await stat(snapshotFile);
    await addStream(pack, DATABASE_ENTRY, size, createReadStream(snapshotFile));
    pack.finalize();
    await written;
    return { packages, files: copied.size, bytes };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function addStream(pack: tar.Pack, name: string, size: number, source: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const entry = pack.entry({ name, size }, (err) => (err ? reject(err) : resolve()));
    source.on('error', reject);
    source.pipe(entry);
  });
}

/** Backup entry names become paths: only our own layout, never anything that could leave the data dir. */
function safeEntryPath(name: string): string | null {
  if (name === DATABASE_ENTRY) return name;
  if (!name.startsWith(BLOB_PREFIX)) return null;
  const parts = name.split('/');
  return parts.every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\')) ? name : null;
}

/** Restores a backup into an empty (or missing) data dir; the result is a feed `pawket serve --data-dir` runs. */
export async function restoreEmbeddedFeed(backupFile: string, dataDir: string): Promise<{ files: number }> {
  const existing = await readdir(dataDir).catch(() => [] as string[]);
  if (existing.length > 0) throw new PawketError(400, `Refusing to restore into ${dataDir}: it is not empty.`);
  await mkdir(dataDir, { recursive: true });
  const extract = tar.extract();
  let files = 0;
  let sawDatabase = false;
  extract.on('entry', (header, stream, next) => {
    const path = header.type === 'file' ? safeEntryPath(header.name) : null;
    if (!path) {
      stream.resume();
      stream.on('end', next);
      return;
    }
    if (path === DATABASE_ENTRY) sawDatabase = true;
    else files++;
    const target = join(dataDir, ...path.split('/'));
    mkdir(dirname(target), { recursive: true })
      .then(() => pipeline(stream, createWriteStream(target)))
      .then(() => next(), next);
  });
  await pipeline(createReadStream(backupFile), extract);
  if (!sawDatabase) throw new PawketError(400, `${backupFile} is not a Pawket backup: it has no ${DATABASE_ENTRY}.`);
  return { files };
}
