/**
 * The classic nuget.exe (NuGet.CommandLine, under mono) against a real Pawket server through its V2 (OData) URL,
 * `/api/v2/`: push (to the feed root, as nuget.exe does for V2 sources), duplicate push, list and search (V2
 * `Search()`), install (FindPackagesById(), Packages(Id,Version), the V2 download URL), delete (unlist) and what
 * install and list then give. The steps run in order on one server.
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

const clients = requireClients('nuget.exe V2 end-to-end tests', nugetExeMissing(nugetExePath, NUGET_EXE_VERSION));

// mono starts slowly and nuget.exe is not quick either
const STEP_TIMEOUT = 300_000;

describe.skipIf(clients.skip)('nuget.exe (mono) against the V2 feed of a real Pawket server', () => {
  let work: string;
  let server: PawketServer | undefined;
  let pkgs: TestPackages;
  let sandbox: NuGetSandbox;
  let configFile: string;
  let v2Url: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-nugetexe-v2-'));
    const packSandbox = await createNuGetSandbox(join(work, 'nuget-pack'));
    pkgs = await packTestPackages(work, packSandbox.env, { coreOnly: true });
    server = await startPawket({ env: { PAWKET_API_KEY: 'key1' } });
    v2Url = `${server.baseUrl}/api/v2/`;
    sandbox = await createNuGetSandbox(join(work, 'nuget'));
    configFile = await writePawketOnlyConfig(join(work, 'config'), v2Url, { fileName: 'NuGet.Config', protocolVersion: 2 });
  });

  afterAll(async () => {
    await server?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  /**
   * `mono NuGet.exe <args> -NonInteractive` in the sandbox with the Pawket-only config: passed as `-ConfigFile`, or,
   * for commands without that option, found in the folder it runs in.
   */
  function nuget(args: readonly string[], opts: { configOption?: boolean } = {}): Promise<RunResult> {
    const viaOption = opts.configOption !== false;
    return run('mono', [nugetExePath, ...args, ...(viaOption ? ['-ConfigFile', configFile] : []), '-NonInteractive'], {
      cwd: viaOption ? work : dirname(configFile),
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
    const r = await nuget(['install', CORE_ID, ...args, '-Source', v2Url, '-OutputDirectory', dir]);
    return { r, dir };
  }

  /** `nuget list` lines naming the test package. */
  async function list(args: readonly string[] = []): Promise<string[]> {
    const r = await nuget(['list', 'Pawket', '-Source', v2Url, ...args]);
    expect(r.code, explain(r)).toBe(0);
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith(CORE_ID));
  }

  it('pushes to the V2 feed URL', { timeout: STEP_TIMEOUT }, async () => {
    for (const file of [pkgs.core100, pkgs.core101, pkgs.core110beta2]) {
      const r = await nuget(['push', file, '-Source', v2Url, '-ApiKey', 'key1']);
      expect(r.code, explain(r)).toBe(0);
      expect(r.output, explain(r)).toContain('Your package was pushed.');
    }
  });

  it('fails a duplicate push and shows the 409 reason', { timeout: STEP_TIMEOUT }, async () => {
    const r = await nuget(['push', pkgs.core100, '-Source', v2Url, '-ApiKey', 'key1']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/409 \(.*already exists.*\)/i);
  });

  it('lists the newest stable version, and every version with -AllVersions -Prerelease', { timeout: STEP_TIMEOUT }, async () => {
    expect(await list()).toEqual([`${CORE_ID} 1.0.1`]);
    expect(await list(['-Prerelease'])).toEqual([`${CORE_ID} 1.1.0-beta.2`]);
    expect((await list(['-AllVersions', '-Prerelease'])).sort()).toEqual(
      [`${CORE_ID} 1.0.0`, `${CORE_ID} 1.0.1`, `${CORE_ID} 1.1.0-beta.2`].sort(),
    );
  });

  it('searches the V2 feed', { timeout: STEP_TIMEOUT }, async () => {
    // `nuget search` takes no -ConfigFile (the config allows the plain-HTTP source)
    const r = await nuget(['search', 'Pawket', '-Source', v2Url], { configOption: false });
    expect(r.code, explain(r)).toBe(0);
    expect(r.output, explain(r)).toMatch(new RegExp(`> ${CORE_ID.replace(/\./g, '\\.')} \\| 1\\.0\\.1`));
  });

  it('installs the newest version, a pinned version and the newest prerelease', { timeout: STEP_TIMEOUT }, async () => {
    const latest = await install([]);
    expect(latest.r.code, explain(latest.r)).toBe(0);
    expect(await readdir(latest.dir), explain(latest.r)).toEqual([`${CORE_ID}.1.0.1`]);

    const pinned = await install(['-Version', '1.0.0']);
    expect(pinned.r.code, explain(pinned.r)).toBe(0);
    const pkgDir = join(pinned.dir, `${CORE_ID}.1.0.0`);
    expect(existsSync(join(pkgDir, `${CORE_ID}.1.0.0.nupkg`)), explain(pinned.r)).toBe(true);
    expect(existsSync(join(pkgDir, 'lib', 'netstandard2.0', `${CORE_ID}.dll`)), explain(pinned.r)).toBe(true);

    const pre = await install(['-Prerelease']);
    expect(pre.r.code, explain(pre.r)).toBe(0);
    expect(await readdir(pre.dir), explain(pre.r)).toEqual([`${CORE_ID}.1.1.0-beta.2`]);
  });

  it('deletes (unlists) through the V2 URL: list and install then skip that version', { timeout: STEP_TIMEOUT }, async () => {
    const denied = await nuget(['delete', CORE_ID, '1.0.1', '-Source', v2Url, '-ApiKey', 'not-a-key']);
    expect(denied.code, explain(denied)).not.toBe(0);
    expect(denied.output, explain(denied)).toMatch(/401/);

    const del = await nuget(['delete', CORE_ID, '1.0.1', '-Source', v2Url, '-ApiKey', 'key1']);
    expect(del.code, explain(del)).toBe(0);
    expect(del.output, explain(del)).toMatch(/was deleted successfully/i);

    expect(await list()).toEqual([`${CORE_ID} 1.0.0`]);

    // nuget.exe keeps V2 query results in its HTTP cache for 30 minutes
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
