/**
 * Reading untrusted `.nupkg` files (zip archives) from disk.
 *
 * Everything about the file is hostile until checked: the entry count is bounded before any entry is read, every
 * entry name is checked for path tricks, and an entry is inflated only after its declared sizes and compression ratio
 * pass, and then only up to a byte cap, so a zip bomb costs at most the cap in memory and time.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { badRequest, PawketError } from '../errors.js';
import { DEFAULT_MAX_NUSPEC_BYTES, parseNuspec } from '../nuget/nuspec.js';
import { MAX_ENTRY_NAME_LENGTH } from './entry-names.js';
import { assetFrameworks, mergeFrameworks } from './frameworks.js';
import type { PackageMetadata, ReadPackage } from './metadata.js';

/** Bounds for reading one package; each field falls back to {@link DEFAULT_PACKAGE_LIMITS}. */
export interface PackageLimits {
  /** Most entries (files and folders) a package may have. */
  readonly maxEntries?: number;
  /** Largest nuspec, compressed or not. */
  readonly maxNuspecBytes?: number;
  /** Largest uncompressed/compressed ratio for an entry we inflate (applies from {@link RATIO_FLOOR} bytes on). */
  readonly maxCompressionRatio?: number;
}

export const DEFAULT_PACKAGE_LIMITS: Required<PackageLimits> = {
  // The biggest packages on nuget.org (SDK packs) hold a few thousand files; 20,000 bounds the listing work.
  maxEntries: 20_000,
  maxNuspecBytes: DEFAULT_MAX_NUSPEC_BYTES,
  // XML and text compress 3-10x; only crafted data (long runs of one byte) goes past 100x.
  maxCompressionRatio: 100,
};

/** Below this uncompressed size the ratio is not checked: tiny entries have meaningless ratios and cost nothing. */
export const RATIO_FLOOR = 64 * 1024;

/**
 * Reads a package: checks the zip, finds the one root `.nuspec`, parses and validates it, and lists the entries.
 * Every problem with the file is a `PawketError` 400 whose message names it; I/O errors pass through unchanged.
 *
 * @example
 * const { metadata, nuspec, entries } = await readPackageFile(uploadPath, { maxEntries: config.maxPackageEntries });
 */
export async function readPackageFile(path: string, limits: PackageLimits = {}): Promise<ReadPackage> {
  const bounds = withDefaults(limits);
  const zip = await openZip(path);
  try {
    const entries = await listEntries(zip, bounds.maxEntries);
    const nuspecName = findNuspec(entries.map((e) => e.fileName));
    const nuspecEntry = entries.find((e) => e.fileName === nuspecName)!;
    const label = `The nuspec '${nuspecEntry.fileName}'`;
    const nuspec = await readBounded(zip, nuspecEntry, bounds.maxNuspecBytes, bounds.maxCompressionRatio, label);
    const names = entries.map((e) => e.fileName);
    const parsed = parseNuspec(nuspec, { maxBytes: bounds.maxNuspecBytes });
    checkReferencedFiles(parsed, names);
    const metadata: PackageMetadata = {
      ...parsed,
      frameworks: mergeFrameworks(parsed.frameworks, assetFrameworks(names, parsed.packageTypes)),
    };
    return { metadata, nuspec, entries: names };
  } finally {
    zip.close();
  }
}

/** Field by field, so an explicit `undefined` (an unset config value) also gets the default. */
function withDefaults(limits: PackageLimits): Required<PackageLimits> {
  return {
    maxEntries: limits.maxEntries ?? DEFAULT_PACKAGE_LIMITS.maxEntries,
    maxNuspecBytes: limits.maxNuspecBytes ?? DEFAULT_PACKAGE_LIMITS.maxNuspecBytes,
    maxCompressionRatio: limits.maxCompressionRatio ?? DEFAULT_PACKAGE_LIMITS.maxCompressionRatio,
  };
}

/** Options for {@link readEntry}. */
export interface ReadEntryOptions {
  readonly maxEntries?: number;
  readonly maxCompressionRatio?: number;
}

/**
 * Reads one entry of a package file, at most `maxBytes` of it; `null` when the package has no such entry.
 * `name` may use `\` or a leading `./` as nuspec paths do; an exact match wins, then a case-insensitive one (zip
 * parts in a NuGet package are case-insensitive). An entry over the bounds is a `PawketError` 400 naming it.
 *
 * @example
 * const readme = await readEntry(packagePath, metadata.readme, 1024 * 1024); // Buffer | null
 */
