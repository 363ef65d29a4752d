import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idAllowed } from '../../../src/feed/upstream/patterns.js';
import { configSchema } from '../../../src/config/schema.js';
import { loadConfig } from '../../../src/config/load.js';
import { buildNupkg } from '../../support/nupkg.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('upstream settings', () => {
  it('reads PAWKET_UPSTREAMS as a comma list of URLs with defaults', () => {
    const c = loadConfig({ env: { PAWKET_UPSTREAMS: 'https://a.example/v3/index.json, https://b.example/v3/index.json', PAWKET_BLOCK_SHADOWING: 'true' } });
    expect(c.upstreams.map((u) => u.url)).toEqual(['https://a.example/v3/index.json', 'https://b.example/v3/index.json']);
    expect(c.upstreams[0]).toMatchObject({ allow: [], deny: [], timeoutMs: 10_000, metadataTtlSeconds: 600 });
    expect(c.blockShadowing).toBe(true);
    expect(c.upstreamSearch).toBe('local');
  });

  it('rejects a bad upstream with a message naming it', () => {
    expect(() => loadConfig({ env: { PAWKET_UPSTREAMS: 'not a url' } })).toThrow(/upstreams/);
    expect(configSchema.safeParse({ upstreams: [{ url: 'https://a.example/', timeoutMs: 5 }] }).success).toBe(false);
  });

  it('matches id patterns case-insensitively; deny wins', () => {
    expect(idAllowed('Newtonsoft.Json', [], [])).toBe(true);
    expect(idAllowed('Newtonsoft.Json', ['newtonsoft.*'], [])).toBe(true);
    expect(idAllowed('Contoso.Json', ['Newtonsoft.*'], [])).toBe(false);
    expect(idAllowed('Contoso.Internal', [], ['contoso.*'])).toBe(false);
    expect(idAllowed('Newtonsoft.Json', ['*'], ['*.json'])).toBe(false);
    expect(idAllowed('Newtonsoftxjson', ['newtonsoft.json'], [])).toBe(false);
  });
});

