import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedHub } from '../../../src/feed/hub.js';
import { buildNupkg } from '../../support/nupkg.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { corePackage, expected, ID, pdb, symbolsPackage } from '../symbols/fixtures.js';

// A virtual feed `all` over two feeds and a proxy of another Pawket (the upstream), on one loopback server.
describe('virtual feed', () => {
  let origin: TestServer;
  let server: TestServer;
  let hub: FeedHub;
  const ids: Record<string, number> = {};

  const createFeed = async (name: string, settings: Record<string, unknown> = {}, members: number[] | null = null) => {
    const record = await hub.feedDb.createFeed({ name, description: '', settings, members, created: new Date().toISOString() });
    ids[name] = record!.id;
    await hub.reloadDefinitions();
  };
  const push = async (feed: string, id: string, version: string, description = `${feed} ${version}`) => {
    const res = await pushRaw(`${server.url}/f/${feed}`, await buildNupkg({ id, version, description }));
    expect(res.status).toBe(201);
  };
  const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);
  const versions = async (feed: string, lowerId: string) => {
    const res = await get(`/f/${feed}/v3/flatcontainer/${lowerId}/index.json`);
    return res.status === 200 ? ((await res.json()) as { versions: string[] }).versions : res.status;
  };
  const nupkg = async (base: string, lowerId: string, version: string) => {
    const res = await fetch(`${base}/v3/flatcontainer/${lowerId}/${version}/${lowerId}.${version}.nupkg`);
    return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : res.status;
  };

  beforeAll(async () => {
    origin = await startTestServer();
    for (const [id, version] of [
      ['Up.Only', '1.0.0'],
      ['Shared.Lib', '9.0.0'],
      ['Owned.Lib', '5.0.0'],
    ] as const) {
      expect((await pushRaw(origin.url, await buildNupkg({ id, version, description: `origin ${version}` }))).status).toBe(201);
    }
    // Everything here happens in this process; the change watcher would hand this node's own changes back at moments the
    // tests do not control (a download right after a push then counts for no member: the change came between).
    server = await startTestServer({ changePollInterval: 60_000 });
    hub = server.feed.hub;
    await createFeed('release', { deleteMode: 'delete' });
    await createFeed('dev');
    await createFeed('proxy', { upstreams: [{ url: `${origin.url}/v3/index.json`, timeoutMs: 2_000, metadataTtlSeconds: 1 }], upstreamSearch: 'merged' });
    await createFeed('all', {}, [ids.release!, ids.dev!, ids.proxy!]);
    await push('release', 'Shared.Lib', '1.0.0');
    await push('release', 'Release.Only', '1.0.0');
    await push('dev', 'Shared.Lib', '2.0.0');
    await push('dev', 'Dev.Only', '1.0.0');
    await push('dev', 'Owned.Lib', '2.0.0');
    // Owned by release, which has no version of it any more.
    await push('release', 'Owned.Lib', '1.0.0');
    const deleted = await fetch(`${server.url}/f/release/api/v2/package/Owned.Lib/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(deleted.status).toBe(200);
  });
  afterAll(async () => {
    await server?.close();
    await origin?.close();
  });

  it('serves each id from the first member that has it, and only that member’s versions', async () => {
    expect(await versions('all', 'release.only')).toEqual(['1.0.0']);
    expect(await versions('all', 'dev.only')).toEqual(['1.0.0']);
    // release, dev and the upstream all have it: release wins, with its versions alone.
    expect(await versions('all', 'shared.lib')).toEqual(['1.0.0']);
    expect(await nupkg(`${server.url}/f/all`, 'shared.lib', '2.0.0')).toBe(404);
    expect(await nupkg(`${server.url}/f/all`, 'shared.lib', '1.0.0')).toEqual(await nupkg(`${server.url}/f/release`, 'shared.lib', '1.0.0'));
    const leaf = await get('/f/all/v3/registration-gz-semver2/shared.lib/index.json');
    expect(leaf.status).toBe(200);
    const doc = (await leaf.json()) as { items: { items: { catalogEntry: { version: string; description: string }; packageContent: string }[] }[] };
    const leaves = doc.items.flatMap((p) => p.items);
    expect(leaves.map((l) => [l.catalogEntry.version, l.catalogEntry.description])).toEqual([['1.0.0', 'release 1.0.0']]);
    expect(leaves[0]!.packageContent).toBe(`${server.url}/f/all/v3/flatcontainer/shared.lib/1.0.0/shared.lib.1.0.0.nupkg`);
  });

  it('serves what only an upstream of a member has, fetched into that member byte for byte', async () => {
    expect(await versions('all', 'up.only')).toEqual(['1.0.0']);
    const bytes = await nupkg(`${server.url}/f/all`, 'up.only', '1.0.0');
    expect(bytes).toEqual(await nupkg(origin.url, 'up.only', '1.0.0'));
    const proxy = (await hub.feed('proxy'))!;
    expect((await proxy.db.getPackage('up.only', '1.0.0'))?.mirroredFrom).toBe(`${origin.url}/v3/index.json`);
    expect(await (await hub.feed('all'))!.db.getPackage('up.only', '1.0.0')).toBeNull();
  });

  it('never serves an id a member owns from a later member, even while the owner has no version of it', async () => {
    expect(await versions('release', 'owned.lib')).toBe(404);
    expect(await versions('dev', 'owned.lib')).toEqual(['2.0.0']);
    expect(await versions('all', 'owned.lib')).toBe(404);
    expect(await nupkg(`${server.url}/f/all`, 'owned.lib', '2.0.0')).toBe(404);
    expect((await get('/f/all/v3/registration/owned.lib/index.json')).status).toBe(404);
  });

  it('answers 404 for an id no member has', async () => {
    const res = await get('/f/all/v3/flatcontainer/nobody.lib/index.json');
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/nobody\.lib was not found/i);
    expect(await nupkg(`${server.url}/f/all`, 'nobody.lib', '1.0.0')).toBe(404);
  });

  it('merges search and autocomplete in member order, each id once, from the member that serves it', async () => {
    type Hit = { id: string; version: string; versions: { version: string }[] };
    const search = async (q: string) => ((await (await get(`/f/all/v3/search?q=${q}&take=50`)).json()) as { totalHits: number; data: Hit[] }).data;
    const hits = await search('');
    const byId = new Map(hits.map((h) => [h.id, h]));
    expect(hits.filter((h) => h.id === 'Shared.Lib')).toHaveLength(1);
    expect(byId.get('Shared.Lib')!.versions.map((v) => v.version)).toEqual(['1.0.0']);
    expect([...byId.keys()]).toEqual(expect.arrayContaining(['Release.Only', 'Shared.Lib', 'Dev.Only', 'Up.Only']));
    // release's hits first, then dev's, then the proxy's (its mirrored and its upstream's).
    expect(hits.findIndex((h) => h.id === 'Release.Only')).toBeLessThan(hits.findIndex((h) => h.id === 'Dev.Only'));
    expect(hits.findIndex((h) => h.id === 'Dev.Only')).toBeLessThan(hits.findIndex((h) => h.id === 'Up.Only'));
    // dev has Owned.Lib, but release owns it: not shown from dev (nor from the upstream).
    expect(byId.has('Owned.Lib')).toBe(false);
    const auto = (await (await get('/f/all/v3/autocomplete?q=shared')).json()) as { data: string[] };
    expect(auto.data).toEqual(['Shared.Lib']);
    const autoVersions = (await (await get('/f/all/v3/autocomplete?id=shared.lib')).json()) as { data: string[] };
    expect(autoVersions.data).toEqual(['1.0.0']);
  });

  it('refuses pushes, deletes and symbol pushes with a 405 naming the members', async () => {
    const pushed = await pushRaw(`${server.url}/f/all`, await buildNupkg({ id: 'Sneaky.Lib', version: '1.0.0' }));
    expect(pushed.status).toBe(405);
    const message = "Feed 'all' is virtual: push to one of its members (release, dev, proxy).";
    expect(pushed.statusText).toBe(message);
    expect(await pushed.text()).toBe(message);
    const deleted = await get('/f/all/api/v2/package/Release.Only/1.0.0', { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(deleted.status).toBe(405);
    expect(await deleted.text()).toMatch(/virtual and read-only.*release, dev, proxy/);
    const symbols = await get('/f/all/api/v2/symbolpackage', { method: 'PUT', body: 'x', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(symbols.status).toBe(405);
    expect(await versions('all', 'sneaky.lib')).toBe(404);
    expect(await versions('release', 'release.only')).toEqual(['1.0.0']);
  });

  it('shows a version a member pushes at once, and switches to an earlier member that gets the id', async () => {
    expect(await versions('all', 'release.only')).toEqual(['1.0.0']);
    await push('release', 'Release.Only', '1.1.0');
    expect(await versions('all', 'release.only')).toEqual(['1.0.0', '1.1.0']);
    expect(await versions('all', 'dev.only')).toEqual(['1.0.0']);
    await push('release', 'Dev.Only', '7.0.0');
    expect(await versions('all', 'dev.only')).toEqual(['7.0.0']);
    const doc = (await (await get('/f/all/v3/registration-gz-semver2/dev.only/index.json')).json()) as { items: { items: unknown[] }[] };
    expect(doc.items.flatMap((p) => p.items)).toHaveLength(1);
  });

  it('counts a download for the member the package came from', async () => {
    expect(await nupkg(`${server.url}/f/all`, 'release.only', '1.0.0')).toBeInstanceOf(Buffer);
    const release = (await hub.feed('release'))!;
    await (await server.app.pawketFeedApp(release.scope.id)).pawketSearch.downloads.flush();
    expect(await release.db.listDownloadCounts('release.only')).toEqual([{ lowerId: 'release.only', lowerVersion: '1.0.0', count: 1 }]);
  });

  it('serves its service index (push resources kept, for the 405), vulnerabilities and web pages', async () => {
    const index = (await (await get('/f/all/v3/index.json')).json()) as { resources: { '@id': string; '@type': string }[] };
    const byType = new Map(index.resources.map((r) => [r['@type'], r['@id']]));
    expect(byType.get('PackageBaseAddress/3.0.0')).toBe(`${server.url}/f/all/v3/flatcontainer/`);
    expect(byType.get('PackagePublish/2.0.0')).toBe(`${server.url}/f/all/v3/package`);
    expect((await get('/f/all/v3/vulnerabilities/index.json')).status).toBe(200);
    expect((await get('/f/all/v3/vulnerabilities/base.json')).status).toBe(200);
    const page = await get('/f/all/packages/Shared.Lib');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('release 1.0.0');
    expect((await get('/f/all/packages/Owned.Lib')).status).toBe(404);
    expect((await get('/f/all/feed')).status).toBe(200);
  });

  it('serves a member’s symbols: the symbol server and the .snupkg of the package it serves', async () => {
    expect((await pushRaw(`${server.url}/f/dev`, await corePackage())).status).toBe(201);
    const snupkg = await symbolsPackage();
    const pushed = await fetch(`${server.url}/f/dev/api/v2/symbolpackage`, {
      method: 'PUT',
      body: new Uint8Array(snupkg),
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/octet-stream' },
    });
    expect(pushed.status).toBe(201);
    const found = await get(`/f/all/download/symbols/${expected('anycpu').ssqpKey}`);
    expect(found.status).toBe(200);
    expect(Buffer.from(await found.arrayBuffer()).equals(pdb('anycpu'))).toBe(true);
    const lower = ID.toLowerCase();
    const symbols = await get(`/f/all/api/v2/symbolpackage/${ID}/1.0.0`);
    expect(symbols.status).toBe(200);
    expect(Buffer.from(await symbols.arrayBuffer()).equals(snupkg)).toBe(true);
    expect((await get(`/f/all/v3/flatcontainer/${lower}/1.0.0/${lower}.1.0.0.snupkg`)).status).toBe(200);
    expect((await get(`/f/release/download/symbols/${expected('anycpu').ssqpKey}`)).status).toBe(404);
  });

  it('serves V2 through the same reader', async () => {
    const res = await get(`/f/all/api/v2/FindPackagesById()?id='Shared.Lib'`);
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml.match(/<d:Version>[^<]*<\/d:Version>/g)).toEqual(['<d:Version>1.0.0</d:Version>']);
  });

  it('reads a virtual member (which the feeds commands refuse) as its members in its place', async () => {
    await createFeed('outer', {}, [ids.all!, ids.dev!]);
    expect(await versions('outer', 'shared.lib')).toEqual(['1.0.0']);
    expect(await versions('outer', 'up.only')).toEqual(['1.0.0']);
  });

  it('fails rather than let a later member answer for a member whose upstream is unreachable', async () => {
    await createFeed('down', { upstreams: [{ url: 'http://127.0.0.1:9/v3/index.json', timeoutMs: 500 }] });
    await createFeed('risky', {}, [ids.down!, ids.dev!]);
    expect(await versions('risky', 'dev.only')).toBe(502);
  });
});
