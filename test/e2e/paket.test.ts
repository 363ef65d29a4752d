/**
 * Paket (the .NET tool) against a real Pawket server, once through the V3 URL and once through the V2 (OData) URL:
 * `paket add` (resolves the newest stable version), `paket install` (a SemVer 2.0.0 prerelease and its dependency),
 * `paket restore` (downloads again what the lock file names). The packages are pushed over HTTP first; Paket does not
 * push to NuGet feeds in these tests.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNuGetSandbox, describeRun, hasDotnet, requireClients, run, type RunResult } from './support/dotnet.js';
import { CORE_ID, WIDGETS_ID, packTestPackages } from './support/packages.js';
import { PAKET_VERSION, paketPath } from './support/paths.js';
import { pushPackageFile, startPawket, type PawketServer } from './support/server.js';

const missing: string[] = [];
if (!existsSync(paketPath)) missing.push(`paket ${PAKET_VERSION} (the paket .NET tool) in .tools/`);
if (!hasDotnet) missing.push('dotnet (packs the test packages)');
const clients = requireClients('Paket end-to-end tests', missing);

const STEP_TIMEOUT = 180_000;

describe.skipIf(clients.skip)('Paket against a real Pawket server', () => {
  let work: string;
  let server: PawketServer | undefined;
  let home: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-paket-'));
    const packSandbox = await createNuGetSandbox(join(work, 'nuget-pack'));
    const pkgs = await packTestPackages(work, packSandbox.env);
    server = await startPawket({ env: { PAWKET_API_KEY: 'key1' } });
    for (const file of [pkgs.core100, pkgs.core101, pkgs.core110beta2, pkgs.widgets]) await pushPackageFile(server, file, 'key1');
    // Paket keeps its caches and the packages it downloads under the home folder (~/.nuget/packages).
    home = join(work, 'home');
    await mkdir(home, { recursive: true });
  });

  afterAll(async () => {
    await server?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  function paket(dir: string, args: readonly string[]): Promise<RunResult> {
    return run(paketPath, args, {
      cwd: dir,
      env: { HOME: home, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
      timeoutMs: STEP_TIMEOUT - 10_000,
    });
  }

  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- end of the Pawket log ---\n${server?.output().slice(-4000) ?? ''}`;
  }

  /** The package lines of paket.lock (`Id (version)`, each followed by its dependencies), in the file's order. */
  async function locked(dir: string): Promise<string[]> {
    const lock = await readFile(join(dir, 'paket.lock'), 'utf8');
    return lock
      .split('\n')
      .filter((l) => /^ {4,}\S/.test(l))
      .map((l) => l.trim());
  }

  for (const protocol of ['V3', 'V2'] as const) {
    describe(`through the ${protocol} URL`, () => {
      let dir: string;

      beforeAll(async () => {
        dir = join(work, protocol);
        await mkdir(dir, { recursive: true });
        const source = protocol === 'V3' ? server!.feedUrl : `${server!.baseUrl}/api/v2/`;
        await writeFile(join(dir, 'paket.dependencies'), `source ${source}\nframework: net10.0\nstorage: none\n`);
      });

      it('paket add takes the newest stable version', { timeout: STEP_TIMEOUT }, async () => {
        const r = await paket(dir, ['add', CORE_ID]);
        expect(r.code, explain(r)).toBe(0);
        expect(await locked(dir), explain(r)).toEqual([`${CORE_ID} (1.0.1)`]);
      });

      it('paket install resolves a SemVer 2.0.0 prerelease and its dependency', { timeout: STEP_TIMEOUT }, async () => {
        const deps = await readFile(join(dir, 'paket.dependencies'), 'utf8');
        await writeFile(join(dir, 'paket.dependencies'), `${deps.trimEnd()}\nnuget ${WIDGETS_ID} prerelease\n`);
        const r = await paket(dir, ['install']);
        expect(r.code, explain(r)).toBe(0);
        const lines = await locked(dir);
        expect(lines[0], explain(r)).toBe(`${CORE_ID} (1.0.1)`);
        // V2 entries carry the full version (with build metadata), V3 the normalized one: the same version to Paket
        expect(lines[1], explain(r)).toMatch(new RegExp(`^${WIDGETS_ID.replace(/\./g, '\\.')} \\(2\\.0\\.0-rc\\.1(\\+build\\.5)?\\)$`));
        expect(lines[2], explain(r)).toBe(`${CORE_ID} (>= 1.0)`);
      });

      it('paket restore downloads what the lock file names', { timeout: STEP_TIMEOUT }, async () => {
        const packages = join(home, '.nuget', 'packages');
        await rm(packages, { recursive: true, force: true });
        await rm(join(dir, 'paket-files', 'paket.restore.cached'), { force: true });
        const r = await paket(dir, ['restore']);
        expect(r.code, explain(r)).toBe(0);
        expect(existsSync(join(packages, CORE_ID.toLowerCase(), '1.0.1', `${CORE_ID.toLowerCase()}.1.0.1.nupkg`)), explain(r)).toBe(true);
        expect(existsSync(join(packages, WIDGETS_ID.toLowerCase())), explain(r)).toBe(true);
      });
    });
  }
});
