import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { crc32 } from 'node:zlib';

/** NuGet's package signature entry (SigningSpecifications.V1). */
export const SIGNATURE_ENTRY = '.signature.p7s';
const SIGNATURE_NAME = Buffer.from(SIGNATURE_ENTRY, 'ascii');
const EOCD = 0x06054b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const ZIP64_LOCATOR = 0x07064b50;
/** Real signature files (certificates, timestamps, a countersignature) are tens of kilobytes: more is refused. */
const MAX_SIGNATURE_BYTES = 1024 * 1024;
/** The central directory is read whole: packages are limited in entries, so this bounds it generously. */
const MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024;

export class ZipLayoutError extends Error {
  override name = 'ZipLayoutError';
}

/** Where a package's parts are, and its signature entry if it has one (NuGet requires it last, local and central). */
export interface ZipLayout {
  readonly size: number;
  readonly entries: number;
  /** Start of the central directory = end of the local entries. */
  readonly centralStart: number;
  readonly centralEnd: number;
  /** The end of central directory record (with its comment), to the end of the file. */
  readonly eocd: Buffer;
  readonly signature?: {
    readonly localStart: number;
    readonly centralStart: number;
    readonly dataStart: number;
    readonly dataLength: number;
  };
}

/** Reads the end record and central directory of the zip at `file`. */
export async function readZipLayout(file: string): Promise<ZipLayout> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLength);
    await handle.read(tail, 0, tailLength, size - tailLength);
    let at = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) === tailLength) {
        at = i;
        break;
      }
    }
    if (at < 0) throw new ZipLayoutError('the package is not a zip (no end of central directory record)');
    const eocdStart = size - tailLength + at;
    if (eocdStart >= 20 && (await readAt(handle, eocdStart - 20, 4)).readUInt32LE(0) === ZIP64_LOCATOR) {
      throw new ZipLayoutError('the package is a zip64 archive, which Pawket does not repository-sign');
    }
    const eocd = Buffer.from(tail.subarray(at));
    const entries = eocd.readUInt16LE(10);
    const centralSize = eocd.readUInt32LE(12);
    const centralStart = eocd.readUInt32LE(16);
    if (eocd.readUInt16LE(4) !== 0 || eocd.readUInt16LE(6) !== 0 || entries !== eocd.readUInt16LE(8)) throw new ZipLayoutError('multi-disk zips are not packages');
    if (centralStart + centralSize !== eocdStart || centralSize > MAX_CENTRAL_DIRECTORY) throw new ZipLayoutError('the central directory is not where the end record says');
    const central = await readAt(handle, centralStart, centralSize);
    let signature: ZipLayout['signature'];
    let maxLocal = -1;
    let offset = 0;
    for (let n = 0; n < entries; n++) {
      if (offset + 46 > central.length || central.readUInt32LE(offset) !== CENTRAL_HEADER) throw new ZipLayoutError('the central directory is damaged');
      const flags = central.readUInt16LE(offset + 8);
      const nameLength = central.readUInt16LE(offset + 28);
      const headerLength = 46 + nameLength + central.readUInt16LE(offset + 30) + central.readUInt16LE(offset + 32);
      const localStart = central.readUInt32LE(offset + 42);
      const name = central.subarray(offset + 46, offset + 46 + nameLength);
      if (!(flags & 0x800) && name.equals(SIGNATURE_NAME)) {
        if (signature) throw new ZipLayoutError('the package has two signature entries');
        if (offset + headerLength !== centralSize) throw new ZipLayoutError('the signature entry is not the last in the central directory');
        const local = await readAt(handle, localStart, 30);
        if (local.readUInt32LE(0) !== LOCAL_HEADER) throw new ZipLayoutError('the signature entry has no local header');
        const dataStart = localStart + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        const dataLength = central.readUInt32LE(offset + 20);
        if (dataLength > MAX_SIGNATURE_BYTES) throw new ZipLayoutError(`the signature entry is over ${MAX_SIGNATURE_BYTES} bytes`);
        signature = { localStart, centralStart: centralStart + offset, dataStart, dataLength };
      }
      maxLocal = Math.max(maxLocal, localStart);
      offset += headerLength;
    }
    if (offset !== centralSize) throw new ZipLayoutError('the central directory is damaged');
    if (signature && (signature.localStart !== maxLocal || signature.dataStart + signature.dataLength !== centralStart)) {
      throw new ZipLayoutError('the signature entry is not the last entry of the package');
    }
    return { size, entries, centralStart, centralEnd: centralStart + centralSize, eocd, ...(signature ? { signature } : {}) };
  } finally {
    await handle.close();
  }
}

async function readAt(handle: Awaited<ReturnType<typeof open>>, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  if (bytesRead !== length) throw new ZipLayoutError('the package ends early');
  return buf;
}

/** The existing signature entry's bytes. */
export async function readSignatureEntry(file: string, layout: ZipLayout): Promise<Buffer | null> {
  if (!layout.signature) return null;
  const handle = await open(file, 'r');
  try {
    return await readAt(handle, layout.signature.dataStart, layout.signature.dataLength);
  } finally {
    await handle.close();
  }
}

