/**
 * Symbols end to end: a real library packed with `dotnet pack -p:IncludeSymbols=true -p:SymbolPackageFormat=snupkg`,
 * pushed with `dotnet nuget push` (which pushes the .snupkg beside the .nupkg to the SymbolPackagePublish resource)
 * to a real server process; then each PDB is fetched back from the symbol server at the URL a debugger builds from
 * the DLL's debug directory, computed here independently of the server's code, and must be the PDB that was built.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNuGetSandbox,
  describeRun,
  hasDotnet,
  requireClients,
  run,
  writePawketOnlyConfig,
  type NuGetSandbox,
  type RunResult,
} from './support/dotnet.js';
import { packWithSymbols, type SymbolTestPackages } from './support/packages.js';
import { startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('symbols end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

const STEP_TIMEOUT = 240_000;
const KEY = 'symbols-key';

/**
 * What a debugger reads from an assembly to find its portable PDB on a symbol server (Simple Symbol Query Protocol,
 * "Portable-Pdb-Signature"): the CodeView entry of the PE debug directory gives the PDB file name and GUID; the key is
 * `{file}/{GUID as Guid.ToString("N")}FFFFFFFF/{file}`. The PdbChecksum entry gives Visual Studio's SymbolChecksum
 * header. Written here from the PE/COFF spec, on purpose apart from the server's parser.
 */
function debuggerRequest(dll: Buffer): { key: string; checksum: string | null } {
  const pe = dll.readUInt32LE(0x3c);
  expect(dll.toString('latin1', pe, pe + 4)).toBe('PE\0\0');
  const sectionCount = dll.readUInt16LE(pe + 6);
  const optionalHeaderSize = dll.readUInt16LE(pe + 20);
  const optionalHeader = pe + 24;
  const pe32Plus = dll.readUInt16LE(optionalHeader) === 0x20b;
  const debugDataDirectory = optionalHeader + (pe32Plus ? 112 : 96) + 6 * 8;
  const debugRva = dll.readUInt32LE(debugDataDirectory);
  const debugSize = dll.readUInt32LE(debugDataDirectory + 4);
  let debugOffset: number | undefined;
  for (let i = 0; i < sectionCount; i++) {
    const section = optionalHeader + optionalHeaderSize + i * 40;
    const virtualAddress = dll.readUInt32LE(section + 12);
    if (debugRva >= virtualAddress && debugRva < virtualAddress + dll.readUInt32LE(section + 8)) {
      debugOffset = dll.readUInt32LE(section + 20) + (debugRva - virtualAddress);
    }
  }
  expect(debugOffset, 'the debug directory lies in a section').toBeDefined();
  let key: string | undefined;
  let checksum: string | null = null;
  for (let entry = debugOffset!; entry < debugOffset! + debugSize; entry += 28) {
    const type = dll.readUInt32LE(entry + 12);
    const data = dll.readUInt32LE(entry + 24);
    const size = dll.readUInt32LE(entry + 16);
    if (type === 2 && key === undefined) {
      expect(dll.toString('latin1', data, data + 4)).toBe('RSDS');
      const guidBytes = dll.subarray(data + 4, data + 20);
      const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');
      const guid =
        hex(guidBytes.readUInt32LE(0), 8) + hex(guidBytes.readUInt16LE(4), 4) + hex(guidBytes.readUInt16LE(6), 4) + guidBytes.subarray(8).toString('hex');
      const path = dll.toString('utf8', data + 24, dll.indexOf(0, data + 24));
      const file = path.split(/[\\/]/).pop()!.toLowerCase();
      key = `${file}/${guid}FFFFFFFF/${file}`;
    }
    if (type === 19) {
      const nul = dll.indexOf(0, data);
      checksum = `${dll.toString('utf8', data, nul)}:${dll.subarray(nul + 1, data + size).toString('hex').toUpperCase()}`;
    }
  }
  expect(key, 'the assembly has a CodeView entry').toBeDefined();
  return { key: key!, checksum };
}

