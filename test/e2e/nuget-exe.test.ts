/**
 * The classic nuget.exe (NuGet.CommandLine, under mono) against a real Pawket server through its V3 source URL:
 * push, duplicate push, install, delete (unlist). The steps run in order on one server.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nugetExeMissing, requireClients, run, type RunResult } from './support/dotnet.js';
import { startNuGetExeFeed, type NuGetExeFeed } from './support/nuget-exe-feed.js';
import { CORE_ID } from './support/packages.js';
import { NUGET_EXE_VERSION, nugetExePath } from './support/paths.js';

const clients = requireClients('nuget.exe end-to-end tests', nugetExeMissing(nugetExePath, NUGET_EXE_VERSION));

// mono starts slowly and nuget.exe is not quick either
const STEP_TIMEOUT = 300_000;

describe.skipIf(clients.skip)('nuget.exe (mono) against a real Pawket server', () => {
  let f: NuGetExeFeed;

  beforeAll(async () => {
    f = await startNuGetExeFeed({ name: 'nugetexe', protocol: 3, timeoutMs: STEP_TIMEOUT - 10_000 });
  });

  afterAll(() => f?.close());

  const nuget: NuGetExeFeed['nuget'] = (args, opts) => f.nuget(args, opts);
  const install = (args: readonly string[]) => f.install(args);
  const explain = (r: RunResult) => f.explain(r);

  it('pushes to the V3 source URL', { timeout: STEP_TIMEOUT }, async () => {
    for (const file of [f.pkgs.core100, f.pkgs.core101]) {
      const r = await nuget(['push', file, '-Source', f.sourceUrl, '-ApiKey', 'key1']);
      expect(r.code, explain(r)).toBe(0);
      expect(r.output, explain(r)).toContain('Your package was pushed.');
    }
  });

  it('fails a duplicate push and shows the 409 reason', { timeout: STEP_TIMEOUT }, async () => {
    const r = await nuget(['push', f.pkgs.core100, '-Source', f.sourceUrl, '-ApiKey', 'key1']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/409 \(.*already exists.*\)/i);
  });

  it('fails a push with a wrong key and shows the 401 reason', { timeout: STEP_TIMEOUT }, async () => {
    const r = await nuget(['push', f.pkgs.core110beta2, '-Source', f.sourceUrl, '-ApiKey', 'not-a-key']);
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
      run('mono', [nugetExePath, 'search', ...args, '-Source', f.sourceUrl, '-NonInteractive'], {
        cwd: dirname(f.configFile),
        env: { ...f.sandbox.env },
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
    const denied = await nuget(['delete', CORE_ID, '1.0.1', '-Source', f.sourceUrl, '-ApiKey', 'not-a-key']);
    expect(denied.code, explain(denied)).not.toBe(0);
    expect(denied.output, explain(denied)).toMatch(/401/);

    const del = await nuget(['delete', CORE_ID, '1.0.1', '-Source', f.sourceUrl, '-ApiKey', 'key1']);
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
