/**
 * The classic nuget.exe (NuGet.CommandLine, under mono) against a real Pawket server through its V2 (OData) URL,
 * `/api/v2/`: push (to the feed root, as nuget.exe does for V2 sources), duplicate push, list and search (V2
 * `Search()`), install (FindPackagesById(), Packages(Id,Version), the V2 download URL), delete (unlist) and what
 * install and list then give. The steps run in order on one server.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nugetExeMissing, requireClients, type RunResult } from './support/dotnet.js';
import { startNuGetExeFeed, type NuGetExeFeed } from './support/nuget-exe-feed.js';
import { CORE_ID } from './support/packages.js';
import { NUGET_EXE_VERSION, nugetExePath } from './support/paths.js';

const clients = requireClients('nuget.exe V2 end-to-end tests', nugetExeMissing(nugetExePath, NUGET_EXE_VERSION));

// mono starts slowly and nuget.exe is not quick either
const STEP_TIMEOUT = 300_000;

describe.skipIf(clients.skip)('nuget.exe (mono) against the V2 feed of a real Pawket server', () => {
  let f: NuGetExeFeed;

  beforeAll(async () => {
    f = await startNuGetExeFeed({ name: 'nugetexe-v2', protocol: 2, timeoutMs: STEP_TIMEOUT - 10_000 });
  });

  afterAll(() => f?.close());

  const nuget: NuGetExeFeed['nuget'] = (args, opts) => f.nuget(args, opts);
  const install = (args: readonly string[]) => f.install(args);
  const explain = (r: RunResult) => f.explain(r);

  /** `nuget list` lines naming the test package. */
  async function list(args: readonly string[] = []): Promise<string[]> {
    const r = await nuget(['list', 'Pawket', '-Source', f.sourceUrl, ...args]);
    expect(r.code, explain(r)).toBe(0);
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith(CORE_ID));
  }

  it('pushes to the V2 feed URL', { timeout: STEP_TIMEOUT }, async () => {
    for (const file of [f.pkgs.core100, f.pkgs.core101, f.pkgs.core110beta2]) {
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

  it('lists the newest stable version, and every version with -AllVersions -Prerelease', { timeout: STEP_TIMEOUT }, async () => {
    expect(await list()).toEqual([`${CORE_ID} 1.0.1`]);
    expect(await list(['-Prerelease'])).toEqual([`${CORE_ID} 1.1.0-beta.2`]);
    expect((await list(['-AllVersions', '-Prerelease'])).sort()).toEqual(
      [`${CORE_ID} 1.0.0`, `${CORE_ID} 1.0.1`, `${CORE_ID} 1.1.0-beta.2`].sort(),
    );
  });

  it('searches the V2 feed', { timeout: STEP_TIMEOUT }, async () => {
    // `nuget search` takes no -ConfigFile (the config allows the plain-HTTP source)
    const r = await nuget(['search', 'Pawket', '-Source', f.sourceUrl], { configOption: false });
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
    const denied = await nuget(['delete', CORE_ID, '1.0.1', '-Source', f.sourceUrl, '-ApiKey', 'not-a-key']);
    expect(denied.code, explain(denied)).not.toBe(0);
    expect(denied.output, explain(denied)).toMatch(/401/);

    const del = await nuget(['delete', CORE_ID, '1.0.1', '-Source', f.sourceUrl, '-ApiKey', 'key1']);
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
