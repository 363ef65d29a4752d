import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNupkg } from '../../support/nupkg.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { FaultUpstream, type SearchMode } from './fault-upstream.js';

interface SearchAnswer {
  totalHits: number;
  data: { id: string; version: string; registration: string; mirroredFrom?: string; versions: { version: string }[] }[];
}

// `upstreamSearch: merged`: V3 search and autocomplete also ask the upstreams; local results come first and win.
describe('merged search', () => {
  const upstream = new FaultUpstream();
  let url: string;
  let merged: TestServer;
  let localOnly: TestServer;

  beforeAll(async () => {
    for (const [id, version] of [
      ['Search.Up.A', '1.0.0'],
      ['Search.Up.B', '1.0.0'],
      ['Search.Up.B', '2.0.0-beta'],
      ['Search.Shared', '1.0.0'],
      ['Search.Denied', '1.0.0'],
    ] as const) {
      upstream.add(id, version, await buildNupkg({ id, version }));
    }
    url = await upstream.start();
    const upstreams = [{ url, timeoutMs: 500, deny: ['search.denied'] }];
    merged = await startTestServer({ upstreams, upstreamSearch: 'merged' });
    localOnly = await startTestServer({ upstreams });
    for (const s of [merged, localOnly]) {
      expect((await pushRaw(s.url, await buildNupkg({ id: 'Search.Shared', version: '5.0.0', description: 'local' }))).status).toBe(201);
      expect((await pushRaw(s.url, await buildNupkg({ id: 'Search.Local', version: '1.0.0' }))).status).toBe(201);
    }
  });
  afterAll(async () => {
    await Promise.all([merged?.close(), localOnly?.close()]);
    await upstream.stop();
  });

  const json = async <T>(s: TestServer, path: string): Promise<T> => {
    const res = await fetch(`${s.url}${path}`);
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  it('answers local results first, then upstream-only ids; local ids and denied ids never come from upstream', async () => {
    const r = await json<SearchAnswer>(merged, '/v3/search?q=search');
    const ids = r.data.map((d) => d.id);
    expect(ids.slice(0, 2).sort()).toEqual(['Search.Local', 'Search.Shared']);
    expect(ids.slice(2)).toEqual(['Search.Up.A', 'Search.Up.B']);
    expect(r.totalHits).toBe(4);
    const shared = r.data.find((d) => d.id === 'Search.Shared')!;
    expect(shared.version).toBe('5.0.0');
    expect(shared.mirroredFrom).toBeUndefined();
    const a = r.data.find((d) => d.id === 'Search.Up.A')!;
    expect(a.mirroredFrom).toBe(url);
    // Clients follow the registration link to this feed, which serves the merged view.
    expect(a.registration.startsWith(merged.url)).toBe(true);
    expect((await fetch(a.registration)).status).toBe(200);
  });

  it('respects prerelease, skip and take', async () => {
    const stable = await json<SearchAnswer>(merged, '/v3/search?q=search.up.b');
    expect(stable.data.map((d) => [d.id, d.version, d.versions.map((v) => v.version)])).toEqual([['Search.Up.B', '1.0.0', ['1.0.0']]]);
    const pre = await json<SearchAnswer>(merged, '/v3/search?q=search.up.b&prerelease=true');
    expect(pre.data.map((d) => [d.version, d.versions.map((v) => v.version)])).toEqual([['2.0.0-beta', ['1.0.0', '2.0.0-beta']]]);
    const pages = [];
    for (let skip = 0; skip < 5; skip++) pages.push(...(await json<SearchAnswer>(merged, `/v3/search?q=search&skip=${skip}&take=1`)).data.map((d) => d.id));
    expect(pages.slice(2)).toEqual(['Search.Up.A', 'Search.Up.B']);
    expect(new Set(pages).size).toBe(4);
  });

  it('merges autocomplete: ids, and versions of an id only the upstream has', async () => {
    const ids = await json<{ totalHits: number; data: string[] }>(merged, '/v3/autocomplete?q=search');
    expect(ids.data.slice(2)).toEqual(['Search.Up.A', 'Search.Up.B']);
    expect(ids.totalHits).toBe(4);
    expect((await json<{ data: string[] }>(merged, '/v3/autocomplete?id=search.up.b&prerelease=true')).data).toEqual(['1.0.0', '2.0.0-beta']);
    expect((await json<{ data: string[] }>(merged, '/v3/autocomplete?id=search.shared')).data).toEqual(['5.0.0']);
    expect((await json<{ data: string[] }>(merged, '/v3/autocomplete?id=search.denied')).data).toEqual([]);
  });

  it('keeps upstream answers briefly: the same search again does not ask the upstream', async () => {
    const before = upstream.hitsOf('/search');
    await json<SearchAnswer>(merged, '/v3/search?q=search');
    await json<SearchAnswer>(merged, '/v3/search?q=search');
    expect(upstream.hitsOf('/search')).toBe(before);
  });

  it('shows upstream hits in the web UI, with their mark and a page', async () => {
    const host = new URL(url).host;
    const home = await (await fetch(`${merged.url}/?q=search.up`)).text();
    expect(home).toContain('href="/packages/Search.Up.A"');
    expect(home).toContain(`Mirrored from ${host}`);
    const page = await fetch(`${merged.url}/packages/Search.Up.A`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`Mirrored from ${host}`);
  });

  it("changes nothing with 'local': the upstream is not asked", async () => {
    const before = upstream.hitsOf('/search') + upstream.hitsOf('/autocomplete');
    const r = await json<SearchAnswer>(localOnly, '/v3/search?q=search');
    expect(r.data.map((d) => d.id).sort()).toEqual(['Search.Local', 'Search.Shared']);
    expect(r.totalHits).toBe(2);
    expect((await json<{ data: string[] }>(localOnly, '/v3/autocomplete?q=search.up')).data).toEqual([]);
    expect(upstream.hitsOf('/search') + upstream.hitsOf('/autocomplete')).toBe(before);
  });
});

describe('merged search with a failing upstream', () => {
  for (const mode of ['hang', '500', 'garbage'] as SearchMode[]) {
    it(`answers local results when the upstream search is ${mode}`, async () => {
      const upstream = new FaultUpstream();
      upstream.add('Broken.Up', '1.0.0', await buildNupkg({ id: 'Broken.Up', version: '1.0.0' }));
      upstream.searchMode = mode;
      const url = await upstream.start();
      const pawket = await startTestServer({ upstreams: [{ url, timeoutMs: 300 }], upstreamSearch: 'merged' });
      try {
        expect((await pushRaw(pawket.url, await buildNupkg({ id: 'Broken.Local', version: '1.0.0' }))).status).toBe(201);
        const started = Date.now();
        const res = await fetch(`${pawket.url}/v3/search?q=broken`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as SearchAnswer).data.map((d) => d.id)).toEqual(['Broken.Local']);
        const ac = await fetch(`${pawket.url}/v3/autocomplete?q=broken`);
        expect(ac.status).toBe(200);
        expect(((await ac.json()) as { data: string[] }).data).toEqual(['Broken.Local']);
        expect(Date.now() - started).toBeLessThan(3_000);
        // One circuit breaker per upstream: marked down by search, it is not asked for metadata either for a while.
        expect((await fetch(`${pawket.url}/v3/flatcontainer/broken.up/index.json`)).status).toBe(502);
        expect(upstream.hitsOf('/reg/')).toBe(0);
      } finally {
        await pawket.close();
        await upstream.stop();
      }
    });
  }
});
