/**
 * Merged search end to end: two real Pawket processes; the second uses the first as its upstream with
 * `upstreamSearch: merged`. A search on the second finds a package only the first has (over HTTP and with
 * `dotnet package search`), local packages come first and win, and it still answers once the first is stopped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNupkg } from '../support/nupkg.js';
import { createNuGetSandbox, describeRun, hasDotnet, run, writePawketOnlyConfig } from './support/dotnet.js';
import { startPawket, type PawketServer } from './support/server.js';

const KEY = 'merged-search-key';
const STEP_TIMEOUT = 120_000;

interface SearchAnswer {
  totalHits: number;
  data: { id: string; version: string; mirroredFrom?: string }[];
}

describe('merged search across two Pawket processes', () => {
  let work: string;
  let origin: PawketServer | undefined;
  let proxy: PawketServer | undefined;

  async function push(server: PawketServer, id: string, version: string): Promise<void> {
    const res = await fetch(`${server.baseUrl}/api/v2/package`, {
      method: 'PUT',
      body: new Uint8Array(await buildNupkg({ id, version, description: `${id} ${version}` })),
      headers: { 'x-nuget-apikey': KEY },
    });
    expect(res.status, await res.text()).toBe(201);
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-merged-search-'));
    origin = await startPawket({ env: { PAWKET_API_KEY: KEY } });
    await push(origin, 'PawketMerged.Remote', '1.0.0');
    await push(origin, 'PawketMerged.Both', '1.0.0');
    proxy = await startPawket({
      env: { PAWKET_API_KEY: KEY, PAWKET_UPSTREAMS: origin.feedUrl, PAWKET_UPSTREAM_SEARCH: 'merged' },
    });
    await push(proxy, 'PawketMerged.Local', '1.0.0');
    await push(proxy, 'PawketMerged.Both', '2.0.0');
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await Promise.all([origin?.stop(), proxy?.stop()]);
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  const search = async (query: string): Promise<SearchAnswer> => {
    const res = await fetch(`${proxy!.baseUrl}/v3/search?${query}`);
    expect(res.status, proxy!.output().slice(-2000)).toBe(200);
    return (await res.json()) as SearchAnswer;
  };

  it('finds a package only the upstream has, after the local ones; a local id wins', async () => {
    const r = await search('q=pawketmerged');
    expect(r.data.map((d) => d.id).slice(0, 2).sort()).toEqual(['PawketMerged.Both', 'PawketMerged.Local']);
    expect(r.data.slice(2)).toMatchObject([{ id: 'PawketMerged.Remote', version: '1.0.0', mirroredFrom: origin!.feedUrl }]);
    expect(r.totalHits).toBe(3);
    expect(r.data.find((d) => d.id === 'PawketMerged.Both')).toMatchObject({ version: '2.0.0' });
    const ac = (await (await fetch(`${proxy!.baseUrl}/v3/autocomplete?q=pawketmerged.r`)).json()) as { data: string[] };
    expect(ac.data).toEqual(['PawketMerged.Remote']);
  });

  it.skipIf(!hasDotnet)('dotnet package search lists the upstream package too', { timeout: STEP_TIMEOUT }, async () => {
    const sandbox = await createNuGetSandbox(join(work, 'nuget'));
    const project = join(work, 'project');
    const configFile = await writePawketOnlyConfig(project, proxy!.feedUrl);
    const r = await run('dotnet', ['package', 'search', 'pawketmerged', '--source', proxy!.feedUrl, '--configfile', configFile, '--format', 'json'], {
      cwd: project,
      env: sandbox.env,
      timeoutMs: STEP_TIMEOUT - 10_000,
    });
    expect(r.code, describeRun(r)).toBe(0);
    const output = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { searchResult: { packages: { id: string }[] }[] };
    expect(output.searchResult[0]!.packages.map((p) => p.id).sort(), describeRun(r)).toEqual([
      'PawketMerged.Both',
      'PawketMerged.Local',
      'PawketMerged.Remote',
    ]);
  });

  it('still answers with its own packages when the upstream is stopped', async () => {
    await origin!.stop();
    const started = Date.now();
    // A query not asked before: nothing of the upstream's is cached for it.
    const r = await search('q=pawketmerged&take=50');
    expect(r.data.map((d) => d.id).sort()).toEqual(['PawketMerged.Both', 'PawketMerged.Local']);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
