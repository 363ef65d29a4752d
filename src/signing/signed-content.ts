import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { badRequest } from '../errors.js';

/** NuGet's package signature entry: at the zip root, stored, the last entry (NuGet's SigningSpecifications.V1). */
export const SIGNATURE_ENTRY = '.signature.p7s';
const SIGNATURE_NAME = Buffer.from(SIGNATURE_ENTRY, 'ascii');

/** Largest signature entry read: real ones (author + repository, with chains and timestamps) are under 30 KiB. */
export const MAX_SIGNATURE_BYTES = 1024 * 1024;
/** Largest central directory read into memory (a package's entry count is bounded before this runs). */
const MAX_CENTRAL_DIRECTORY_BYTES = 32 * 1024 * 1024;

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_FIXED = 46;
const LOCAL_FIXED = 30;

/** What the signed content hash is computed over: ranges of the file and bytes that replace parts of it, in order. */
type HashPiece = { readonly start: number; readonly end: number } | Buffer;

/** A signed package as NuGet reads it: the signature's bytes and how to hash the package without them. */
export interface SignedPackageLayout {
  readonly signature: Buffer;
  readonly pieces: readonly HashPiece[];
}

export type SignedContentHash = 'sha256' | 'sha384' | 'sha512';

interface CentralRecord {
  /** Where the header starts in the file. */
  readonly position: number;
  readonly size: number;
  /** The header's bytes (a view of the central directory in memory). */
  readonly bytes: Buffer;
  readonly localOffset: number;
  readonly isSignature: boolean;
  /** Bytes from its local header to the next entry's (or to the central directory): NuGet's FileEntryTotalSize. */
  entryTotal: number;
}

const refuse = (why: string) => badRequest(`The package signature (${SIGNATURE_ENTRY}) is not valid: ${why}.`);

/**
 * Finds the package signature and the signed content's byte layout, following NuGet's signed archive rules
 * (SignedPackageArchiveIOUtility): one `.signature.p7s` entry, stored, no flags, equal sizes, last in the central
 * directory and last among the file entries. Only the central directory and the signature are read into memory.
 * Returns null for an unsigned package.
 */
export async function readSignedLayout(file: string): Promise<SignedPackageLayout | null> {
  const handle = await open(file, 'r');
  try {
    return await layoutOf(handle);
  } finally {
    await handle.close();
  }
}

async function read(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  if (bytesRead !== length) throw badRequest('The package is not a valid zip archive: it ends too early.');
  return buffer;
}