/** The package without its signature entry: the local entries, the other central headers, the end record (adjusted). */
function unsignedParts(layout: ZipLayout): { localEnd: number; centralEnd: number; eocd: Buffer } {
  const sig = layout.signature;
  if (!sig) return { localEnd: layout.centralStart, centralEnd: layout.centralEnd, eocd: layout.eocd };
  const eocd = Buffer.from(layout.eocd);
  eocd.writeUInt16LE(layout.entries - 1, 8);
  eocd.writeUInt16LE(layout.entries - 1, 10);
  eocd.writeUInt32LE(sig.centralStart - layout.centralStart, 12);
  eocd.writeUInt32LE(sig.localStart, 16);
  return { localEnd: sig.localStart, centralEnd: sig.centralStart, eocd };
}

/** SHA-256 of the package without its signature entry: what a NuGet signature's content names. */
export async function unsignedContentHash(file: string, layout: ZipLayout): Promise<Buffer> {
  const parts = unsignedParts(layout);
  const hash = createHash('sha256');
  await hashRange(file, 0, parts.localEnd, hash);
  await hashRange(file, layout.centralStart, parts.centralEnd, hash);
  hash.update(parts.eocd);
  return hash.digest();
}

async function hashRange(file: string, start: number, end: number, hash: Hash): Promise<void> {
  if (end <= start) return;
  for await (const chunk of createReadStream(file, { start, end: end - 1 })) hash.update(chunk as Buffer);
}

/** MS-DOS date and time (what zip headers hold), in UTC. */
function dosDateTime(date: Date): number {
  const year = Math.min(Math.max(date.getUTCFullYear(), 1980), 2107);
  const dosTime = (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2);
  const dosDate = ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate();
  return ((dosDate << 16) | dosTime) >>> 0;
}

/**
 * Writes `target`: the package at `source` with `signature` as its signature entry (an old one is replaced), the way
 * NuGet writes it: stored, no flags or extra fields, local entry after the others, central header last. Streams the
 * package; returns the new file's size and base64 SHA-512.
 */
export async function writeSignedPackage(source: string, layout: ZipLayout, signature: Buffer, target: string, now = new Date()): Promise<{ size: number; sha512: string }> {
  const parts = unsignedParts(layout);
  const crc = crc32(signature);
  const stamp = dosDateTime(now);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(LOCAL_HEADER, 0);
  local.writeUInt16LE(20, 4); // version needed to extract: 2.0
  local.writeUInt16LE(0, 6); // flags
  local.writeUInt16LE(0, 8); // stored
  local.writeUInt32LE(stamp, 10);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(signature.length, 18);
  local.writeUInt32LE(signature.length, 22);
  local.writeUInt16LE(SIGNATURE_NAME.length, 26);
  local.writeUInt16LE(0, 28);
  const localEntry = Buffer.concat([local, SIGNATURE_NAME]);

  const central = Buffer.alloc(46);
  central.writeUInt32LE(CENTRAL_HEADER, 0);
  central.writeUInt16LE(20, 4); // version made by: 2.0
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0, 8);
  central.writeUInt16LE(0, 10);
  central.writeUInt32LE(stamp, 12);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(signature.length, 20);
  central.writeUInt32LE(signature.length, 24);
  central.writeUInt16LE(SIGNATURE_NAME.length, 28);
  // extra, comment, disk, internal and external attributes: 0
  central.writeUInt32LE(parts.localEnd, 42);
  const centralHeader = Buffer.concat([central, SIGNATURE_NAME]);

  const otherCentral = parts.centralEnd - layout.centralStart;
  const newCentralStart = parts.localEnd + localEntry.length + signature.length;
  if (newCentralStart + otherCentral + centralHeader.length > 0xffffffff) throw new ZipLayoutError('the signed package would need zip64');
  const eocd = Buffer.from(parts.eocd);
  const entries = eocd.readUInt16LE(10) + 1;
  if (entries > 0xffff) throw new ZipLayoutError('the signed package would need zip64');
  eocd.writeUInt16LE(entries, 8);
  eocd.writeUInt16LE(entries, 10);
  eocd.writeUInt32LE(otherCentral + centralHeader.length, 12);
  eocd.writeUInt32LE(newCentralStart, 16);

  const hash = createHash('sha512');
  let size = 0;
  const out = createWriteStream(target, { flags: 'wx' });
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  async function* pieces() {
    if (parts.localEnd > 0) yield* createReadStream(source, { start: 0, end: parts.localEnd - 1 });
    yield localEntry;
    yield signature;
    if (otherCentral > 0) yield* createReadStream(source, { start: layout.centralStart, end: parts.centralEnd - 1 });
    yield centralHeader;
    yield eocd;
  }
  try {
    await pipeline(pieces, count, out);
  } catch (e) {
    await rm(target, { force: true });
    throw e;
  }
  return { size, sha512: hash.digest('base64') };
}
