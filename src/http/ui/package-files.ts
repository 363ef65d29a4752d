import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PawketError } from '../../errors.js';
import type { FeedEvents } from '../../feed/events.js';
import type { PackageFile, PackageReader } from '../../feed/package-reader.js';
import { openPackageArchive, type PackageArchive } from '../../package/read.js';

/** Caps on files the pages show from inside a package (images: those a readme shows, screenshots included). */
export const ENTRY_LIMITS = { icon: 1024 * 1024, readme: 1024 * 1024, license: 256 * 1024, image: 4 * 1024 * 1024 } as const;

/** Bytes of extracted files kept in memory across all packages. */
const CACHE_BYTES = 32 * 1024 * 1024;

/** A file the page asked for: its bytes, or null when the package has no such entry or it is over its cap. */
export type EntryResult = Buffer | null;

/** A stored package copied to a temporary file and opened. */
interface OpenCopy {
  readonly archive: PackageArchive;
  readonly temp: string;
}

/**
 * Reads icons, readmes, license files and readme images from inside stored packages, with a size cap per kind, and
 * keeps what it read in a bounded in-memory cache dropped per id when the id changes. For entries not cached yet the
 * package is copied from storage to a temporary file; reads of one package that overlap (a page's images load in
 * parallel) share that copy.
 */
export class PackageFiles {
  /** `lowerId|lowerVersion|name` → bytes (null: absent or too big), least recently used first. */
  private readonly cache = new Map<string, EntryResult>();
  private bytes = 0;
  /** Copies in use, by blob key, with the number of reads using each; the last one out removes the copy. */
  private readonly copies = new Map<string, { readonly ready: Promise<OpenCopy | null>; users: number }>();

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
    await this.withCopy(file, async (archive) => {
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
    });
    return out;
  }

  /** Runs `use` on an open copy of the package, shared with the reads of it already running; nothing when it is gone. */
  private async withCopy(file: PackageFile, use: (archive: PackageArchive) => Promise<void>): Promise<void> {
    let shared = this.copies.get(file.blobKey);
    if (!shared) {
      shared = { ready: this.copy(file), users: 0 };
      this.copies.set(file.blobKey, shared);
    }
    shared.users++;
    try {
      const copy = await shared.ready;
      if (copy) await use(copy.archive);
    } finally {
      if (--shared.users === 0) {
        this.copies.delete(file.blobKey);
        const copy = await shared.ready.catch(() => null);
        if (copy) {
          copy.archive.close();
          await rm(copy.temp, { force: true });
        }
      }
    }
  }

  private async copy(file: PackageFile): Promise<OpenCopy | null> {
    const content = await this.reader.open(file);
    if (!content) return null;
    await mkdir(this.tempDir, { recursive: true });
    const temp = join(this.tempDir, `ui-${randomUUID()}.nupkg`);
    try {
      if (content.bytes) {
        content.stream.destroy();
        await writeFile(temp, content.bytes, { flag: 'wx' });
      } else {
        await pipeline(content.stream, createWriteStream(temp, { flags: 'wx' }));
      }
      return { archive: await openPackageArchive(temp), temp };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
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