describe.skipIf(clients.skip)('symbols: dotnet pack and push with a real server', () => {
  let work: string;
  let server: PawketServer | undefined;
  let pkgs: SymbolTestPackages;
  let sandbox: NuGetSandbox;
  let configFile: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-symbols-'));
    const packSandbox = await createNuGetSandbox(join(work, 'nuget-pack'));
    pkgs = await packWithSymbols(work, packSandbox.env);
    server = await startPawket({ env: { PAWKET_API_KEY: KEY } });
    sandbox = await createNuGetSandbox(join(work, 'nuget-push'));
    configFile = await writePawketOnlyConfig(join(work, 'push'), server.feedUrl);
  });

  afterAll(async () => {
    await server?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- end of the Pawket log ---\n${server?.output().slice(-4000) ?? ''}`;
  }

  function push(file: string, extra: readonly string[] = []): Promise<RunResult> {
    return run(
      'dotnet',
      ['nuget', 'push', file, '--source', server!.feedUrl, '--api-key', KEY, '--configfile', configFile, '--force-english-output', ...extra],
      { cwd: join(work, 'push'), env: { ...sandbox.env, NUGET_API_KEY: '' }, timeoutMs: STEP_TIMEOUT - 10_000 },
    );
  }

  it('pushes the .nupkg and, beside it, the .snupkg to the symbols endpoint', { timeout: STEP_TIMEOUT }, async () => {
    const r = await push(pkgs.nupkg);
    expect(r.code, explain(r)).toBe(0);
    expect(r.output, explain(r)).toMatch(/Pushing Pawket\.E2e\.Core\.1\.0\.0\.snupkg to 'http:\/\/127\.0\.0\.1:\d+\/api\/v2\/symbolpackage'/);
    expect(r.output.match(/Your package was pushed\./g), explain(r)).toHaveLength(2);
  });

  it.each(['net10.0', 'netstandard2.0'])(
    'serves the %s PDB at the symbol server URL a debugger computes from the DLL, byte for byte',
    { timeout: STEP_TIMEOUT },
    async (tfm) => {
      const built = join(pkgs.binDir, tfm);
      const { key, checksum } = debuggerRequest(await readFile(join(built, 'Pawket.E2e.Core.dll')));
      const url = `${server!.baseUrl}/download/symbols/${key}`;
      const res = await fetch(url);
      expect(res.status, `${url}\n${server!.output().slice(-2000)}`).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(join(built, 'Pawket.E2e.Core.pdb')))).toBe(true);
      // As Visual Studio asks: with the checksum the DLL records for its PDB.
      expect(checksum).toMatch(/^SHA256:[0-9A-F]{64}$/);
      expect((await fetch(url, { headers: { SymbolChecksum: checksum! } })).status).toBe(200);
    },
  );

  it('serves the .snupkg again, as pushed', { timeout: STEP_TIMEOUT }, async () => {
    const res = await fetch(`${server!.baseUrl}/v3/flatcontainer/pawket.e2e.core/1.0.0/pawket.e2e.core.1.0.0.snupkg`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(pkgs.snupkg))).toBe(true);
  });

  it('refuses a second push of the symbols with 409 and says why; --skip-duplicate skips it', { timeout: STEP_TIMEOUT }, async () => {
    // A .snupkg pushed on its own goes to the symbols endpoint too.
    const again = await push(pkgs.snupkg);
    expect(again.code, explain(again)).not.toBe(0);
    expect(again.output, explain(again)).toContain(
      '409 (Symbols for package Pawket.E2e.Core 1.0.0 already exist and cannot be modified. Push a new version of the package instead.)',
    );
    const skipped = await push(pkgs.snupkg, ['--skip-duplicate']);
    expect(skipped.code, explain(skipped)).toBe(0);
    expect(skipped.output, explain(skipped)).toMatch(/Pawket\.E2e\.Core\.1\.0\.0\.snupkg' already exists at feed 'http:\/\/127\.0\.0\.1:\d+\/api\/v2\/symbolpackage'/);
  });
});
