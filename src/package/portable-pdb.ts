/**
 * Portable PDB identity: what a debugger and a symbol server need from a `.pdb`, read by hand from untrusted bytes.
 *
 * A portable PDB is ECMA-335 metadata: a metadata root (signature `BSJB`, a version string, stream headers) whose
 * `#Pdb` stream starts with the 20-byte PDB id, a GUID and a 4-byte stamp. The assembly built with it names the same
 * GUID and stamp in its CodeView debug directory entry, and usually a checksum of the PDB (see pe-debug-directory.ts).
 * References: ECMA-335 II.24.2.1-2; the Portable PDB spec (dotnet/runtime, System.Reflection.Metadata/specs).
 *
 * Every offset and size in the file is checked before use; a truncated or lying file is a 400 saying what is wrong.
 */
import { createHash } from 'node:crypto';
import { badRequest } from '../errors.js';
import { toLowerInvariant } from '../nuget/id.js';
import { BinaryView, guidToString } from './binary.js';

/** `BSJB`, little-endian: the first four bytes of every ECMA-335 metadata root, so of every portable PDB. */
export const METADATA_SIGNATURE = 0x424a5342;

/** The start of a Windows (MSF) PDB, which this feed does not take. */
export const WINDOWS_PDB_SIGNATURE = 'Microsoft C/C++ MSF 7.00';

/** Size of the PDB id at the start of the `#Pdb` stream: a 16-byte GUID and a 4-byte stamp. */
export const PDB_ID_SIZE = 20;

/** The version string of a metadata root is at most 255 bytes (ECMA-335 II.24.2.1), padded to a multiple of 4. */
const MAX_VERSION_LENGTH = 256;
/** Stream names are at most 32 bytes with their NUL (ECMA-335 II.24.2.2). */
const MAX_STREAM_NAME = 32;
/** A portable PDB has six streams; the cap only bounds the work on a lying header. */
const MAX_STREAMS = 64;

/** The identity of a portable PDB. */
export interface PortablePdbId {
  /** The GUID as .NET's `Guid.ToString("N")` prints it: 32 lower-case hex digits. */
  readonly guid: string;
  /** The stamp (the assembly's CodeView entry carries it as its TimeDateStamp). */
  readonly stamp: number;
  /** Where the 20-byte id starts in the file: a checksum is computed with these bytes zeroed. */
  readonly idOffset: number;
}

/** Whether the bytes start like a Windows PDB (an MSF 7.00 container). */
export function isWindowsPdb(bytes: Buffer): boolean {
  return bytes.subarray(0, WINDOWS_PDB_SIGNATURE.length).toString('latin1') === WINDOWS_PDB_SIGNATURE;
}

/**
 * Reads the PDB id of a portable PDB. `name` is how messages call the file (its path in the package).
 * Throws a 400 for a Windows PDB, anything that is not a portable PDB, and a truncated or inconsistent one.
 *
 * @example
 * const id = readPortablePdbId(pdbBytes, 'lib/net8.0/Foo.pdb'); // { guid: '42a1034c…', stamp: 2956754827, idOffset: 124 }
 */
