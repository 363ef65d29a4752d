/**
 * Real build outputs for the symbol tests (test/fixtures/symbols, made by its generate.sh from
 * test/fixtures/projects/Core) and packages built around them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../e2e/support/paths.js';
import { buildNupkg, buildZip, type ZipEntry } from '../../support/nupkg.js';

export const fixturesDir = join(repoRoot, 'test', 'fixtures', 'symbols');

/** The three builds: `anycpu` (PE32), `x64` (PE32+) and `other-build` (another version, so other ids). */
export type Build = 'anycpu' | 'x64' | 'other-build';
export const BUILDS: readonly Build[] = ['anycpu', 'x64', 'other-build'];

/** What .NET's System.Reflection.Metadata read from each build (key-oracle.cs). */
export interface ExpectedBuild {
  readonly machine: string;
  readonly pe32Plus: boolean;
  readonly codeView: ReadonlyArray<{ guid: string; age: number; path: string; stamp: number; portable: boolean }>;
  readonly checksums: ReadonlyArray<{ algorithm: string; checksum: string }>;
  readonly pdb: { guid: string; stamp: number; idOffset: number };
  readonly ssqpKey: string;
}

const expectedJson = JSON.parse(readFileSync(join(fixturesDir, 'expected.json'), 'utf8')) as Record<string, ExpectedBuild>;

export function expected(build: Build): ExpectedBuild {
  const e = expectedJson[`${build}/Pawket.E2e.Core.dll`];
  if (!e) throw new Error(`expected.json has no entry for ${build}`);
  return e;
}

export const dll = (build: Build): Buffer => readFileSync(join(fixturesDir, build, 'Pawket.E2e.Core.dll'));
export const pdb = (build: Build): Buffer => readFileSync(join(fixturesDir, build, 'Pawket.E2e.Core.pdb'));

/** A Windows PDB as far as its header goes: the MSF 7.00 magic, then zeros (no real one can be built here). */
export const windowsPdb = (): Buffer =>
  Buffer.concat([Buffer.from('Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0', 'latin1'), Buffer.alloc(4096 - 32)]);

export const ID = 'Pawket.E2e.Core';
export const LIB = 'lib/net10.0';

/** The package with the `anycpu` build's assembly (or the given one) in lib/net10.0. */
export function corePackage(version = '1.0.0', assembly: Buffer = dll('anycpu')): Promise<Buffer> {
  return buildNupkg({ id: ID, version, files: [{ name: `${LIB}/${ID}.dll`, data: assembly }] });
}

export function symbolsNuspec(id: string, version: string, packageType: string | null = 'SymbolsPackage'): string {
  const types = packageType ? `<packageTypes><packageType name="${packageType}" /></packageTypes>` : '';
  return `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2012/06/nuspec.xsd">
  <metadata>
    <id>${id}</id>
    <version>${version}</version>
    <description>Symbols of ${id}</description>
    ${types}
  </metadata>
</package>`;
}

/** A symbols package laid out as `dotnet pack` makes one: OPC parts, the nuspec, and the given files. */
export function symbolsPackage(
  o: { id?: string; version?: string; packageType?: string | null; files?: readonly ZipEntry[] } = {},
): Promise<Buffer> {
  const id = o.id ?? ID;
  return buildZip([
    { name: '_rels/.rels', data: '<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships" />' },
    { name: `${id}.nuspec`, data: symbolsNuspec(id, o.version ?? '1.0.0', o.packageType === undefined ? 'SymbolsPackage' : o.packageType) },
    ...(o.files ?? [{ name: `${LIB}/${ID}.pdb`, data: pdb('anycpu') }]),
    { name: '[Content_Types].xml', data: '<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types" />' },
    { name: 'package/services/metadata/core-properties/0123456789abcdef.psmdcp', data: '<coreProperties />' },
  ]);
}
