/**
 * Reading an untrusted symbols package (`.snupkg`) and matching its PDBs with the assemblies of its `.nupkg`, as
 * nuget.org's symbol validation does in spirit:
 *
 * - the zip is read with the same bounds as a `.nupkg` (read.ts);
 * - it holds portable PDBs only, besides its nuspec and the OPC package parts; anything else is refused;
 * - its nuspec names an id and version and the `SymbolsPackage` package type;
 * - each PDB sits beside an assembly of the `.nupkg` (`lib/net8.0/Foo.pdb` ↔ `lib/net8.0/Foo.dll` or `.exe`), is a
 *   portable PDB (a Windows PDB is refused with its reason), its id is the one the assembly's CodeView debug
 *   directory entry names, and when the assembly records PDB checksums, one of them is the PDB's.
 *
 * Every problem is a 400 naming the file and what is wrong with it.
 */
import { badRequest } from '../errors.js';
import { parseNuspecIdentity } from '../nuget/nuspec.js';
import { fullVersion, type NuGetVersion } from '../nuget/version.js';
import { pdbFileName, readDebugDirectory, type CodeViewEntry } from './pe-debug-directory.js';
import { isSupportedChecksumAlgorithm, pdbChecksum, readPortablePdbId, ssqpKey, type PortablePdbId } from './portable-pdb.js';
import { DEFAULT_PACKAGE_LIMITS, openPackageArchive, type PackageArchive, type PackageLimits } from './read.js';

/** Bounds for reading a symbols package and the assemblies its PDBs are matched with. */
export interface SymbolPackageLimits extends PackageLimits {
  /** Largest PDB or assembly inflated whole for validation, in bytes. */
  readonly maxFileBytes: number;
}

/** The package type every symbols package declares. */
export const SYMBOLS_PACKAGE_TYPE = 'SymbolsPackage';

/** A PDB of a symbols package, checked against its assembly. */
export interface MatchedPdb {
  /** Its entry name in the `.snupkg`. */
  readonly path: string;
  /** The entry name of its assembly in the `.nupkg`. */
  readonly assembly: string;
  readonly id: PortablePdbId;
  /** The PDB file name debuggers ask for: the one in the assembly's CodeView entry. */
  readonly fileName: string;
  /** The symbol server key, lower case (see {@link ssqpKey}). */
  readonly ssqpKey: string;
  /** The assembly's checksums of this PDB that were verified, as `algorithm:hex`, lower case (e.g. `sha256:4c03…`). */
  readonly checksums: readonly string[];
  readonly bytes: Buffer;
}

/** An open, checked symbols package. Close it when done. */
export interface SymbolPackage {
  readonly id: string;
  readonly version: NuGetVersion;
  /** The `.pdb` entries, in archive order. */
  readonly pdbPaths: readonly string[];
  /**
   * Checks each PDB against the assemblies of the package file at `nupkgPath`, yielding them one at a time (one PDB
   * and one assembly in memory at once). Throws a 400 at the first PDB that does not match.
   */
  matchPdbs(nupkgPath: string): AsyncGenerator<MatchedPdb>;
  close(): void;
}

/**
 * Opens a `.snupkg`, checks its entries and reads its nuspec. Problems with the file are 400s naming them.
 *
 * @example
 * const symbols = await openSymbolPackage(uploadPath, { maxFileBytes: 250 * 1024 * 1024 });
 * try { for await (const pdb of symbols.matchPdbs(nupkgPath)) store(pdb); } finally { symbols.close(); }
 */
export async function openSymbolPackage(path: string, limits: SymbolPackageLimits): Promise<SymbolPackage> {
  const archive = await openPackageArchive(path, limits);
  try {
    const nuspecName = archive.nuspecName();
    const pdbPaths: string[] = [];
    for (const name of archive.entries) {
      if (name.endsWith('/') || name === nuspecName || isPackagePart(name)) continue;
      if (!name.toLowerCase().endsWith('.pdb')) {
        throw badRequest(
          `The symbols package contains '${name}': a .snupkg may hold only portable PDBs (.pdb files) besides its nuspec and package parts.`,
        );
      }
      pdbPaths.push(name);
    }
    const nuspec = await archive.read(nuspecName, limits.maxNuspecBytes ?? DEFAULT_PACKAGE_LIMITS.maxNuspecBytes);
    const { id, version, packageTypes } = parseNuspecIdentity(nuspec ?? Buffer.alloc(0), { maxBytes: limits.maxNuspecBytes });
    const display = `${id} ${fullVersion(version)}`;
    if (!packageTypes.some((t) => t.name.toLowerCase() === SYMBOLS_PACKAGE_TYPE.toLowerCase())) {
      throw badRequest(
        `${display} is not a symbols package: its nuspec does not declare the package type ${SYMBOLS_PACKAGE_TYPE}. Push the .snupkg made by \`dotnet pack -p:IncludeSymbols=true -p:SymbolPackageFormat=snupkg\`.`,
      );
    }
    if (pdbPaths.length === 0) throw badRequest(`The symbols package ${display} contains no .pdb files.`);
    return {
      id,
      version,
      pdbPaths,
      matchPdbs: (nupkgPath) => matchPdbs(archive, pdbPaths, nupkgPath, display, limits),
      close: () => archive.close(),
    };
  } catch (error) {
    archive.close();
    throw error;
  }
}

