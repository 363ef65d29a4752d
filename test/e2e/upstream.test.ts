/**
 * Upstream read-through end to end: two (three) real Pawket processes; the second uses the first as its upstream.
 * `dotnet restore` through the second gets packages only the first has; they stay cached when the first is gone; a
 * version pushed to the first appears after the freshness window; with blockShadowing on, an upstream version of a
 * pushed id is never served (dependency confusion); an advisory filed on the first makes restore through the second
 * warn (NuGetAudit), also once the first is gone.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import { CORE_ID, WIDGETS_ID, packTestPackages, type TestPackages } from './support/packages.js';
import { pushPackageFile, startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('upstream end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);
const STEP_TIMEOUT = 240_000;
const TTL_SECONDS = 2;
const ADVISORY = 'https://advisories.example.com/ORIGIN-1';

describe.skipIf(clients.skip)('a Pawket using another Pawket as its upstream', () => {
  let work: string;
  let pkgs: TestPackages;
  let sandbox: NuGetSandbox;
  let origin: PawketServer | undefined;
  let proxy: PawketServer | undefined;
  let guarded: PawketServer | undefined;

  async function upstreamConfig(name: string, extra: Record<string, unknown>): Promise<string> {
    const file = join(work, `${name}.json`);
    const upstreams = [{ url: origin!.feedUrl, timeoutMs: 3_000, metadataTtlSeconds: TTL_SECONDS }];
    await writeFile(file, JSON.stringify({ upstreams, ...extra }));
    return file;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-upstream-'));
    pkgs = await packTestPackages(work, (await createNuGetSandbox(join(work, 'nuget-pack'))).env);
    sandbox = await createNuGetSandbox(join(work, 'nuget-consume'));
    origin = await startPawket({ env: { PAWKET_API_KEY: 'origin-key' } });
    await pushPackageFile(origin, pkgs.core100, 'origin-key');
    await pushPackageFile(origin, pkgs.widgets, 'origin-key');
    proxy = await startPawket({ env: { PAWKET_API_KEY: 'proxy-key', PAWKET_CONFIG: await upstreamConfig('proxy', {}) } });
    guarded = await startPawket({
      env: { PAWKET_API_KEY: 'guarded-key', PAWKET_CONFIG: await upstreamConfig('guarded', { blockShadowing: true }) },
    });
    // The guarded feed has its own Pawket.E2e.Core 1.0.0: the id is "internal" there.
    await pushPackageFile(guarded, pkgs.core100, 'guarded-key');
  }, 600_000);

  afterAll(async () => {
    await Promise.all([origin?.stop(), proxy?.stop(), guarded?.stop()]);
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  /** A copy of the consumer project referencing these packages, restoring from `feedUrl` only. */
  async function consumer(name: string, feedUrl: string, refs: Record<string, string>): Promise<string> {
    const dir = join(work, name);
    await cp(join(pkgs.projectsDir, 'Consumer'), dir, { recursive: true });
    const csproj = join(dir, 'Consumer.csproj');
    const items = Object.entries(refs).map(([id, v]) => `    <PackageReference Include="${id}" Version="${v}" />`).join('\n');
    const text = (await readFile(csproj, 'utf8')).replace('</Project>', `  <ItemGroup>\n${items}\n  </ItemGroup>\n</Project>`);
    await writeFile(csproj, text);
    await writePawketOnlyConfig(dir, feedUrl);
    return dir;
  }

  const restore = (dir: string) =>
    run('dotnet', ['restore', '--force-evaluate'], { cwd: dir, env: sandbox.env, timeoutMs: STEP_TIMEOUT - 10_000 });
  const clearLocals = () => run('dotnet', ['nuget', 'locals', 'all', '--clear'], { env: sandbox.env, timeoutMs: 60_000 });

  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- proxy log ---\n${proxy?.output().slice(-3000) ?? ''}\n--- guarded log ---\n${guarded?.output().slice(-2000) ?? ''}`;
  }

  async function resolved(dir: string): Promise<Record<string, string>> {
    const assets = JSON.parse(await readFile(join(dir, 'obj', 'project.assets.json'), 'utf8')) as { libraries: Record<string, { type: string }> };
    return Object.fromEntries(
      Object.entries(assets.libraries)
        .filter(([, l]) => l.type === 'package')
        .map(([key]) => [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)]),
    );
  }

  const flatVersions = async (server: PawketServer, id: string) => {
    const res = await fetch(`${server.baseUrl}/v3/flatcontainer/${id.toLowerCase()}/index.json`);
    return res.status === 200 ? ((await res.json()) as { versions: string[] }).versions : res.status;
  };

  it('restores packages only the upstream has, with their dependency', { timeout: STEP_TIMEOUT }, async () => {
    const dir = await consumer('first', proxy!.feedUrl, { [WIDGETS_ID]: '2.0.0-rc.1+build.5' });
    const r = await restore(dir);
    expect(r.code, explain(r)).toBe(0);
    expect(await resolved(dir)).toEqual({ [WIDGETS_ID]: '2.0.0-rc.1', [CORE_ID]: '1.0.0' });
    // Restore read the registration with Pawket's `mirroredFrom` extension in it; the mirrored rows keep the mark.
    const leaf = await fetch(`${proxy!.baseUrl}/v3/registration-gz-semver2/${CORE_ID.toLowerCase()}/1.0.0.json`);
    expect(((await leaf.json()) as { mirroredFrom?: string }).mirroredFrom).toBe(origin!.feedUrl);
  });

  it('shows a version pushed upstream after the freshness window', { timeout: STEP_TIMEOUT }, async () => {
    expect(await flatVersions(proxy!, CORE_ID)).toEqual(['1.0.0']);
    await pushPackageFile(origin!, pkgs.core101, 'origin-key');
    await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000 + 1_500));
    expect(await flatVersions(proxy!, CORE_ID)).toEqual(['1.0.0', '1.0.1']);
    const dir = await consumer('newer', proxy!.feedUrl, { [WIDGETS_ID]: '2.0.0-rc.1+build.5', [CORE_ID]: '1.0.*' });
    await clearLocals();
    const r = await restore(dir);
    expect(r.code, explain(r)).toBe(0);
    expect((await resolved(dir))[CORE_ID]).toBe('1.0.1');
  });

  it('blocks dependency confusion: an upstream version of a pushed id is never served', { timeout: STEP_TIMEOUT }, async () => {
    expect(await flatVersions(guarded!, CORE_ID)).toEqual(['1.0.0']);
    const dir = await consumer('confused', guarded!.feedUrl, { [CORE_ID]: '[1.0.1]' });
    await clearLocals();
    const r = await restore(dir);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/NU1102|Unable to find package Pawket\.E2e\.Core with version/);
    // Ids the guarded feed never pushed still come through.
    expect(await flatVersions(guarded!, WIDGETS_ID)).toEqual(['2.0.0-rc.1']);
  });

  it("warns during restore about an advisory filed upstream (the upstream's VulnerabilityInfo is served here)", { timeout: STEP_TIMEOUT }, async () => {
    const filed = await fetch(`${origin!.baseUrl}/api/packages/${WIDGETS_ID}/vulnerabilities`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-nuget-apikey': 'origin-key' },
      body: JSON.stringify({ url: ADVISORY, severity: 'high', versions: '[2.0.0-rc.1]' }),
    });
    expect(filed.status).toBe(200);
    // The proxy refreshes the upstream's data in the background once it is older than the freshness window.
    await expect
      .poll(async () => {
        const index = (await (await fetch(`${proxy!.baseUrl}/v3/vulnerabilities/index.json`)).json()) as { '@id': string }[];
        return Promise.all(index.map(async (f) => JSON.stringify(await (await fetch(f['@id'])).json())));
      }, { timeout: 15_000, interval: 500 })
      .toContainEqual(expect.stringContaining(ADVISORY));
    await clearLocals();
    const r = await restore(join(work, 'newer'));
    expect(r.code, explain(r)).toBe(0);
    expect(r.output, explain(r)).toMatch(new RegExp(`NU1903.*${WIDGETS_ID.replace(/\./g, '\\.')}.*${ADVISORY}`));
  });

  it('keeps restoring from its cache (and auditing) when the upstream is gone', { timeout: STEP_TIMEOUT }, async () => {
    await origin!.stop();
    await clearLocals();
    const dir = join(work, 'newer');
    const r = await restore(dir);
    expect(r.code, explain(r)).toBe(0);
    expect(await resolved(dir)).toEqual({ [WIDGETS_ID]: '2.0.0-rc.1', [CORE_ID]: '1.0.1' });
    expect(r.output, explain(r)).toContain(ADVISORY);
  });
});