async function layoutOf(handle: FileHandle): Promise<SignedPackageLayout | null> {
  const { size } = await handle.stat();
  if (size < EOCD_SIZE) return null; // not a zip: the package reader has said so already
  const tailLength = Math.min(size, EOCD_SIZE + 0xffff);
  const tail = await read(handle, size - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) return null;
  const eocdPosition = size - tailLength + at;
  const eocd = tail.subarray(at, at + EOCD_SIZE);
  const onDisk = eocd.readUInt16LE(8);
  const total = eocd.readUInt16LE(10);
  const cdSize = eocd.readUInt32LE(12);
  const cdOffset = eocd.readUInt32LE(16);
  const zip64 =
    onDisk === 0xffff || total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff ||
    (eocdPosition >= 20 && (await read(handle, eocdPosition - 20, 4)).readUInt32LE(0) === ZIP64_LOCATOR);
  if (zip64) {
    if (await hasSignatureEntryZip64(handle, eocdPosition)) throw refuse('signed packages in the zip64 format are not supported (nor by NuGet)');
    return null;
  }
  if (cdOffset + cdSize > eocdPosition) return null; // a broken archive: the package reader refuses it
  if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES) throw badRequest(`The package's central directory is larger than ${MAX_CENTRAL_DIRECTORY_BYTES} bytes.`);
  const cd = await read(handle, cdOffset, cdSize);
  const records = centralRecords(cd, cdOffset);
  const signatures = records.filter((r) => r.isSignature);
  if (signatures.length === 0) return null;
  if (signatures.length > 1) throw refuse('the package has more than one signature entry');
  if (eocd.readUInt16LE(4) !== 0 || eocd.readUInt16LE(6) !== 0) throw refuse('multi-disk archives are not supported');
  if (records.length !== total || records.length !== onDisk) throw refuse("the central directory's entry count does not match its records");
  const signature = signatures[0]!;
  const cdEnd = records.at(-1)!.position + records.at(-1)!.size;
  // NuGet reads the end of central directory record right after the last header.
  if (cdEnd !== eocdPosition) throw refuse('the end of central directory record does not follow the central directory');
  if (records.at(-1) !== signature) throw refuse('the signature entry must be the last entry of the central directory');

  // Each entry spans up to the next one's local header (in file order), the last one up to the central directory.
  const byOffset = [...records].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 0; i < byOffset.length; i++) {
    const next = i + 1 < byOffset.length ? byOffset[i + 1]!.localOffset : cdOffset;
    byOffset[i]!.entryTotal = next - byOffset[i]!.localOffset;
    if (byOffset[i]!.entryTotal < LOCAL_FIXED) throw refuse('the archive has overlapping entries');
  }
  if (byOffset.at(-1) !== signature) throw refuse('the signature entry must be the last file entry of the archive');

  const signatureBytes = await signatureData(handle, signature);

  // The signed content is the package as it was before the signature was added (NuGet's VerifySignedPackageIntegrity):
  // the entries without the signature's, the central directory without its header and with later entries' offsets
  // moved back, and the end record with one entry fewer.
  const pieces: HashPiece[] = [];
  const others = byOffset.filter((r) => !r.isSignature);
  const startOfEntries = byOffset[0]!.localOffset;
  pieces.push({ start: 0, end: startOfEntries });
  const shift = new Map<CentralRecord, number>();
  let previousEnd = 0;
  for (const r of others) {
    shift.set(r, previousEnd - r.localOffset);
    previousEnd = r.localOffset + r.entryTotal + (previousEnd - r.localOffset);
    pieces.push({ start: r.localOffset, end: r.localOffset + r.entryTotal });
  }
  for (const r of records.filter((x) => !x.isSignature)) {
    const header = Buffer.from(r.bytes);
    header.writeUInt32LE((r.localOffset + shift.get(r)!) >>> 0, 42);
    pieces.push(header);
  }
  const end = Buffer.from(eocd.subarray(0, 20));
  end.writeUInt16LE((onDisk - 1) & 0xffff, 8);
  end.writeUInt16LE((total - 1) & 0xffff, 10);
  end.writeUInt32LE((cdSize - signature.size) >>> 0, 12);
  end.writeUInt32LE((cdOffset - signature.entryTotal) >>> 0, 16);
  pieces.push(end);
  pieces.push({ start: eocdPosition + 20, end: size });
  return { signature: signatureBytes, pieces: merge(pieces) };
}

function centralRecords(cd: Buffer, cdOffset: number): CentralRecord[] {
  const records: CentralRecord[] = [];
  for (let p = 0; p + 4 <= cd.length && cd.readUInt32LE(p) === CENTRAL_HEADER; ) {
    if (p + CENTRAL_FIXED > cd.length) throw badRequest('The package is not a valid zip archive: a central directory header is cut short.');
    const size = CENTRAL_FIXED + cd.readUInt16LE(p + 28) + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
    if (p + size > cd.length) throw badRequest('The package is not a valid zip archive: a central directory header is cut short.');
    const bytes = cd.subarray(p, p + size);
    const name = bytes.subarray(CENTRAL_FIXED, CENTRAL_FIXED + bytes.readUInt16LE(28));
    const isSignature = name.equals(SIGNATURE_NAME);
    if (isSignature) {
      checkHeaderFields(bytes, 8, 'central directory header');
      if (bytes.readUInt32LE(38) !== 0) throw refuse('its central directory header has external file attributes');
    }
    records.push({ position: cdOffset + p, size, bytes, localOffset: bytes.readUInt32LE(42), isSignature, entryTotal: 0 });
    p += size;
  }
  return records;
}