// One Pawket (in process) in front of another: merged view, local wins, caching, freshness, shadowing, allow/deny.
describe('read-through from another Pawket', () => {
  let origin: TestServer;
  let proxy: TestServer;
  let guarded: TestServer;

  beforeAll(async () => {
    origin = await startTestServer();
    for (const [id, version] of [
      ['Up.Lib', '1.0.0'],
      ['Up.Lib', '2.0.0'],
      ['Mixed.Lib', '1.0.0'],
      ['Mixed.Lib', '3.0.0'],
      ['Confused.Internal', '99.0.0'],
      ['Denied.Lib', '1.0.0'],
      ['Race.Lib', '1.0.0'],
    ] as const) {
      expect((await pushRaw(origin.url, await buildNupkg({ id, version, description: `origin ${version}` }))).status).toBe(201);
    }
    const url = `${origin.url}/v3/index.json`;
    proxy = await startTestServer({ upstreams: [{ url, timeoutMs: 2_000, metadataTtlSeconds: 1, deny: ['denied.*'] }] });
    guarded = await startTestServer({ upstreams: [{ url, timeoutMs: 2_000, metadataTtlSeconds: 1 }], blockShadowing: true });
    for (const s of [proxy, guarded]) {
      expect((await pushRaw(s.url, await buildNupkg({ id: 'Mixed.Lib', version: '1.0.0', description: 'local 1.0.0' }))).status).toBe(201);
      expect((await pushRaw(s.url, await buildNupkg({ id: 'Confused.Internal', version: '1.0.0' }))).status).toBe(201);
    }
  });
  afterAll(async () => {
    await guarded?.close();
    await proxy?.close();
    await origin?.close();
  });

  const get = (s: TestServer, path: string) => fetch(`${s.url}${path}`);
  const versions = async (s: TestServer, lid: string) => {
    const res = await get(s, `/v3/flatcontainer/${lid}/index.json`);
    return res.status === 200 ? ((await res.json()) as { versions: string[] }).versions : res.status;
  };

  it('serves upstream versions, downloads them byte for byte and keeps them as mirrored rows', async () => {
    expect(await versions(proxy, 'up.lib')).toEqual(['1.0.0', '2.0.0']);
    const fromOrigin = Buffer.from(await (await get(origin, '/v3/flatcontainer/up.lib/2.0.0/up.lib.2.0.0.nupkg')).arrayBuffer());
    const res = await get(proxy, '/v3/flatcontainer/up.lib/2.0.0/up.lib.2.0.0.nupkg');
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(fromOrigin)).toBe(true);
    const row = await proxy.feed.db.getPackage('up.lib', '2.0.0');
    expect(row?.sha512).toBeTruthy();
    expect((await proxy.feed.upstream!.localState('up.lib')).mirrored.has('2.0.0')).toBe(true);
    // the nuspec and the registration leaf come from the stored row now
    expect((await get(proxy, '/v3/flatcontainer/up.lib/2.0.0/up.lib.nuspec')).status).toBe(200);
  });

  it('merges registration: local versions win, upstream ones link to this feed', async () => {
    const res = await get(proxy, '/v3/registration-gz-semver2/mixed.lib/index.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { items: { items: { catalogEntry: { version: string; description: string; packageContent: string } }[] }[] };
    const leaves = doc.items.flatMap((p) => p.items);
    expect(leaves.map((l) => l.catalogEntry.version)).toEqual(['1.0.0', '3.0.0']);
    expect(leaves[0]!.catalogEntry.description).toBe('local 1.0.0');
    expect(leaves[1]!.catalogEntry.description).toBe('origin 3.0.0');
    expect(leaves[1]!.catalogEntry.packageContent.startsWith(proxy.url)).toBe(true);
    expect((await get(proxy, '/v3/registration-gz-semver2/mixed.lib/3.0.0.json')).status).toBe(200);
  });

  it('shows a version pushed upstream once the freshness window has passed (cached documents dropped)', async () => {
    expect(await versions(proxy, 'up.lib')).toEqual(['1.0.0', '2.0.0']);
    expect((await pushRaw(origin.url, await buildNupkg({ id: 'Up.Lib', version: '2.1.0' }))).status).toBe(201);
    await wait(2_000);
    expect(await versions(proxy, 'up.lib')).toEqual(['1.0.0', '2.0.0', '2.1.0']);
  });

  it('never asks an upstream for denied ids', async () => {
    expect(await versions(proxy, 'denied.lib')).toBe(404);
    expect(await versions(guarded, 'denied.lib')).toEqual(['1.0.0']);
  });

  it('blocks shadowing of pushed ids when the switch is on (dependency confusion)', async () => {
    expect(await versions(proxy, 'confused.internal')).toEqual(['1.0.0', '99.0.0']);
    expect(await versions(guarded, 'confused.internal')).toEqual(['1.0.0']);
    expect((await get(guarded, '/v3/flatcontainer/confused.internal/99.0.0/confused.internal.99.0.0.nupkg')).status).toBe(404);
    expect((await get(guarded, '/v3/registration-gz-semver2/confused.internal/99.0.0.json')).status).toBe(404);
    expect(await guarded.feed.db.getPackage('confused.internal', '99.0.0')).toBeNull();
  });

  it('marks mirrored and upstream-only versions in registration, search and the web UI; pushed ones not', async () => {
    const upstream = `${origin.url}/v3/index.json`;
    type Leaf = { catalogEntry: { version: string; mirroredFrom?: string } };
    const index = (await (await get(proxy, '/v3/registration-gz-semver2/up.lib/index.json')).json()) as { items: { items: Leaf[] }[] };
    const marks = Object.fromEntries(index.items.flatMap((p) => p.items).map((l) => [l.catalogEntry.version, l.catalogEntry.mirroredFrom]));
    // 2.0.0 was mirrored by the first test; 1.0.0 and 2.1.0 are still only upstream: all come from the upstream.
    expect(marks).toEqual({ '1.0.0': upstream, '2.0.0': upstream, '2.1.0': upstream });
    expect((await proxy.feed.db.getPackage('up.lib', '2.0.0'))?.mirroredFrom).toBe(upstream);
    const leaf = (await (await get(proxy, '/v3/registration-gz-semver2/up.lib/2.0.0.json')).json()) as { mirroredFrom?: string };
    expect(leaf.mirroredFrom).toBe(upstream);
    const mixed = (await (await get(proxy, '/v3/registration-gz-semver2/mixed.lib/index.json')).json()) as { items: { items: Leaf[] }[] };
    const mixedMarks = mixed.items.flatMap((p) => p.items).map((l) => [l.catalogEntry.version, l.catalogEntry.mirroredFrom ?? 'pushed']);
    expect(mixedMarks).toEqual([['1.0.0', 'pushed'], ['3.0.0', upstream]]);

    const search = (await (await get(proxy, '/v3/search?q=packageid:up.lib')).json()) as {
      data: { id: string; mirroredFrom?: string; versions: { version: string; mirroredFrom?: string }[] }[];
    };
    expect(search.data.map((d) => [d.id, d.mirroredFrom])).toEqual([['Up.Lib', upstream]]);
    expect(search.data[0]!.versions).toMatchObject([{ version: '2.0.0', mirroredFrom: upstream }]);
    const pushed = (await (await get(proxy, '/v3/search?q=packageid:mixed.lib')).json()) as { data: { mirroredFrom?: string }[] };
    expect(pushed.data).toHaveLength(1);
    expect(pushed.data[0]!.mirroredFrom).toBeUndefined();

    const host = new URL(origin.url).host;
    const page = await (await get(proxy, '/packages/Up.Lib/2.0.0')).text();
    expect(page).toContain(`Mirrored from ${host}`);
    expect(page).toMatch(new RegExp(`<td>[^<]*<span class="mirrored" title="${upstream}">mirrored from ${host}</span></td>`));
    expect(await (await get(proxy, '/packages/Mixed.Lib/1.0.0')).text()).not.toMatch(/mirrored from/i);
  });

  it('leaves no mirrored mark on a version pushed while it was being mirrored', async () => {
    const pushedHere = await buildNupkg({ id: 'Race.Lib', version: '1.0.0', description: 'pushed to the proxy' });
    // The push lands between the mirror's download and its row: the row insert loses to it.
    const blobs = proxy.feed.blobs;
    const putFile = blobs.putFile.bind(blobs);
    blobs.putFile = async (key, file) => {
      blobs.putFile = putFile;
      expect((await pushRaw(proxy.url, pushedHere)).status).toBe(201);
      return putFile(key, file);
    };
    const res = await get(proxy, '/v3/flatcontainer/race.lib/1.0.0/race.lib.1.0.0.nupkg');
    expect(blobs.putFile).toBe(putFile);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(pushedHere)).toBe(true);
    expect((await proxy.feed.db.getPackage('race.lib', '1.0.0'))?.mirroredFrom).toBeUndefined();
    expect((await proxy.feed.upstream!.localState('race.lib')).mirrored.size).toBe(0);
    const leaf = (await (await get(proxy, '/v3/registration-gz-semver2/race.lib/index.json')).json()) as {
      items: { items: { catalogEntry: { description: string; mirroredFrom?: string } }[] }[];
    };
    expect(leaf.items[0]!.items[0]!.catalogEntry).not.toHaveProperty('mirroredFrom');
    expect(leaf.items[0]!.items[0]!.catalogEntry.description).toBe('pushed to the proxy');
  });

  it('serves what it cached when the upstream is gone', async () => {
    await origin.close();
    await wait(1_200);
    expect(await versions(proxy, 'up.lib')).toEqual(['1.0.0', '2.0.0', '2.1.0']);
    expect((await get(proxy, '/v3/flatcontainer/up.lib/2.0.0/up.lib.2.0.0.nupkg')).status).toBe(200);
    const missing = await get(proxy, '/v3/flatcontainer/up.lib/1.0.0/up.lib.1.0.0.nupkg');
    expect(missing.status).toBe(502);
  });
});
