/**
 * The debug directory of a PE/COFF image (a .NET `.dll` or `.exe`), read by hand from untrusted bytes: which PDB
 * the assembly was built with (CodeView `RSDS` entries) and the checksums of that PDB (PdbChecksum entries).
 *
 * Layout (PE/COFF spec; dotnet/runtime System.Reflection.Metadata/specs/PE-COFF.md for the .NET entries):
 * `MZ` DOS header → `e_lfanew` → `PE\0\0` → COFF header (20 bytes) → optional header (PE32 or PE32+) whose data
 * directory 6 is the debug directory (an RVA and a size) → section table, which maps the RVA to a file offset →
 * 28-byte entries, each pointing at its data by file offset.
 *
 * Every offset, size and count is checked before use; a truncated or lying image is a 400, never a crash.
 */
import { BinaryView, guidToString, nulTerminatedUtf8 } from './binary.js';

/** Debug directory entry types we read (IMAGE_DEBUG_TYPE_*). */
export const DEBUG_TYPE = { codeView: 2, embeddedPortablePdb: 17, pdbChecksum: 19 } as const;

/** A CodeView entry whose MinorVersion is this (`PM`) names a portable PDB. */
export const PORTABLE_CODEVIEW_MINOR_VERSION = 0x504d;

/** `RSDS`, little-endian: the CodeView 7.0 format with a GUID, an age and a path. */
const RSDS_SIGNATURE = 0x53445352;

const DEBUG_ENTRY_SIZE = 28;
/** Real images have a handful of entries; the cap bounds the work on a lying directory size. */
const MAX_DEBUG_ENTRIES = 256;
/** The PE spec's limit on sections. */
const MAX_SECTIONS = 96;

/** A CodeView (`RSDS`) entry: the PDB the image was built with. */
export interface CodeViewEntry {
  /** As .NET's `Guid.ToString("N")` prints it: 32 lower-case hex digits. */
  readonly guid: string;
  readonly age: number;
  /** The PDB path the compiler recorded (often mapped, e.g. `/_/obj/Release/net8.0/Foo.pdb`). */
  readonly path: string;
  /** The entry's TimeDateStamp: for a portable PDB, the stamp of the PDB id. */
  readonly stamp: number;
  /** Whether the entry names a portable PDB (MinorVersion `PM`). */
  readonly portable: boolean;
}

/** A PdbChecksum entry: the hash of the PDB with its id zeroed. */
export interface PdbChecksumEntry {
  /** As recorded, e.g. `SHA256`. */
  readonly algorithm: string;
  readonly checksum: Buffer;
}

export interface DebugDirectory {
  readonly codeView: readonly CodeViewEntry[];
  readonly checksums: readonly PdbChecksumEntry[];
  /** The image carries its own portable PDB (`<DebugType>embedded</DebugType>`). */
  readonly hasEmbeddedPdb: boolean;
}

interface Section {
  readonly virtualAddress: number;
  readonly virtualSize: number;
  readonly sizeOfRawData: number;
  readonly pointerToRawData: number;
}

/**
 * Reads the debug directory of a PE image. `name` is how messages call the file (its path in the package).
 * An image without a debug directory has none of the entries; a file that is not a valid PE image is a 400.
 *
 * @example
 * const { codeView, checksums } = readDebugDirectory(dllBytes, 'lib/net8.0/Foo.dll');
 */
