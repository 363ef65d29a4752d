/**
 * Reading untrusted `.nupkg` files (zip archives) from disk.
 *
 * Everything about the file is hostile until checked: the entry count is bounded before any entry is read, every
 * entry name is checked for path tricks, and an entry is inflated only after its declared sizes and compression ratio
 * pass, and then only up to a byte cap, so a zip bomb costs at most the cap in memory and time.
 */
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { badRequest, PawketError } from '../errors.js';
import { DEFAULT_MAX_NUSPEC_BYTES, parseNuspec } from '../nuget/nuspec.js';
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
 * Longest entry name, in characters. Real paths stay far below (Windows clients extract under a 260-character limit
 * by default); the cap bounds the memory the entry list can take.
 */
export const MAX_ENTRY_NAME_LENGTH = 1024;

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
    const nuspecEntry = findNuspec(entries);
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
    const entries = await listEntries(zip, options.maxEntries ?? DEFAULT_PACKAGE_LIMITS.maxEntries);
    const entry = findEntry(entries, name);
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
  /** The one `.nuspec` at the root; a 400 when there is none or more than one, as for {@link readPackageFile}. */
  nuspecName(): string;
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
  const bounds = withDefaults(limits);
  const zip = await openZip(path);
  let entries: Entry[];
  try {
    entries = await listEntries(zip, bounds.maxEntries);
  } catch (error) {
    zip.close();
    throw error;
  }
  return {
    entries: entries.map((e) => e.fileName),
    nuspecName: () => findNuspec(entries).fileName,
    async read(name, maxBytes) {
      const entry = findEntry(entries, name);
      if (!entry) return null;
      return readBounded(zip, entry, maxBytes, bounds.maxCompressionRatio, `The entry '${printable(entry.fileName)}'`);
    },
    close: () => zip.close(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The zip

async function openZip(path: string): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(path, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: true,
      validateEntrySizes: true,
      // Turns `\` into `/` before yauzl's own name checks, so `..\x` is caught as `../x`.
      strictFileNames: false,
    });
  } catch (error) {
    throw zipError(error, 'The file is not a valid zip/NuGet package');
  }
}

/** A yauzl or zlib format error becomes a 400; file-system errors (they name a `syscall`) stay server errors. */
function zipError(error: unknown, prefix: string): unknown {
  if (error instanceof PawketError || !(error instanceof Error) || 'syscall' in error) return error;
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

/** Exactly one `.nuspec` file at the root, as NuGet's `PackageArchiveReader` requires. */
function findNuspec(entries: readonly Entry[]): Entry {
  const isNuspec = (name: string) => name.toLowerCase().endsWith('.nuspec');
  const atRoot = entries.filter((e) => !e.fileName.includes('/') && isNuspec(e.fileName));
  const [first, second] = atRoot;
  if (first && second) {
    throw badRequest(
      `The package has more than one .nuspec file at its root ('${printable(first.fileName)}' and '${printable(second.fileName)}'); it must have exactly one.`,
    );
  }
  if (first) return first;
  const nested = entries.find((e) => isNuspec(e.fileName) && !e.fileName.endsWith('/'));
  const hint = nested ? ` ('${printable(nested.fileName)}' is not at the root)` : '';
  throw badRequest(`The package has no .nuspec file at its root${hint}.`);
}

function findEntry(entries: readonly Entry[], name: string): Entry | undefined {
  const wanted = normalizePartName(name);
  const lower = wanted.toLowerCase();
  return entries.find((e) => e.fileName === wanted) ?? entries.find((e) => e.fileName.toLowerCase() === lower);
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
