import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PawketError } from '../../errors.js';
import type { FeedEvents } from '../../feed/events.js';
import type { PackageFile, PackageReader } from '../../feed/package-reader.js';
import { openPackageArchive } from '../../package/read.js';

/** Caps on files the pages show from inside a package. */
export const ENTRY_LIMITS = { icon: 1024 * 1024, readme: 1024 * 1024, license: 256 * 1024 } as const;

/** Bytes of extracted files kept in memory across all packages. */
const CACHE_BYTES = 32 * 1024 * 1024;

/** A file the page asked for: its bytes, or null when the package has no such entry or it is over its cap. */
export type EntryResult = Buffer | null;

/**
 * Reads icons, readmes and license files from inside stored packages (the nuspec names them), with a size cap per
 * kind, and keeps what it read in a bounded in-memory cache dropped per id when the id changes. The package is
 * copied from storage to a temporary file once per request for the entries not cached yet.
 */
export class PackageFiles {
  /** `lowerId|lowerVersion|name` → bytes (null: absent or too big), least recently used first. */
  private readonly cache = new Map<string, EntryResult>();
  private bytes = 0;

  constructor(
    private readonly reader: PackageReader,
    private readonly tempDir: string,
    events: FeedEvents,
  ) {
    events.onPackageChanged((lowerId) => {
      for (const key of [...this.cache.keys()]) if (key.startsWith(`${lowerId}|`)) this.drop(key);
    });
  }

  /** The named entries of one package version; names absent from the result were not found or were too big. */
  async read(file: PackageFile, wanted: ReadonlyArray<{ name: string; maxBytes: number }>): Promise<Map<string, EntryResult>> {
    const out = new Map<string, EntryResult>();
    const missing: { name: string; maxBytes: number }[] = [];
    for (const w of wanted) {
      const key = this.key(file, w.name);
      if (this.cache.has(key)) {
        const value = this.cache.get(key)!;
        this.cache.delete(key);
        this.cache.set(key, value);
        out.set(w.name, value);
      } else {
        missing.push(w);
      }
    }
    if (missing.length === 0) return out;
    const content = await this.reader.open(file);
    if (!content) return out;
    await mkdir(this.tempDir, { recursive: true });
    const temp = join(this.tempDir, `ui-${randomUUID()}.nupkg`);
    try {
      if (content.bytes) {
        content.stream.destroy();
        await writeFile(temp, content.bytes, { flag: 'wx' });
      } else {
        await pipeline(content.stream, createWriteStream(temp, { flags: 'wx' }));
      }
      const archive = await openPackageArchive(temp);
      try {
        for (const w of missing) {
          let value: EntryResult;
          try {
            value = await archive.read(w.name, w.maxBytes);
          } catch (err) {
            // Over its cap or damaged: the page shows it as absent.
            if (!(err instanceof PawketError)) throw err;
            value = null;
          }
          this.store(this.key(file, w.name), value);
          out.set(w.name, value);
        }
      } finally {
        archive.close();
      }
    } finally {
      await rm(temp, { force: true });
    }
    return out;
  }

  private key(file: PackageFile, name: string): string {
    return `${file.lowerId}|${file.lowerVersion}|${name}`;
  }

  private store(key: string, value: EntryResult): void {
    this.drop(key);
    this.cache.set(key, value);
    this.bytes += value?.length ?? 0;
    while (this.bytes > CACHE_BYTES && this.cache.size > 1) this.drop(this.cache.keys().next().value!);
  }

  private drop(key: string): void {
    if (!this.cache.has(key)) return;
    this.bytes -= this.cache.get(key)?.length ?? 0;
    this.cache.delete(key);
  }
}
