/**
 * The classic nuget.exe (NuGet.CommandLine, under mono) against a real Pawket server through its V3 source URL:
 * push, duplicate push, install, delete (unlist). The steps run in order on one server.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNuGetSandbox,
  describeRun,
  nugetExeMissing,
  requireClients,
  run,
  writePawketOnlyConfig,
  type NuGetSandbox,
  type RunResult,
} from './support/dotnet.js';
import { CORE_ID, packTestPackages, type TestPackages } from './support/packages.js';
import { NUGET_EXE_VERSION, nugetExePath } from './support/paths.js';
import { startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('nuget.exe end-to-end tests', nugetExeMissing(nugetExePath, NUGET_EXE_VERSION));

// mono starts slowly and nuget.exe is not quick either
const STEP_TIMEOUT = 300_000;

describe.skipIf(clients.skip)('nuget.exe (mono) against a real Pawket server', () => {
  let work: string;
  let server: PawketServer | undefined;
  let pkgs: TestPackages;
  let sandbox: NuGetSandbox;
  let configFile: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-nugetexe-'));
    const packSandbox = await createNuGetSandbox(join(work, 'nuget-pack'));
    pkgs = await packTestPackages(work, packSandbox.env, { coreOnly: true });
    server = await startPawket({ env: { PAWKET_API_KEY: 'key1' } });
    sandbox = await createNuGetSandbox(join(work, 'nuget'));
    configFile = await writePawketOnlyConfig(join(work, 'config'), server.feedUrl, { fileName: 'NuGet.Config' });
  });

  afterAll(async () => {
    await server?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  /** `mono NuGet.exe <args> -ConfigFile <Pawket-only config> -NonInteractive` in the sandbox. */
  function nuget(args: readonly string[]): Promise<RunResult> {
    return run('mono', [nugetExePath, ...args, '-ConfigFile', configFile, '-NonInteractive'], {
      cwd: work,
      env: { ...sandbox.env, NUGET_API_KEY: '' },
      timeoutMs: STEP_TIMEOUT - 10_000,
    });
  }

  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- end of the Pawket log ---\n${server?.output().slice(-4000) ?? ''}`;
  }

  /** Installs into a fresh folder and returns it. */
  async function install(args: readonly string[]): Promise<{ r: RunResult; dir: string }> {
    const dir = await mkdtemp(join(work, 'install-'));
    const r = await nuget(['install', CORE_ID, ...args, '-Source', server!.feedUrl, '-OutputDirectory', dir]);
    return { r, dir };
  }

  it('pushes to the V3 source URL', { timeout: STEP_TIMEOUT }, async () => {
    for (const file of [pkgs.core100, pkgs.core101]) {
      const r = await nuget(['push', file, '-Source', server!.feedUrl, '-ApiKey', 'key1']);
      expect(r.code, explain(r)).toBe(0);
      expect(r.output, explain(r)).toContain('Your package was pushed.');
    }
  });

  it('fails a duplicate push and shows the 409 reason', { timeout: STEP_TIMEOUT }, async () => {
    const r = await nuget(['push', pkgs.core100, '-Source', server!.feedUrl, '-ApiKey', 'key1']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/409 \(.*already exists.*\)/i);
  });

  it('fails a push with a wrong key and shows the 401 reason', { timeout: STEP_TIMEOUT }, async () => {
    const r = await nuget(['push', pkgs.core110beta2, '-Source', server!.feedUrl, '-ApiKey', 'not-a-key']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/401 \(.*api.?key.*\)/i);
  });

  it('installs a pinned version with its files', { timeout: STEP_TIMEOUT }, async () => {
    const { r, dir } = await install(['-Version', '1.0.0']);
    expect(r.code, explain(r)).toBe(0);
    const pkgDir = join(dir, `${CORE_ID}.1.0.0`);
    expect(existsSync(join(pkgDir, `${CORE_ID}.1.0.0.nupkg`)), explain(r)).toBe(true);
    expect(existsSync(join(pkgDir, 'lib', 'net10.0', `${CORE_ID}.dll`)), explain(r)).toBe(true);
    expect(existsSync(join(pkgDir, 'lib', 'netstandard2.0', `${CORE_ID}.dll`)), explain(r)).toBe(true);
  });

  it('installs the newest version when none is given', { timeout: STEP_TIMEOUT }, async () => {
    const { r, dir } = await install([]);
    expect(r.code, explain(r)).toBe(0);
    expect(await readdir(dir), explain(r)).toEqual([`${CORE_ID}.1.0.1`]);
  });

  it('finds the package with nuget.exe search', { timeout: STEP_TIMEOUT }, async () => {
    // `search` takes no -ConfigFile: it runs in the folder of the test's NuGet.Config.
    const search = (args: readonly string[]) =>
      run('mono', [nugetExePath, 'search', ...args, '-Source', server!.feedUrl, '-NonInteractive'], {
        cwd: dirname(configFile),
        env: { ...sandbox.env },
        timeoutMs: STEP_TIMEOUT - 10_000,
      });
    let r = await search([CORE_ID]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.output, explain(r)).toMatch(new RegExp(`> ${CORE_ID.replace(/\./g, '\\.')} \\| 1\\.0\\.1 \\| Downloads: \\d+`));
    r = await search(['core', '-Verbosity', 'detailed']);
    expect(r.code, explain(r)).toBe(0);
    expect(r.output, explain(r)).toContain('/v3/search?q=core&skip=0&take=20&prerelease=false&semVerLevel=2.0.0');
    expect(r.output, explain(r)).toContain(CORE_ID);
  });

  it('unlists with delete: install without a version then takes the newest listed one', { timeout: STEP_TIMEOUT }, async () => {
    const denied = await nuget(['delete', CORE_ID, '1.0.1', '-Source', server!.feedUrl, '-ApiKey', 'not-a-key']);
    expect(denied.code, explain(denied)).not.toBe(0);
    expect(denied.output, explain(denied)).toMatch(/401/);

    const del = await nuget(['delete', CORE_ID, '1.0.1', '-Source', server!.feedUrl, '-ApiKey', 'key1']);
    expect(del.code, explain(del)).toBe(0);
    expect(del.output, explain(del)).toMatch(/was deleted successfully/i);

    // nuget.exe keeps registration pages in its HTTP cache for 30 minutes (-NoHttpCache does not cover them)
    const clear = await nuget(['locals', 'http-cache', '-clear']);
    expect(clear.code, explain(clear)).toBe(0);
    const latest = await install([]);
    expect(latest.r.code, explain(latest.r)).toBe(0);
    expect(await readdir(latest.dir), explain(latest.r)).toEqual([`${CORE_ID}.1.0.0`]);

    // an unlisted version can still be installed by its exact version
    const pinned = await install(['-Version', '1.0.1']);
    expect(pinned.r.code, explain(pinned.r)).toBe(0);
    expect(existsSync(join(pinned.dir, `${CORE_ID}.1.0.1`, `${CORE_ID}.1.0.1.nupkg`)), explain(pinned.r)).toBe(true);
  });
});
