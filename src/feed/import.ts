import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PawketError } from '../errors.js';
import type { Principal } from './auth.js';
import type { Feed } from './feed.js';
import { spoolToTempFile } from './spool.js';

export interface ImportProgress {
  readonly total: number;
  readonly done: number;
  readonly imported: number;
  readonly skipped: number;
  readonly rejected: number;
}

export interface ImportResult extends ImportProgress {
  /** Every file that was refused, with the reason a push would have given. */
  readonly rejections: ReadonlyArray<{ readonly file: string; readonly reason: string }>;
}

/**
 * Package files anywhere under `dir`: this covers NuGet.Server's and BaGet's folders (`{id}/{version}/*.nupkg`) and a
 * global packages folder (which also holds `.nupkg.metadata` and `.sha512` files, ignored here). Packages first, then
 * symbol packages, which need their package to exist.
 */
export async function findPackageFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const withExt = (ext: string) => files.filter((f) => f.toLowerCase().endsWith(ext)).sort();
  return [...withExt('.nupkg'), ...withExt('.snupkg')];
}

/**
 * Imports every package file under `dir` through the same pipeline as a push (validation, ownership, storage), a few
 * at a time. Files already on the feed (409) are skipped, so an interrupted import simply runs again.
 */
export async function importPackages(
  feed: Feed,
  dir: string,
  principal: Principal,
  options: { concurrency?: number; maxPackageSize: number; onProgress?: (p: ImportProgress) => void },
): Promise<ImportResult> {
  const files = await findPackageFiles(dir);
  const spoolDir = join(feed.tempDir, 'import');
  await mkdir(spoolDir, { recursive: true });
  const rejections: Array<{ file: string; reason: string }> = [];
  const counts = { total: files.length, done: 0, imported: 0, skipped: 0, rejected: 0 };
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const file = files[i]!;
      try {
        const spooled = await spoolToTempFile(createReadStream(file), spoolDir, options.maxPackageSize);
        if (file.toLowerCase().endsWith('.snupkg')) await feed.symbols.publish(spooled, principal);
        else await feed.publish.publish(spooled, principal);
        counts.imported++;
      } catch (e) {
        if (e instanceof PawketError && e.status === 409) counts.skipped++;
        else {
          counts.rejected++;
          rejections.push({ file: relative(dir, file), reason: e instanceof PawketError ? e.message : `cannot read it: ${(e as Error).message}` });
        }
      }
      counts.done++;
      options.onProgress?.({ ...counts });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  rejections.sort((a, b) => a.file.localeCompare(b.file));
  return { ...counts, rejections };
}

/** Writes every package to `dir` as `{id}/{version}/{id}.{version}.nupkg` (NuGet.Server's layout), byte for byte. */
export async function exportPackages(feed: Feed, dir: string, onProgress?: (done: number, total: number) => void): Promise<number> {
  const total = await feed.db.countPackages();
  let done = 0;
  for (let cursor = 0; ; ) {
    const page = await feed.db.scanPackages(cursor, 200);
    if (page.records.length === 0) break;
    cursor = page.cursor;
    for (const record of page.records) {
      const content = await feed.blobs.open(record.blobKey);
      if (!content) throw new Error(`The file of ${record.id} ${record.fullVersion} is missing from storage.`);
      const folder = join(dir, record.lowerId, record.lowerVersion);
      await mkdir(folder, { recursive: true });
      await pipeline(content.stream, createWriteStream(join(folder, `${record.lowerId}.${record.lowerVersion}.nupkg`)));
      done++;
      onProgress?.(done, total);
    }
  }
  return done;
}