/** OPC parts every package has: relationships, content types, core properties, and a signature. */
function isPackagePart(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    lower === '[content_types].xml' ||
    lower === '.signature.p7s' ||
    ((lower.startsWith('_rels/') || lower.includes('/_rels/')) && lower.endsWith('.rels')) ||
    (lower.startsWith('package/services/metadata/core-properties/') && lower.endsWith('.psmdcp'))
  );
}

async function* matchPdbs(
  symbols: PackageArchive,
  pdbPaths: readonly string[],
  nupkgPath: string,
  display: string,
  limits: SymbolPackageLimits,
): AsyncGenerator<MatchedPdb> {
  const nupkg = await openPackageArchive(nupkgPath, limits);
  try {
    const assemblies = new Map(nupkg.entries.map((e) => [e.toLowerCase(), e]));
    for (const path of pdbPaths) {
      const bytes = (await symbols.read(path, limits.maxFileBytes)) ?? Buffer.alloc(0);
      const id = readPortablePdbId(bytes, path);
      const stem = path.slice(0, -'.pdb'.length);
      const assembly = assemblies.get(`${stem}.dll`.toLowerCase()) ?? assemblies.get(`${stem}.exe`.toLowerCase());
      if (assembly === undefined) {
        throw badRequest(
          `'${path}' has no assembly in package ${display}: a PDB must sit beside the assembly built with it ('${stem}.dll' or '${stem}.exe' in the .nupkg).`,
        );
      }
      const image = (await nupkg.read(assembly, limits.maxFileBytes)) ?? Buffer.alloc(0);
      yield matchWith(path, bytes, id, assembly, image);
    }
  } finally {
    nupkg.close();
  }
}

const idText = (guid: string, stamp: number) => `${guid}-${stamp.toString(16).padStart(8, '0')}`;

function matchWith(path: string, bytes: Buffer, id: PortablePdbId, assembly: string, image: Buffer): MatchedPdb {
  const directory = readDebugDirectory(image, assembly);
  const [first] = directory.codeView;
  if (!first) {
    const why = directory.hasEmbeddedPdb ? 'it embeds its own PDB' : 'it was built without debug information';
    throw badRequest(`'${path}' cannot belong to '${assembly}': the assembly names no PDB in its debug directory (${why}).`);
  }
  const entry = directory.codeView.find((e) => e.guid === id.guid && e.stamp === id.stamp);
  if (!entry) {
    throw badRequest(
      `'${path}' does not belong to '${assembly}': the PDB's id is ${idText(id.guid, id.stamp)} but the assembly was built with the PDB ${idText(first.guid, first.stamp)}. The PDB comes from another build: pack the .nupkg and the .snupkg from one build.`,
    );
  }
  return { path, assembly, id, ...keyOf(entry, path), checksums: verifyChecksums(path, bytes, id, assembly, directory.checksums), bytes };
}

function keyOf(entry: CodeViewEntry, path: string): { fileName: string; ssqpKey: string } {
  // Debuggers ask for the file name the assembly records; fall back to the entry's own name if that one is unusable.
  const recorded = pdbFileName(entry.path);
  // eslint-disable-next-line no-control-regex
  const usable = recorded.length > 0 && recorded.length <= 255 && !/[\u0000-\u001f\u007f]/.test(recorded);
  const fileName = usable ? recorded : pdbFileName(path);
  return { fileName, ssqpKey: ssqpKey(fileName, entry.guid) };
}

/** When the assembly records checksums of its PDB, one (of an algorithm we can compute) must be this PDB's. */
function verifyChecksums(
  path: string,
  bytes: Buffer,
  id: PortablePdbId,
  assembly: string,
  recorded: ReadonlyArray<{ algorithm: string; checksum: Buffer }>,
): string[] {
  const computable = recorded.filter((c) => isSupportedChecksumAlgorithm(c.algorithm));
  const matching = computable.filter((c) => pdbChecksum(bytes, id.idOffset, c.algorithm)?.equals(c.checksum));
  if (computable.length > 0 && matching.length === 0) {
    const algorithms = [...new Set(computable.map((c) => c.algorithm))].join(', ');
    throw badRequest(
      `'${path}' does not match the ${algorithms} checksum '${assembly}' records for its PDB: the PDB was changed after the build.`,
    );
  }
  return matching.map((c) => `${c.algorithm.toLowerCase()}:${c.checksum.toString('hex')}`);
}
