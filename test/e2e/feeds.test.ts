/**
 * Several feeds on one server, with real clients (docs/FEEDS.md). The data dir is prepared with `pawket feeds create`
 * before the server starts: `dev`, `release`, `upstream-proxy` (whose upstream is a second Pawket standing in for
 * nuget.org), the virtual feed `all` = release + upstream-proxy, and `small` with a quota of one package.
 *
 * `dotnet nuget push` to dev; restore from dev works and from release fails (NU1101); `pawket promote` (the CLI, on the
 * running server's data dir) copies the package to release, which then restores it byte for byte; nuget.exe (V3 and V2)
 * and PSResourceGet see it in release, and not what stayed in dev. A project restoring from `all` gets the release
 * package and one only the upstream has. One id+version with different bytes in dev and release: each feed serves its
 * own. A push over a quota is refused with the quota named, and the feed is unchanged.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, freshBackendEnv } from '../support/backend.js';
import { buildNupkg, type ZipEntry } from '../support/nupkg.js';
import {
  createNuGetSandbox,
  describeRun,
  hasDotnet,
  nugetExeMissing,
  requireClients,
  run,
  writePawketOnlyConfig,
  type NuGetSandbox,
  type RunResult,
} from './support/dotnet.js';
import { NUGET_EXE_VERSION, PWSH_VERSION, nugetExePath, pwshPath } from './support/paths.js';
import { pawketMain, pushPackageFile, startPawket, type PawketServer } from './support/server.js';

// Feeds are rows and key prefixes like any other: nothing here depends on the storage backend, so the suite runs once,
// on the embedded one (the multi-node suite covers feeds on PostgreSQL + S3).
const onEmbedded = backend === 'sqlite';
if (!onEmbedded) {
  console.warn('\n!!! SKIPPING feeds end-to-end tests under PAWKET_TEST_BACKEND=postgres-s3: they do not depend on the storage backend and run in the SQLite pass.\n');
}
const dotnetClients = onEmbedded ? requireClients('feeds end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']) : { skip: true };
const nugetExe = onEmbedded ? requireClients('feeds end-to-end tests (nuget.exe)', nugetExeMissing(nugetExePath, NUGET_EXE_VERSION)) : { skip: true };
const psClients = onEmbedded
  ? requireClients('feeds end-to-end tests (PSResourceGet)', existsSync(pwshPath) ? [] : [`PowerShell ${PWSH_VERSION} (the PowerShell .NET tool) in .tools/`])
  : { skip: true };

const STEP_TIMEOUT = 120_000;
const KEY = 'feeds-admin-key';
const UPSTREAM_KEY = 'nugetorg-key';

const LIB = 'Contoso.Feeds.Lib';
const DEV_ONLY = 'Contoso.Feeds.DevOnly';
const TWIN = 'Contoso.Feeds.Twin';
const UPSTREAM_LIB = 'Upstream.Lib';
const QUOTA_ID = 'Contoso.Feeds.Quota';

const sha512 = (bytes: Buffer) => createHash('sha512').update(bytes).digest('hex');

/** A package that `dotnet restore` takes (lib/netstandard2.0) and that is a PowerShell module (PSResourceGet). */
function libPackage(): Promise<Buffer> {
  const files: ZipEntry[] = [
    { name: `${LIB}.psm1`, data: "function Get-FeedsGreeting { 'Hello from the release feed' }\nExport-ModuleMember -Function Get-FeedsGreeting\n" },
    {
      name: `${LIB}.psd1`,
      data: `@{
  RootModule = '${LIB}.psm1'
  ModuleVersion = '1.0.0'
  GUID = '6b0e3f9a-2c4d-4e8f-9a1b-7c5d3e2f1a09'
  Author = 'Pawket Tests'
  Description = 'A package promoted from dev to release.'
  FunctionsToExport = @('Get-FeedsGreeting')
  CmdletsToExport = @()
  VariablesToExport = @()
  AliasesToExport = @()
}
`,
    },
  ];
  return buildNupkg({ id: LIB, version: '1.0.0', description: 'A package promoted from dev to release.', extraMetadata: '<tags>PSModule PSFunction_Get-FeedsGreeting</tags>', files });
}