/** NuGet's rules for both headers of the signature entry: no flags (so no UTF-8 name, no data descriptor), stored. */
function checkHeaderFields(header: Buffer, flagsAt: number, which: string): void {
  if (header.readUInt16LE(flagsAt) !== 0) throw refuse(`its ${which} has general purpose flags set`);
  if (header.readUInt16LE(flagsAt + 2) !== 0) throw refuse(`it must be stored uncompressed, but its ${which} names compression method ${header.readUInt16LE(flagsAt + 2)}`);
  if (header.readUInt32LE(flagsAt + 12) !== header.readUInt32LE(flagsAt + 16)) throw refuse(`its ${which}'s compressed and uncompressed sizes differ`);
}

async function signatureData(handle: FileHandle, record: CentralRecord): Promise<Buffer> {
  const local = await read(handle, record.localOffset, LOCAL_FIXED);
  if (local.readUInt32LE(0) !== LOCAL_HEADER) throw refuse('its local file header is missing');
  checkHeaderFields(local, 6, 'local file header');
  const length = local.readUInt32LE(18);
  if (length > MAX_SIGNATURE_BYTES) throw refuse(`it is ${length} bytes; at most ${MAX_SIGNATURE_BYTES} are accepted`);
  if (length !== record.bytes.readUInt32LE(24)) throw refuse('its local and central headers disagree on its size');
  const nameLength = local.readUInt16LE(26);
  const dataAt = record.localOffset + LOCAL_FIXED + nameLength + local.readUInt16LE(28);
  if (!(await read(handle, record.localOffset + LOCAL_FIXED, nameLength)).equals(SIGNATURE_NAME)) throw refuse('its local file header names another file');
  if (dataAt + length !== record.localOffset + record.entryTotal) throw refuse('its entry holds bytes beyond the signature');
  return read(handle, dataAt, length);
}

async function hasSignatureEntryZip64(handle: FileHandle, eocdPosition: number): Promise<boolean> {
  if (eocdPosition < 20) return false;
  const locator = await read(handle, eocdPosition - 20, 20);
  if (locator.readUInt32LE(0) !== ZIP64_LOCATOR) return false;
  const record = await read(handle, Number(locator.readBigUInt64LE(8)), 56).catch(() => null);
  if (!record || record.readUInt32LE(0) !== 0x06064b50) return false;
  const cdSize = Number(record.readBigUInt64LE(40));
  const cdOffset = Number(record.readBigUInt64LE(48));
  if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES) return false;
  const cd = await read(handle, cdOffset, cdSize).catch(() => null);
  if (!cd) return false;
  for (let p = 0; p + CENTRAL_FIXED <= cd.length && cd.readUInt32LE(p) === CENTRAL_HEADER; ) {
    const nameLength = cd.readUInt16LE(p + 28);
    if (cd.subarray(p + CENTRAL_FIXED, p + CENTRAL_FIXED + nameLength).equals(SIGNATURE_NAME)) return true;
    p += CENTRAL_FIXED + nameLength + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
  }
  return false;
}

/** Joins adjacent file ranges, so a package of many entries is read in one pass, not one stream per entry. */
function merge(pieces: HashPiece[]): HashPiece[] {
  const out: HashPiece[] = [];
  for (const piece of pieces) {
    const last = out.at(-1);
    if (Buffer.isBuffer(piece)) {
      if (piece.length) out.push(piece);
    } else if (piece.end > piece.start) {
      if (last && !Buffer.isBuffer(last) && last.end === piece.start) out[out.length - 1] = { start: last.start, end: piece.end };
      else out.push(piece);
    }
  }
  return out;
}

/** The hash of the signed content (the package without its signature), streamed from the file. */
export async function hashSignedContent(file: string, layout: SignedPackageLayout, algorithm: SignedContentHash): Promise<Buffer> {
  const hash = createHash(algorithm);
  for (const piece of layout.pieces) {
    if (Buffer.isBuffer(piece)) {
      hash.update(piece);
      continue;
    }
    for await (const chunk of createReadStream(file, { start: piece.start, end: piece.end - 1, highWaterMark: 256 * 1024 })) {
      hash.update(chunk as Buffer);
    }
  }
  return hash.digest();
}