export function readDebugDirectory(bytes: Buffer, name: string): DebugDirectory {
  const view = new BinaryView(bytes, `'${name}' is not a valid PE image`);
  if (bytes.length < 2 || bytes.readUInt16LE(0) !== 0x5a4d) throw view.fail("it does not start with 'MZ'");
  const peOffset = view.u32(0x3c, 'the DOS header');
  if (view.u32(peOffset, 'the PE signature') !== 0x00004550) throw view.fail(`there is no 'PE' signature at offset ${peOffset}`);

  const coff = peOffset + 4;
  const sectionCount = view.u16(coff + 2, 'the COFF header');
  const optionalSize = view.u16(coff + 16, 'the COFF header');
  if (sectionCount > MAX_SECTIONS) throw view.fail(`it claims ${sectionCount} sections; at most ${MAX_SECTIONS} are allowed`);

  const optional = coff + 20;
  view.check(optional, optionalSize, 'the optional header');
  const magic = view.u16(optional, 'the optional header');
  // PE32 (0x10b) and PE32+ (0x20b) differ in where the data directories start.
  const layout = magic === 0x10b ? { count: 92, directories: 96 } : magic === 0x20b ? { count: 108, directories: 112 } : null;
  if (!layout) throw view.fail(`its optional header magic is 0x${magic.toString(16)}, neither PE32 nor PE32+`);

  const sections = readSections(view, optional + optionalSize, sectionCount);
  const none: DebugDirectory = { codeView: [], checksums: [], hasEmbeddedPdb: false };
  const directoryCount = layout.count + 4 <= optionalSize ? view.u32(optional + layout.count, 'the optional header') : 0;
  const debugDirectory = optional + layout.directories + 6 * 8;
  if (directoryCount <= 6 || debugDirectory + 8 > optional + optionalSize) return none;
  const rva = view.u32(debugDirectory, 'the debug data directory');
  const size = view.u32(debugDirectory + 4, 'the debug data directory');
  if (rva === 0 && size === 0) return none;
  if (size % DEBUG_ENTRY_SIZE !== 0) throw view.fail(`its debug directory is ${size} bytes, not a whole number of ${DEBUG_ENTRY_SIZE}-byte entries`);
  if (size / DEBUG_ENTRY_SIZE > MAX_DEBUG_ENTRIES) throw view.fail(`its debug directory claims ${size / DEBUG_ENTRY_SIZE} entries; at most ${MAX_DEBUG_ENTRIES} are allowed`);
  const start = fileOffset(view, sections, rva, size, 'the debug directory');

  const codeView: CodeViewEntry[] = [];
  const checksums: PdbChecksumEntry[] = [];
  let hasEmbeddedPdb = false;
  for (let at = start; at < start + size; at += DEBUG_ENTRY_SIZE) {
    const stamp = view.u32(at + 4, 'a debug directory entry');
    const minorVersion = view.u16(at + 10, 'a debug directory entry');
    const type = view.u32(at + 12, 'a debug directory entry');
    const dataSize = view.u32(at + 16, 'a debug directory entry');
    const dataOffset = view.u32(at + 24, 'a debug directory entry');
    if (type === DEBUG_TYPE.embeddedPortablePdb) hasEmbeddedPdb = true;
    if (type !== DEBUG_TYPE.codeView && type !== DEBUG_TYPE.pdbChecksum) continue;
    const data = view.slice(dataOffset, dataSize, type === DEBUG_TYPE.codeView ? 'a CodeView entry' : 'a PDB checksum entry');
    if (type === DEBUG_TYPE.codeView) {
      const entry = readCodeView(view, data, stamp, minorVersion);
      if (entry) codeView.push(entry);
    } else {
      checksums.push(readChecksum(view, data));
    }
  }
  return { codeView, checksums, hasEmbeddedPdb };
}

function readSections(view: BinaryView, tableOffset: number, count: number): Section[] {
  const sections: Section[] = [];
  for (let i = 0; i < count; i++) {
    const at = tableOffset + i * 40;
    view.check(at, 40, `section header ${i + 1}`);
    sections.push({
      virtualSize: view.u32(at + 8, 'a section header'),
      virtualAddress: view.u32(at + 12, 'a section header'),
      sizeOfRawData: view.u32(at + 16, 'a section header'),
      pointerToRawData: view.u32(at + 20, 'a section header'),
    });
  }
  return sections;
}

/** The file offset of `size` bytes at `rva`: they must lie inside one section's data and inside the file. */
function fileOffset(view: BinaryView, sections: readonly Section[], rva: number, size: number, what: string): number {
  const section = sections.find((s) => rva >= s.virtualAddress && rva < s.virtualAddress + Math.max(s.virtualSize, s.sizeOfRawData));
  if (!section) throw view.fail(`${what} at RVA 0x${rva.toString(16)} lies in no section`);
  const within = rva - section.virtualAddress;
  if (within + size > section.sizeOfRawData) throw view.fail(`${what} at RVA 0x${rva.toString(16)} runs past the end of its section's data`);
  const offset = section.pointerToRawData + within;
  view.check(offset, size, what);
  return offset;
}

/** An `RSDS` entry; null for other CodeView formats (old `NB10` ones name no GUID). */
function readCodeView(view: BinaryView, data: Buffer, stamp: number, minorVersion: number): CodeViewEntry | null {
  if (data.length < 4 || data.readUInt32LE(0) !== RSDS_SIGNATURE) return null;
  if (data.length < 24 + 1) throw view.fail(`its CodeView entry is ${data.length} bytes, too short for a GUID, an age and a path`);
  const path = nulTerminatedUtf8(data, 24);
  if (!path) throw view.fail('the PDB path in its CodeView entry is not NUL-terminated');
  return {
    guid: guidToString(data.subarray(4, 20)),
    age: data.readUInt32LE(20),
    path: path.text,
    stamp,
    portable: minorVersion === PORTABLE_CODEVIEW_MINOR_VERSION,
  };
}

function readChecksum(view: BinaryView, data: Buffer): PdbChecksumEntry {
  const algorithm = nulTerminatedUtf8(data, 0);
  if (!algorithm || algorithm.text.length === 0) throw view.fail('a PDB checksum entry has no NUL-terminated algorithm name');
  if (algorithm.end >= data.length) throw view.fail(`its ${algorithm.text} PDB checksum entry holds no checksum`);
  return { algorithm: algorithm.text, checksum: Buffer.from(data.subarray(algorithm.end)) };
}

/**
 * The file name part of a PDB path as a CodeView entry records it (Windows or Unix separators).
 * @example pdbFileName('C:\\src\\obj\\Release\\Foo.pdb') // 'Foo.pdb'
 */
export function pdbFileName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