export async function readEntry(
  path: string,
  name: string,
  maxBytes: number,
  options: ReadEntryOptions = {},
): Promise<Buffer | null> {
  const zip = await openZip(path);
  try {
    const entries = new EntryTable(await listEntries(zip, options.maxEntries ?? DEFAULT_PACKAGE_LIMITS.maxEntries));
    const entry = entries.find(name);
    if (!entry) return null;
    const ratio = options.maxCompressionRatio ?? DEFAULT_PACKAGE_LIMITS.maxCompressionRatio;
    return await readBounded(zip, entry, maxBytes, ratio, `The entry '${entry.fileName}'`);
  } finally {
    zip.close();
  }
}

/**
 * An open package file for reading several entries: the entry list is read and checked once (count, names,
 * duplicates), then each {@link PackageArchive.read} inflates one entry within its bounds. Close it when done.
 */
export interface PackageArchive {
  /** Entry names as stored (folders end with `/`). */
  readonly entries: readonly string[];
  /** Roughly the bytes of memory the open archive holds (its entry list), for caches that keep many. */
  readonly memoryBytes: number;
  /** The one `.nuspec` at the root; a 400 when there is none or more than one, as for {@link readPackageFile}. */
  nuspecName(): string;
  /** Whether the package has the entry, matched as {@link PackageArchive.read} matches; answered from memory. */
  has(name: string): boolean;
  /**
   * Inflates one entry whole, at most `maxBytes` of it; null when there is no such entry. Names match as in
   * {@link readEntry}: exactly first, then case-insensitively. An entry over the bounds is a 400 naming it.
   */
  read(name: string, maxBytes: number): Promise<Buffer | null>;
  /** Closing again is harmless. */
  close(): void;
}

/**
 * Opens a package file (a `.nupkg` or `.snupkg`) for reading several entries with the same checks as
 * {@link readPackageFile}. Problems with the file are 400s; I/O errors pass through.
 *
 * @example
 * const archive = await openPackageArchive(path, { maxEntries: 20_000 });
 * try { const pdb = await archive.read('lib/net8.0/Foo.pdb', 64 * 1024 * 1024); } finally { archive.close(); }
 */
export async function openPackageArchive(path: string, limits: PackageLimits = {}): Promise<PackageArchive> {
  return archiveOf(await openZip(path), withDefaults(limits));
}

/**
 * A package file read in pieces instead of from a local path (from object storage, say): only the tail with the
 * entry list and the entries asked for are fetched.
 */
export interface RandomAccessSource {
  /** Size of the whole file in bytes. */
  readonly size: number;
  /** The bytes of `[start, start + length)`, fewer only where the file ends. Its failures pass through as they are. */
  read(start: number, length: number): Promise<Buffer>;
}

/**
 * {@link openPackageArchive} for a file read in pieces: the same checks, and the open archive holds no file handle
 * or fetched bytes between reads, so it may be kept (cached) as long as the file does not change.
 *
 * @example
 * const archive = await openPackageArchiveFrom({ size: record.size, read: (start, length) => fetchRange(start, length) });
 * const icon = await archive.read('images/icon.png', 1024 * 1024);
 */
export async function openPackageArchiveFrom(source: RandomAccessSource, limits: PackageLimits = {}): Promise<PackageArchive> {
  const reader = new SourceReader(source);
  let zip: ZipFile;
  try {
    zip = await yauzl.fromRandomAccessReaderPromise(reader, source.size, ZIP_OPTIONS);
  } catch (error) {
    throw zipError(error, 'The file is not a valid zip/NuGet package');
  }
  return archiveOf(zip, withDefaults(limits), reader);
}