describe.skipIf(dotnetClients.skip)('several feeds on one server, with real clients', () => {
  let work: string;
  let dataDir: string;
  let backendEnv: Record<string, string>;
  let nugetOrg: PawketServer | undefined;
  let server: PawketServer | undefined;
  /** The packages as pushed, by name, and where their files are. */
  const files: Record<string, string> = {};
  const bytes: Record<string, Buffer> = {};
  let project: string;
  let pushSandbox: NuGetSandbox;

  const feedUrl = (feed: string) => `${server!.baseUrl}/f/${feed}/v3/index.json`;
  const configOf = (feed: string) => join(work, 'config', feed, 'nuget.config');

  /** `pawket <args>` on the server's data dir, as an operator would run it beside the server. */
  const pawket = (args: readonly string[]) =>
    run(process.execPath, [pawketMain, ...args, '--data-dir', dataDir], { env: backendEnv, timeoutMs: 60_000 });

  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- end of the Pawket log ---\n${server?.output().slice(-4000) ?? ''}`;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-feeds-'));
    dataDir = join(work, 'data');
    backendEnv = await freshBackendEnv();
    const built = {
      lib: await libPackage(),
      devOnly: await buildNupkg({ id: DEV_ONLY, version: '1.0.0', description: 'Only ever in dev.' }),
      twinDev: await buildNupkg({ id: TWIN, version: '1.0.0', description: 'The dev build of the twin.' }),
      twinRelease: await buildNupkg({ id: TWIN, version: '1.0.0', description: 'The release build of the twin.' }),
      upstream: await buildNupkg({ id: UPSTREAM_LIB, version: '1.0.0', description: 'From the nuget.org stand-in.' }),
      quota1: await buildNupkg({ id: QUOTA_ID, version: '1.0.0' }),
      quota2: await buildNupkg({ id: QUOTA_ID, version: '2.0.0' }),
    };
    await mkdir(join(work, 'nupkgs'));
    for (const [name, b] of Object.entries(built)) {
      files[name] = join(work, 'nupkgs', `${name}.nupkg`);
      bytes[name] = b;
      await writeFile(files[name]!, b);
    }

    // The nuget.org stand-in: another Pawket, with a package only it has.
    nugetOrg = await startPawket({ env: { PAWKET_API_KEY: UPSTREAM_KEY } });
    await pushPackageFile(nugetOrg, files.upstream!, UPSTREAM_KEY);

    for (const args of [
      ['feeds', 'create', 'dev'],
      ['feeds', 'create', 'release'],
      ['feeds', 'create', 'upstream-proxy', '--upstream', nugetOrg.feedUrl],
      ['feeds', 'create', 'all', '--virtual', 'release,upstream-proxy'],
      ['feeds', 'create', 'small', '--quota-packages', '1'],
    ]) {
      const r = await pawket(args);
      if (r.code !== 0) throw new Error(`preparing the data dir failed:\n${describeRun(r)}`);
    }
    server = await startPawket({ dataDir, env: { ...backendEnv, PAWKET_API_KEY: KEY } });
    for (const feed of ['dev', 'release', 'all', 'small']) await writePawketOnlyConfig(join(work, 'config', feed), feedUrl(feed));
    await writePawketOnlyConfig(join(work, 'config', 'release-v2'), `${server.baseUrl}/f/release/api/v2/`, {
      fileName: 'NuGet.Config',
      protocolVersion: 2,
    });

    pushSandbox = await createNuGetSandbox(join(work, 'nuget-push'));
    project = join(work, 'consumer');
    await mkdir(project);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([server?.stop(), nugetOrg?.stop()]);
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  /** `dotnet nuget push` of a package file to a feed's V3 source URL. */
  function push(feed: string, name: string): Promise<RunResult> {
    return run(
      'dotnet',
      ['nuget', 'push', files[name]!, '--source', feedUrl(feed), '--api-key', KEY, '--configfile', configOf(feed), '--force-english-output'],
      // never let a key from the environment stand in for the one under test
      { env: { ...pushSandbox.env, NUGET_API_KEY: '' }, timeoutMs: STEP_TIMEOUT - 10_000 },
    );
  }

  let restores = 0;
  /**
   * Restores the one consumer project with these references from one feed alone, into fresh NuGet folders (so nothing
   * comes from an earlier restore's caches); returns the result, the resolved packages and the packages folder.
   */
  async function restore(feed: string, refs: Record<string, string>) {
    const sandbox = await createNuGetSandbox(join(work, `restore-${++restores}-${feed}`));
    const items = Object.entries(refs).map(([id, v]) => `    <PackageReference Include="${id}" Version="${v}" />`).join('\n');
    await rm(join(project, 'obj'), { recursive: true, force: true });
    await writeFile(
      join(project, 'Consumer.csproj'),
      `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><NuGetAudit>false</NuGetAudit></PropertyGroup>
  <ItemGroup>
${items}
  </ItemGroup>
</Project>
`,
    );
    const r = await run('dotnet', ['restore', project, '--configfile', configOf(feed)], { env: sandbox.env, timeoutMs: STEP_TIMEOUT - 10_000 });
    const resolved: string[] = [];
    if (r.code === 0) {
      const assets = JSON.parse(await readFile(join(project, 'obj', 'project.assets.json'), 'utf8')) as { libraries: Record<string, { type: string }> };
      for (const [key, lib] of Object.entries(assets.libraries)) if (lib.type === 'package') resolved.push(key);
    }
    /** The `.nupkg` restore put in the global packages folder. */
    const restored = (id: string, version: string) =>
      readFile(join(sandbox.packagesDir, id.toLowerCase(), version, `${id.toLowerCase()}.${version}.nupkg`));
    return { r, resolved: resolved.sort(), restored };
  }

  /** A feed's versions of an id, from its flat container (as restore reads it). */
  async function versions(feed: string, id: string): Promise<string[]> {
    const res = await fetch(`${server!.baseUrl}/f/${feed}/v3/flatcontainer/${id.toLowerCase()}/index.json`);
    if (res.status === 404) return [];
    expect(res.status).toBe(200);
    return ((await res.json()) as { versions: string[] }).versions;
  }

  it('gives each feed its own service index, every resource under /f/{feed}/v3/ but the web page of a package', async () => {
    for (const feed of ['dev', 'release', 'all']) {
      const res = await fetch(feedUrl(feed));
      expect(res.status, feed).toBe(200);
      const index = (await res.json()) as { resources: Array<{ '@id': string; '@type': string }> };
      expect(index.resources.length).toBeGreaterThan(0);
      for (const { '@id': url, '@type': type } of index.resources) {
        // NuGet sends credentials up front only under the service index's folder: everything clients call lives
        // there; the package's web page (for browsers) is the feed's UI
        const under = type === 'PackageDetailsUriTemplate/5.1.0' ? `/f/${feed}/packages/` : `/f/${feed}/v3/`;
        expect(url, `${feed}: ${type}`).toMatch(new RegExp(`^${server!.baseUrl}${under}`));
      }
    }
    expect((await fetch(`${server!.baseUrl}/f/no-such-feed/v3/index.json`)).status).toBe(404);
  });

  it('pushes to dev with dotnet nuget push', { timeout: STEP_TIMEOUT }, async () => {
    const results = await Promise.all([push('dev', 'lib'), push('dev', 'devOnly')]);
    for (const r of results) {
      expect(r.code, explain(r)).toBe(0);
      expect(r.output, explain(r)).toContain('Your package was pushed.');
    }
    expect(await versions('dev', LIB)).toEqual(['1.0.0']);
    expect(await versions('release', LIB)).toEqual([]);
    // the default feed is another feed: nothing arrived there
    expect((await fetch(`${server!.baseUrl}/v3/flatcontainer/${LIB.toLowerCase()}/index.json`)).status).toBe(404);
  });

  it('restores the package from dev, and from release fails with NU1101', { timeout: STEP_TIMEOUT }, async () => {
    const fromDev = await restore('dev', { [LIB]: '1.0.0' });
    expect(fromDev.r.code, explain(fromDev.r)).toBe(0);
    expect(fromDev.resolved).toEqual([`${LIB}/1.0.0`]);

    const fromRelease = await restore('release', { [LIB]: '1.0.0' });
    expect(fromRelease.r.code, explain(fromRelease.r)).not.toBe(0);
    expect(fromRelease.r.output, explain(fromRelease.r)).toMatch(new RegExp(`error NU1101: Unable to find package ${LIB.replace(/\./g, '\\.')}\\. No packages exist with this id`));
  });

  it('promotes with `pawket promote` on the running server\'s data dir; release then restores the same bytes', { timeout: STEP_TIMEOUT }, async () => {
    const promote = await pawket(['promote', LIB, '1.0.0', '--from', 'dev', '--to', 'release']);
    expect(promote.code, explain(promote)).toBe(0);
    // The server learns of the CLI's write through the change feed (polled every 250 ms by default).
    const started = Date.now();
    while ((await versions('release', LIB)).length === 0) {
      expect(Date.now() - started, 'release should list the promoted version within 5 s').toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await versions('release', LIB)).toEqual(['1.0.0']);
    // a copy, not a move: dev keeps it
    expect(await versions('dev', LIB)).toEqual(['1.0.0']);

    const fromRelease = await restore('release', { [LIB]: '1.0.0' });
    expect(fromRelease.r.code, explain(fromRelease.r)).toBe(0);
    expect(fromRelease.resolved).toEqual([`${LIB}/1.0.0`]);
    expect(sha512(await fromRelease.restored(LIB, '1.0.0'))).toBe(sha512(bytes.lib!));
  });

  describe.concurrent('after the promotion, the other clients see it in release (and not what stayed in dev)', () => {
    /** `mono NuGet.exe <args> -ConfigFile <config of feed> -NonInteractive` in private NuGet folders. */
    async function nuget(name: string, args: readonly string[], config: string): Promise<RunResult> {
      const sandbox = await createNuGetSandbox(join(work, `nuget-exe-${name}`));
      return run('mono', [nugetExePath, ...args, '-ConfigFile', config, '-NonInteractive'], {
        cwd: work,
        env: { ...sandbox.env, NUGET_API_KEY: '' },
        timeoutMs: STEP_TIMEOUT - 10_000,
      });
    }

    it.skipIf(nugetExe.skip)('nuget.exe on release\'s V3 URL installs it, and not the dev-only package', { timeout: STEP_TIMEOUT }, async ({ expect }) => {
      const source = feedUrl('release');
      const out = join(work, 'nuget-exe-v3-out');
      const install = await nuget('v3', ['install', LIB, '-Version', '1.0.0', '-Source', source, '-OutputDirectory', out], configOf('release'));
      expect(install.code, explain(install)).toBe(0);
      expect(sha512(await readFile(join(out, `${LIB}.1.0.0`, `${LIB}.1.0.0.nupkg`))), explain(install)).toBe(sha512(bytes.lib!));

      const devOnly = await nuget('v3-dev-only', ['install', DEV_ONLY, '-Source', source, '-OutputDirectory', out], configOf('release'));
      expect(devOnly.code, explain(devOnly)).not.toBe(0);
      expect(devOnly.output, explain(devOnly)).toMatch(new RegExp(`Unable to find package '${DEV_ONLY.replace(/\./g, '\\.')}'`));
    });

    it.skipIf(nugetExe.skip)('nuget.exe on release\'s V2 URL lists and installs it, and lists nothing from dev', { timeout: STEP_TIMEOUT }, async ({ expect }) => {
      const source = `${server!.baseUrl}/f/release/api/v2/`;
      const config = join(work, 'config', 'release-v2', 'NuGet.Config');
      const list = await nuget('v2-list', ['list', 'Contoso.Feeds', '-AllVersions', '-Source', source], config);
      expect(list.code, explain(list)).toBe(0);
      expect(list.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('Contoso.')), explain(list)).toEqual([`${LIB} 1.0.0`]);

      const out = join(work, 'nuget-exe-v2-out');
      const install = await nuget('v2-install', ['install', LIB, '-Version', '1.0.0', '-Source', source, '-OutputDirectory', out], config);
      expect(install.code, explain(install)).toBe(0);
      expect(sha512(await readFile(join(out, `${LIB}.1.0.0`, `${LIB}.1.0.0.nupkg`))), explain(install)).toBe(sha512(bytes.lib!));
    });

    it.skipIf(psClients.skip)('PSResourceGet on release\'s V3 URL finds and saves it, and does not find the dev-only package', { timeout: STEP_TIMEOUT }, async ({ expect }) => {
      const home = join(work, 'pwsh-home');
      const saved = join(work, 'pwsh-saved');
      await mkdir(saved, { recursive: true });
      const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
      const script = `$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue'
Register-PSResourceRepository -Name Release -Uri ${q(feedUrl('release'))} -Trusted
$found = @(Find-PSResource -Name ${q(LIB)} -Repository Release | ForEach-Object { "$($_.Name) $($_.Version)" })
$devOnly = @(Find-PSResource -Name ${q(DEV_ONLY)} -Repository Release -ErrorAction SilentlyContinue)
Save-PSResource -Name ${q(LIB)} -Version '1.0.0' -Repository Release -Path ${q(saved)} -TrustRepository
@{ found = $found; devOnly = $devOnly.Count } | ConvertTo-Json -Compress`;
      const r = await run(pwshPath, ['-NoProfile', '-NonInteractive', '-Command', script], {
        cwd: work,
        env: {
          // PSResourceGet keeps its repositories under the home folder: a private one leaves the machine's alone
          HOME: home,
          XDG_DATA_HOME: join(home, '.local', 'share'),
          XDG_CONFIG_HOME: join(home, '.config'),
          XDG_CACHE_HOME: join(home, '.cache'),
          POWERSHELL_TELEMETRY_OPTOUT: '1',
          POWERSHELL_UPDATECHECK: 'Off',
        },
        timeoutMs: STEP_TIMEOUT - 10_000,
      });
      expect(r.code, explain(r)).toBe(0);
      const answer = JSON.parse(r.stdout.trim().split('\n').pop()!) as { found: string[] | string; devOnly: number };
      expect([answer.found].flat(), explain(r)).toEqual([`${LIB} 1.0.0`]);
      expect(answer.devOnly, explain(r)).toBe(0);
      expect(existsSync(join(saved, LIB, '1.0.0', `${LIB}.psd1`)), explain(r)).toBe(true);
    });
  });

  it('restores from the virtual feed the release package and a package only the upstream member has', { timeout: STEP_TIMEOUT }, async () => {
    const fromAll = await restore('all', { [LIB]: '1.0.0', [UPSTREAM_LIB]: '1.0.0' });
    expect(fromAll.r.code, explain(fromAll.r)).toBe(0);
    expect(fromAll.resolved).toEqual([`${LIB}/1.0.0`, `${UPSTREAM_LIB}/1.0.0`]);
    expect(sha512(await fromAll.restored(LIB, '1.0.0'))).toBe(sha512(bytes.lib!));
    expect(sha512(await fromAll.restored(UPSTREAM_LIB, '1.0.0'))).toBe(sha512(bytes.upstream!));
    // nothing that is only in dev comes through
    const devOnly = await restore('all', { [DEV_ONLY]: '1.0.0' });
    expect(devOnly.r.code, explain(devOnly.r)).not.toBe(0);
    expect(devOnly.r.output, explain(devOnly.r)).toContain('NU1101');
  });

  it('keeps one id+version with different bytes in dev and release apart: each feed serves its own', { timeout: STEP_TIMEOUT }, async () => {
    const [dev, release] = await Promise.all([push('dev', 'twinDev'), push('release', 'twinRelease')]);
    expect(dev.code, explain(dev)).toBe(0);
    expect(release.code, explain(release)).toBe(0);
    expect(sha512(bytes.twinDev!)).not.toBe(sha512(bytes.twinRelease!));

    const download = async (feed: string) => {
      const index = (await (await fetch(feedUrl(feed))).json()) as { resources: Array<{ '@id': string; '@type': string }> };
      const base = index.resources.find((r) => r['@type'] === 'PackageBaseAddress/3.0.0')!['@id'].replace(/\/?$/, '/');
      const lower = TWIN.toLowerCase();
      const res = await fetch(`${base}${lower}/1.0.0/${lower}.1.0.0.nupkg`);
      expect(res.status, feed).toBe(200);
      return sha512(Buffer.from(await res.arrayBuffer()));
    };
    expect(await download('dev')).toBe(sha512(bytes.twinDev!));
    expect(await download('release')).toBe(sha512(bytes.twinRelease!));

    // promoting dev's onto the version release already has is refused, and release keeps its bytes
    const promote = await pawket(['promote', TWIN, '1.0.0', '--from', 'dev', '--to', 'release']);
    expect(promote.code, explain(promote)).not.toBe(0);
    expect(promote.output, explain(promote)).toMatch(/already (exists|in)\b.*\brelease\b/i);
    expect(await download('release')).toBe(sha512(bytes.twinRelease!));
  });

  it('refuses a push over the feed\'s package quota with a message naming the quota, and stores nothing', { timeout: STEP_TIMEOUT }, async () => {
    const first = await push('small', 'quota1');
    expect(first.code, explain(first)).toBe(0);
    const over = await push('small', 'quota2');
    expect(over.code, explain(over)).not.toBe(0);
    // the client shows the server's reason with the status
    const statusLine = over.output.split('\n').find((l) => /status code does not indicate success: \d{3}/.test(l));
    expect(statusLine, explain(over)).toMatch(/: 403 \(.*quota.*\)/i);
    expect(statusLine, explain(over)).toMatch(/\bsmall\b/);
    expect(await versions('small', QUOTA_ID)).toEqual(['1.0.0']);
    const download = await fetch(`${server!.baseUrl}/f/small/v3/flatcontainer/${QUOTA_ID.toLowerCase()}/2.0.0/${QUOTA_ID.toLowerCase()}.2.0.0.nupkg`);
    expect(download.status).toBe(404);
  });
});