export function readPortablePdbId(bytes: Buffer, name: string): PortablePdbId {
  if (isWindowsPdb(bytes)) {
    throw badRequest(
      `'${name}' is a Windows PDB; this feed takes portable PDBs only (build with <DebugType>portable</DebugType>, the default of SDK-style projects).`,
    );
  }
  if (bytes.length < 4 || bytes.readUInt32LE(0) !== METADATA_SIGNATURE) {
    throw badRequest(`'${name}' is not a portable PDB: it does not start with the metadata signature 'BSJB'.`);
  }
  const view = new BinaryView(bytes, `'${name}' is not a valid portable PDB`);
  const versionLength = view.u32(12, 'the metadata root header');
  if (versionLength > MAX_VERSION_LENGTH) {
    throw view.fail(`its version string claims ${versionLength} bytes; at most ${MAX_VERSION_LENGTH} are allowed`);
  }
  view.check(16, versionLength, 'the version string');
  let offset = 16 + versionLength;
  const streamCount = view.u16(offset + 2, 'the stream count');
  if (streamCount > MAX_STREAMS) throw view.fail(`it claims ${streamCount} metadata streams; at most ${MAX_STREAMS} are allowed`);
  offset += 4;
  for (let i = 0; i < streamCount; i++) {
    const streamOffset = view.u32(offset, `stream header ${i + 1}`);
    const streamSize = view.u32(offset + 4, `stream header ${i + 1}`);
    const nameStart = offset + 8;
    view.check(nameStart, 1, `the name of stream ${i + 1}`);
    const nameBytes = view.slice(nameStart, Math.min(MAX_STREAM_NAME, view.length - nameStart), `the name of stream ${i + 1}`);
    const nul = nameBytes.indexOf(0);
    if (nul < 0) throw view.fail(`the name of stream ${i + 1} is not NUL-terminated within ${MAX_STREAM_NAME} bytes`);
    const streamName = nameBytes.toString('latin1', 0, nul);
    // The name and its NUL are padded to a multiple of 4 bytes.
    offset = nameStart + ((nul + 4) & ~3);
    if (streamName !== '#Pdb') continue;
    view.check(streamOffset, streamSize, 'the #Pdb stream');
    if (streamSize < PDB_ID_SIZE) throw view.fail(`its #Pdb stream is ${streamSize} bytes, too small to hold the ${PDB_ID_SIZE}-byte PDB id`);
    return {
      guid: guidToString(view.slice(streamOffset, 16, 'the PDB id')),
      stamp: view.u32(streamOffset + 16, 'the PDB id'),
      idOffset: streamOffset,
    };
  }
  throw view.fail('it has no #Pdb stream (is it an assembly\'s metadata rather than a PDB?)');
}

/** Hash algorithms a PDB checksum may use (NuGet and the compilers use SHA256), mapped to Node's names. */
const CHECKSUM_ALGORITHMS: Readonly<Record<string, string>> = { SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };

/** Whether {@link pdbChecksum} can compute a checksum with this algorithm name (as the debug directory spells it). */
export function isSupportedChecksumAlgorithm(algorithm: string): boolean {
  return Object.hasOwn(CHECKSUM_ALGORITHMS, algorithm.toUpperCase());
}

/**
 * The checksum of a portable PDB as the assembly's PdbChecksum debug directory entry records it: the hash of the file
 * with its 20-byte PDB id zeroed. Null for an algorithm we do not know.
 *
 * @example pdbChecksum(pdbBytes, id.idOffset, 'SHA256')?.toString('hex')
 */
export function pdbChecksum(bytes: Buffer, idOffset: number, algorithm: string): Buffer | null {
  const nodeName = CHECKSUM_ALGORITHMS[algorithm.toUpperCase()];
  if (nodeName === undefined) return null;
  return createHash(nodeName)
    .update(bytes.subarray(0, idOffset))
    .update(Buffer.alloc(PDB_ID_SIZE))
    .update(bytes.subarray(idOffset + PDB_ID_SIZE))
    .digest();
}

/**
 * The Simple Symbol Query Protocol key of a portable PDB (dotnet/symstore, SSQP_Key_Conventions.md,
 * "Portable-Pdb-Signature"): `{file}/{guid}FFFFFFFF/{file}`, all lower case here because keys compare
 * case-insensitively. `fileName` is the PDB's file name as the assembly's CodeView entry names it.
 *
 * @example ssqpKey('Foo.pdb', '42a1034c45ec413e9d271ba42da0e456') // 'foo.pdb/42a1034c45ec413e9d271ba42da0e456ffffffff/foo.pdb'
 */
export function ssqpKey(fileName: string, guid: string): string {
  const file = toLowerInvariant(fileName);
  return `${file}/${guid.toLowerCase()}ffffffff/${file}`;
}
