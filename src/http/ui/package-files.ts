import { PawketError } from '../../errors.js';
import type { FeedEvents } from '../../feed/events.js';
import type { PackageFile, PackageReader } from '../../feed/package-reader.js';
import type { openPackageArchiveFrom, PackageArchive } from '../../package/read.js';

/** Caps on files the pages show from inside a package (images: those a readme shows, screenshots included). */
export const ENTRY_LIMITS = { icon: 1024 * 1024, readme: 1024 * 1024, license: 256 * 1024, image: 4 * 1024 * 1024 } as const;

/** The zip reader (yauzl, and the nuspec parser beside it) loads with the first package file a page asks for. */
const openArchive = async (source: Parameters<typeof openPackageArchiveFrom>[0]) =>
  (await import('../../package/read.js')).openPackageArchiveFrom(source);

/**
 * What the caches below may hold. Entry lists: a name not in a package is answered from its list without touching
 * storage, so what an anonymous client asking for made-up names costs is one list read per package, kept within
 * these bounds. Entries: the bytes (or the refusal, for one over its cap) of files read, by count and by bytes, so
 * many small answers evict too.
 */
export const PACKAGE_FILES_CACHE = {
  /** Packages whose entry lists are kept. */
  directories: 1024,
  /** Estimated memory of the kept entry lists together (names and offsets; see `PackageArchive.memoryBytes`). */
  directoryBytes: 16 * 1024 * 1024,
  /** Files (present or refused) kept. */
  entries: 2048,
  /** Bytes of the files kept together. */
  entryBytes: 32 * 1024 * 1024,
} as const;

/** A file the page asked for: its bytes, or null when the package has no such entry or it is over its cap. */
export type EntryResult = Buffer | null;

/** A package's open entry list, for the lower-case id (dropped when the id changes). */
interface Directory {
  readonly lowerId: string;
  readonly archive: PackageArchive;
}

/**
 * Reads icons, readmes, license files and readme images from inside stored packages, with a size cap per kind. A
 * package is never copied: its entry list is read once from the end of the stored file (ranged reads) and kept,
 * and an entry is read on its own. Entry lists and read files stay in bounded in-memory caches
 * ({@link PACKAGE_FILES_CACHE}), dropped per id when the id changes.
 */
export class PackageFiles {
  /** Entry lists by blob key (a key's content never changes), least recently used first. */
  private readonly directories = new Map<string, Directory>();
  private directoryBytes = 0;
  /** Entry lists being read, shared by the requests that want them meanwhile (a page's images load at once). */
  private readonly opening = new Map<string, Promise<Directory>>();
  /** `lowerId|lowerVersion|name` → bytes (null: over its cap or damaged), least recently used first. */
  private readonly cache = new Map<string, EntryResult>();
  private bytes = 0;

  constructor(
    private readonly reader: PackageReader,
    events: FeedEvents,
  ) {
    events.onPackageChanged((lowerId) => {
      for (const key of [...this.cache.keys()]) if (key.startsWith(`${lowerId}|`)) this.drop(key);
      for (const [key, directory] of [...this.directories]) if (directory.lowerId === lowerId) this.dropDirectory(key);
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
    // Rows that have no file here (versions an upstream lists but that were never fetched) have no entries.
    if (missing.length === 0 || !file.blobKey) return out;
    const { archive } = await this.directory(file);
    for (const w of missing) {
      // Not in the package: answered from the entry list, and not cached (that list is the cache).
      if (!archive.has(w.name)) {
        out.set(w.name, null);
        continue;
      }
      let value: EntryResult;
      try {
        value = await archive.read(w.name, w.maxBytes);
      } catch (err) {
        // Over its cap or damaged: the page shows it as absent. Storage failures are the server's.
        if (!(err instanceof PawketError) || err.status >= 500) throw err;
        value = null;
      }
      this.store(this.key(file, w.name), value);
      out.set(w.name, value);
    }
    return out;
  }

  /** The package's entry list, from the cache or read from storage (once for all requests that want it meanwhile). */
  private async directory(file: PackageFile): Promise<Directory> {
    const cached = this.directories.get(file.blobKey);
    if (cached) {
      this.directories.delete(file.blobKey);
      this.directories.set(file.blobKey, cached);
      return cached;
    }
    let opening = this.opening.get(file.blobKey);
    if (!opening) {
      opening = openArchive(this.reader.randomAccess(file)).then((archive) => {
        const directory = { lowerId: file.lowerId, archive };
        this.storeDirectory(file.blobKey, directory);
        return directory;
      });
      const forget = () => this.opening.delete(file.blobKey);
      opening.then(forget, forget);
      this.opening.set(file.blobKey, opening);
    }
    return opening;
  }

  private storeDirectory(blobKey: string, directory: Directory): void {
    // One list over the whole budget is used for its request and not kept.
    if (directory.archive.memoryBytes > PACKAGE_FILES_CACHE.directoryBytes) return;
    this.dropDirectory(blobKey);
    this.directories.set(blobKey, directory);
    this.directoryBytes += directory.archive.memoryBytes;
    while (this.directoryBytes > PACKAGE_FILES_CACHE.directoryBytes || this.directories.size > PACKAGE_FILES_CACHE.directories) {
      this.dropDirectory(this.directories.keys().next().value!);
    }
  }

  /** Forgets a list; an archive read in pieces holds no handle, and reads still using it finish as usual. */
  private dropDirectory(blobKey: string): void {
    const directory = this.directories.get(blobKey);
    if (!directory) return;
    this.directoryBytes -= directory.archive.memoryBytes;
    this.directories.delete(blobKey);
  }

  private key(file: PackageFile, name: string): string {
    return `${file.lowerId}|${file.lowerVersion}|${name}`;
  }

  private store(key: string, value: EntryResult): void {
    this.drop(key);
    this.cache.set(key, value);
    this.bytes += value?.length ?? 0;
    while ((this.bytes > PACKAGE_FILES_CACHE.entryBytes && this.cache.size > 1) || this.cache.size > PACKAGE_FILES_CACHE.entries) {
      this.drop(this.cache.keys().next().value!);
    }
  }

  private drop(key: string): void {
    if (!this.cache.has(key)) return;
    this.bytes -= this.cache.get(key)?.length ?? 0;
    this.cache.delete(key);
  }
}