/** The archive over an open zip; `pieces` is the reader of a zip read in pieces, told what comes next. */
async function archiveOf(zip: ZipFile, bounds: Required<PackageLimits>, pieces?: SourceReader): Promise<PackageArchive> {
  let table: EntryTable;
  try {
    table = new EntryTable(await listEntries(zip, bounds.maxEntries));
  } catch (error) {
    zip.close();
    throw error;
  } finally {
    pieces?.forget();
  }
  return {
    entries: table.names,
    memoryBytes: table.memoryBytes,
    nuspecName: () => findNuspec(table.names),
    has: (name) => table.find(name) !== undefined,
    async read(name, maxBytes) {
      const entry = table.find(name);
      if (!entry) return null;
      // One fetch for the local header and the data of a small entry; no more for a big one than read-ahead brings.
      pieces?.readAhead(LOCAL_HEADER_BYTES + entry.compressedSize);
      try {
        return await readBounded(zip, entry, maxBytes, bounds.maxCompressionRatio, `The entry '${printable(entry.fileName)}'`);
      } finally {
        pieces?.forget();
      }
    },
    close: () => zip.close(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The zip

const ZIP_OPTIONS = {
  lazyEntries: true,
  autoClose: false,
  decodeStrings: true,
  validateEntrySizes: true,
  // Turns `\` into `/` before yauzl's own name checks, so `..\x` is caught as `../x`.
  strictFileNames: false,
} as const;

/**
 * Packages up to this size are read in one go and unzipped from memory: most are a few KiB, and reading the central
 * directory and each local header from the file is a dozen small reads through the thread pool.
 */
const IN_MEMORY_ZIP_BYTES = 1024 * 1024;

async function openZip(path: string): Promise<ZipFile> {
  const bytes = await readIfSmall(path);
  try {
    return await (bytes ? yauzl.fromBufferPromise(bytes, ZIP_OPTIONS) : yauzl.openPromise(path, ZIP_OPTIONS));
  } catch (error) {
    throw zipError(error, 'The file is not a valid zip/NuGet package');
  }
}

async function readIfSmall(path: string): Promise<Buffer | null> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return size <= IN_MEMORY_ZIP_BYTES ? await handle.readFile() : null;
  } finally {
    await handle.close();
  }
}

/**
 * A yauzl or zlib format error becomes a 400; file-system errors (they name a `syscall`) and a source's own failures
 * stay server errors.
 */
function zipError(error: unknown, prefix: string): unknown {
  if (error instanceof PawketError || !(error instanceof Error) || 'syscall' in error || sourceErrors.has(error)) return error;
  const unsafe = /^(invalid characters in fileName|absolute path|invalid relative path): (.*)$/s.exec(error.message);
  if (unsafe) return unsafeName(unsafe[2] ?? '', unsafe[1] ?? '');
  return badRequest(`${prefix}: ${error.message.replace(/\.+$/, '')}.`);
}

function unsafeName(name: string, reason: string): PawketError {
  return badRequest(`The package contains an entry with an unsafe name '${printable(name)}' (${reason}).`);
}

async function listEntries(zip: ZipFile, maxEntries: number): Promise<Entry[]> {
  // The count comes from the end of the file: refuse before reading a single entry.
  if (zip.entryCount > maxEntries) {
    throw badRequest(`The package has ${zip.entryCount} entries; at most ${maxEntries} are allowed.`);
  }
  const entries: Entry[] = [];
  const seen = new Set<string>();
  try {
    for await (const entry of zip.eachEntry()) {
      checkEntryName(entry.fileName);
      // Two entries with one name: readers disagree on which one wins, so a client could see other bytes than we do.
      if (seen.has(entry.fileName)) {
        throw badRequest(`The package contains the entry '${printable(entry.fileName)}' twice.`);
      }
      seen.add(entry.fileName);
      entries.push(entry);
    }
  } catch (error) {
    throw zipError(error, 'The package is not a valid zip');
  }
  return entries;
}

/**
 * Our own checks on top of yauzl's (absolute paths, drive letters, `..` segments, backslashes): control characters
 * and over-long names. A name that passes is safe to show and never escapes a folder it is extracted to.
 */
function checkEntryName(name: string): void {
  if (name.length === 0) throw unsafeName(name, 'empty name');
  if (name.length > MAX_ENTRY_NAME_LENGTH) {
    throw badRequest(`The package contains an entry name of ${name.length} characters; at most ${MAX_ENTRY_NAME_LENGTH} are allowed.`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw unsafeName(name, 'control character');
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) throw unsafeName(name, 'absolute path');
  if (name.includes('\\') || name.split('/').includes('..')) throw unsafeName(name, 'invalid relative path');
}

/** Exactly one `.nuspec` file at the root, as NuGet's `PackageArchiveReader` requires; its name. */
function findNuspec(names: readonly string[]): string {
  const isNuspec = (name: string) => name.toLowerCase().endsWith('.nuspec');
  const atRoot = names.filter((name) => !name.includes('/') && isNuspec(name));
  const [first, second] = atRoot;
  if (first !== undefined && second !== undefined) {
    throw badRequest(
      `The package has more than one .nuspec file at its root ('${printable(first)}' and '${printable(second)}'); it must have exactly one.`,
    );
  }
  if (first !== undefined) return first;
  const nested = names.find((name) => isNuspec(name) && !name.endsWith('/'));
  const hint = nested !== undefined ? ` ('${printable(nested)}' is not at the root)` : '';
  throw badRequest(`The package has no .nuspec file at its root${hint}.`);
}

/** Per entry: where its local header starts, its compressed and uncompressed sizes, compression method, flags. */
const ENTRY_FIELDS = 5;
/** Estimated bytes an entry takes besides its name's characters (array slot, map entry, string headers, numbers). */
const ENTRY_OVERHEAD_BYTES = 160;
/** Estimated bytes of an open archive besides its entries (the zip reader and its state). */
const ARCHIVE_OVERHEAD_BYTES = 4096;

/**
 * An entry list kept small: the names, and per entry only the numbers reading it needs, in one typed array. yauzl's
 * own entry objects take about 1 KiB each; this about a sixth, so caches can keep whole lists of many packages.
 */
class EntryTable {
  readonly names: readonly string[];
  readonly memoryBytes: number;
  private readonly numbers: Float64Array;
  /** Lower-case name → the entry with it, or the entries in order when several differ only in case. */
  private readonly folded = new Map<string, number | number[]>();

  constructor(entries: readonly Entry[]) {
    this.names = entries.map((e) => e.fileName);
    this.numbers = new Float64Array(entries.length * ENTRY_FIELDS);
    let bytes = ARCHIVE_OVERHEAD_BYTES + this.numbers.byteLength;
    entries.forEach((e, i) => {
      const fields = [e.relativeOffsetOfLocalHeader, e.compressedSize, e.uncompressedSize, e.compressionMethod, e.generalPurposeBitFlag];
      this.numbers.set(fields, i * ENTRY_FIELDS);
      const lower = e.fileName.toLowerCase();
      const same = this.folded.get(lower);
      this.folded.set(lower, same === undefined ? i : [same, i].flat());
      // The name and its lower-case copy, at two bytes a character when they are not plain ASCII.
      bytes += ENTRY_OVERHEAD_BYTES + 4 * e.fileName.length;
    });
    this.memoryBytes = bytes;
  }

  /** The entry `name` (as a nuspec writes paths): an exact match first, then a case-insensitive one. */
  find(name: string): Entry | undefined {
    const wanted = normalizePartName(name);
    const same = this.folded.get(wanted.toLowerCase());
    if (same === undefined) return undefined;
    if (typeof same === 'number') return this.entry(same);
    return this.entry(same.find((i) => this.names[i] === wanted) ?? same[0]!);
  }

  /** A yauzl entry with what reading it takes (`openReadStream` looks at nothing else). */
  private entry(index: number): Entry {
    const at = index * ENTRY_FIELDS;
    const n = (field: number) => this.numbers[at + field]!;
    return Object.assign(new yauzl.Entry(), {
      fileName: this.names[index]!,
      relativeOffsetOfLocalHeader: n(0),
      compressedSize: n(1),
      uncompressedSize: n(2),
      compressionMethod: n(3),
      generalPurposeBitFlag: n(4),
    });
  }
}

/** A path as a nuspec writes it (`docs\readme.md`, `./icon.png`) in zip-entry form. */
function normalizePartName(path: string): string {
  let name = path.trim().replaceAll('\\', '/');
  while (name.startsWith('./')) name = name.slice(2);
  while (name.startsWith('/')) name = name.slice(1);
  return name;
}

/** The icon, readme and license file the nuspec names must be in the package, as nuget.org requires. */
function checkReferencedFiles(metadata: PackageMetadata, names: readonly string[]): void {
  const lower = new Set(names.map((n) => n.toLowerCase()));
  const check = (element: string, path: string | null) => {
    if (path !== null && !lower.has(normalizePartName(path).toLowerCase())) {
      throw badRequest(`The nuspec <${element}> names the file '${printable(path)}', which is not in the package.`);
    }
  };
  check('icon', metadata.icon);
  check('readme', metadata.readme);
  if (metadata.license?.type === 'file') check('license', metadata.license.value);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading in pieces

/**
 * Bytes fetched at once. yauzl walks the entry list in reads of a few dozen bytes: each fetch brings the next few
 * hundred entries, and a small entry comes with the read of its local header.
 */
const READ_AHEAD_BYTES = 256 * 1024;

/** Failures of a {@link RandomAccessSource} itself (storage down, file gone): never mistaken for a bad package. */
const sourceErrors = new WeakSet<object>();

/** An entry's local header: 30 bytes, its name and extra field (allow 1 KiB for both; more costs another fetch). */
const LOCAL_HEADER_BYTES = 30 + 1024;

/** yauzl's view of a {@link RandomAccessSource}, keeping the last bytes fetched until told to forget them. */
class SourceReader extends yauzl.RandomAccessReader {
  private window: { readonly start: number; readonly bytes: Buffer } | null = null;
  private ahead = READ_AHEAD_BYTES;

  constructor(private readonly source: RandomAccessSource) {
    super();
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    this.slice(position, length).then(
      (bytes) => {
        if (bytes.length < length) return callback(new Error('unexpected end of file'));
        bytes.copy(buffer, offset);
        callback(null);
      },
      (error: Error) => callback(error),
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const chunks = async function* (reader: SourceReader) {
      for (let at = start; at < end; ) {
        // Entry data: what is asked for, never past its end.
        const bytes = await reader.slice(at, Math.min(READ_AHEAD_BYTES, end - at), 0);
        if (bytes.length === 0) throw new Error('unexpected end of file');
        yield bytes;
        at += bytes.length;
      }
    };
    return Readable.from(chunks(this), { objectMode: false });
  }

  /** Fetches at most `bytes` (or what a read asks for, if more) from now on, until {@link forget}. */
  readAhead(bytes: number): void {
    this.ahead = Math.min(bytes, READ_AHEAD_BYTES);
  }

  /** Drops the fetched bytes (an open archive may be kept long after its last read) and reads ahead fully again. */
  forget(): void {
    this.window = null;
    this.ahead = READ_AHEAD_BYTES;
  }

  private async slice(position: number, length: number, ahead = this.ahead): Promise<Buffer> {
    const window = this.window;
    if (window && position >= window.start && position + length <= window.start + window.bytes.length) {
      return window.bytes.subarray(position - window.start, position - window.start + length);
    }
    let bytes: Buffer;
    try {
      bytes = await this.source.read(position, Math.max(length, Math.min(ahead, this.source.size - position)));
    } catch (error) {
      if (error instanceof Object) sourceErrors.add(error);
      throw error;
    }
    this.window = { start: position, bytes };
    return bytes.subarray(0, length);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Inflating one entry

/**
 * Reads an entry whole, refusing it when its declared sizes or ratio break the bounds, and stopping the inflater as
 * soon as more than `maxBytes` come out (declared sizes can lie).
 */
async function readBounded(
  zip: ZipFile,
  entry: Entry,
  maxBytes: number,
  maxRatio: number,
  label: string,
): Promise<Buffer> {
  checkDeclaredSizes(entry, maxBytes, maxRatio, label);
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (error) {
    throw zipError(error, `${label} cannot be read`);
  }
  return collect(stream, maxBytes, label);
}

function checkDeclaredSizes(entry: Entry, maxBytes: number, maxRatio: number, label: string): void {
  if (entry.uncompressedSize > maxBytes) {
    throw badRequest(`${label} is ${entry.uncompressedSize} bytes uncompressed; at most ${maxBytes} are allowed.`);
  }
  // Deflate grows incompressible data by a few bytes per 16 KiB block at most; anything beyond is padding.
  if (entry.compressedSize > maxBytes + maxBytes / 1024 + 1024) {
    throw badRequest(`${label} is ${entry.compressedSize} bytes compressed; at most ${maxBytes} are allowed.`);
  }
  const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
  if (entry.uncompressedSize >= RATIO_FLOOR && ratio > maxRatio) {
    throw badRequest(`${label} has a compression ratio of ${Math.round(ratio)}:1; at most ${maxRatio}:1 is allowed.`);
  }
}

function collect(stream: Readable, maxBytes: number, label: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      stream.destroy();
      reject(error);
    };
    stream.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        fail(badRequest(`${label} inflates to more than ${maxBytes} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', (error) => fail(zipError(error, `${label} is corrupt`)));
    stream.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, total));
    });
  });
}

/** A name safe to put in a message: control characters escaped, long names cut. */
function printable(name: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = name.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > 200 ? `${escaped.slice(0, 200)}…` : escaped;
}
