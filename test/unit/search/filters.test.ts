/**
 * What search and autocomplete let through: prerelease and SemVer 2.0.0 opt-ins, package types, unlisted versions;
 * that the index follows pushes, unlists, relists, deletes and overwrites at once; and download counting.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedEvents } from '../../../src/feed/events.js';
import { MemorySearchIndex } from '../../../src/feed/search/memory-index.js';
import { TEST_KEY, pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

interface Result {
  id: string;
  version: string;
  description: string;
  totalDownloads: number;
  packageTypes: { name: string }[];
  versions: { version: string; downloads: number; '@id': string }[];
  registration: string;
  '@id': string;
}

function client(server: () => TestServer) {
  const get = async (path: string) => {
    const res = await fetch(`${server().url}${path}`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return JSON.parse(text) as { totalHits: number; data: any[] };
  };
  return {
    async search(params: string): Promise<{ totalHits: number; data: Result[]; ids: string[] }> {
      const body = await get(`/v3/search?${params}`);
      return { ...body, ids: body.data.map((d: Result) => d.id) };
    },
    async one(params: string): Promise<Result | undefined> {
      return (await get(`/v3/search?${params}`)).data[0];
    },
    async autocomplete(params: string): Promise<{ totalHits: number; data: string[] }> {
      return get(`/v3/autocomplete?${params}`);
    },
    async push(id: string, version: string, extraMetadata = '', description?: string) {
      const res = await pushRaw(server().url, await buildNupkg({ id, version, extraMetadata, description }));
      expect(res.status, await res.text()).toBe(201);
    },
    async manage(method: 'DELETE' | 'POST', id: string, version: string) {
      const res = await fetch(`${server().url}/api/v2/package/${id}/${version}`, { method, headers: { 'x-nuget-apikey': TEST_KEY } });
      expect(res.status, await res.text()).toBe(200);
    },
    async download(id: string, version: string) {
      const lid = id.toLowerCase();
      const res = await fetch(`${server().url}/v3/flatcontainer/${lid}/${version}/${lid}.${version}.nupkg`);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    },
  };
}

const tool = '<packageTypes><packageType name="DotnetTool" /></packageTypes>';
const template = '<packageTypes><packageType name="Template" /></packageTypes>';

describe('filters', () => {
  let server: TestServer;
  const c = client(() => server);

  beforeAll(async () => {
    server = await startTestServer();
    await c.push('Filter.Stable', '1.0.0');
    await c.push('Filter.Stable', '2.0.0-beta');
    await c.push('Filter.PreOnly', '0.1.0-alpha');
    await c.push('Filter.SemVer2Only', '1.0.0-beta.1');
    await c.push('Filter.Mixed', '1.0.0');
    await c.push('Filter.Mixed', '1.1.0+build.7');
    await c.push('Filter.Mixed', '1.2.0-rc.1');
    await c.push('Filter.Tool', '1.0.0', tool);
    await c.push('Filter.Template', '1.0.0', template);
    await c.push('Filter.Unlisted', '1.0.0');
    await c.push('Filter.Unlisted', '1.1.0');
  });
  afterAll(() => server.close());

  it('prerelease off: prerelease-only ids are hidden and the latest stable version is shown', async () => {
    const { ids } = await c.search('q=filter&take=100');
    expect(ids).not.toContain('Filter.PreOnly');
    const stable = await c.one('q=packageid:Filter.Stable');
    expect(stable?.version).toBe('1.0.0');
    expect(stable?.versions.map((v) => v.version)).toEqual(['1.0.0']);
  });

  it('prerelease on: prerelease versions show, and are the latest when they are newest', async () => {
    expect((await c.search('q=filter&prerelease=true&take=100')).ids).toContain('Filter.PreOnly');
    const stable = await c.one('q=packageid:Filter.Stable&prerelease=true');
    expect(stable?.version).toBe('2.0.0-beta');
    expect(stable?.versions.map((v) => v.version)).toEqual(['1.0.0', '2.0.0-beta']);
  });

  it('semVerLevel absent (or below 2.0.0) hides SemVer 2.0.0 versions; 2.0.0 shows them', async () => {
    for (const level of ['', '&semVerLevel=1.0.0']) {
      const { ids } = await c.search(`q=filter&prerelease=true&take=100${level}`);
      expect(ids).not.toContain('Filter.SemVer2Only');
      const mixed = await c.one(`q=packageid:Filter.Mixed&prerelease=true${level}`);
      expect(mixed?.version).toBe('1.0.0');
      expect(mixed?.versions.map((v) => v.version)).toEqual(['1.0.0']);
      expect(mixed?.registration).toContain('/v3/registration/filter.mixed/index.json');
    }
    const { ids } = await c.search('q=filter&prerelease=true&semVerLevel=2.0.0&take=100');
    expect(ids).toContain('Filter.SemVer2Only');
    const stableOnly = await c.one('q=packageid:Filter.Mixed&semVerLevel=2.0.0');
    expect(stableOnly?.version).toBe('1.1.0+build.7');
    const mixed = await c.one('q=packageid:Filter.Mixed&prerelease=true&semVerLevel=2.0.0');
    expect(mixed?.version).toBe('1.2.0-rc.1');
    expect(mixed?.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0+build.7', '1.2.0-rc.1']);
    // links go to the hive that shows SemVer 2.0.0 versions
    expect(mixed?.registration).toContain('/v3/registration-gz-semver2/filter.mixed/index.json');
    expect(mixed?.versions[2]!['@id']).toContain('/v3/registration-gz-semver2/filter.mixed/1.2.0-rc.1.json');
  });

  it('packageType selects by declared type; undeclared means Dependency; an invalid name finds nothing', async () => {
    expect((await c.search('q=filter&packageType=DotnetTool')).ids).toEqual(['Filter.Tool']);
    expect((await c.search('q=&packageType=dotnettool')).ids).toEqual(['Filter.Tool']);
    expect((await c.search('q=filter&packageType=Template')).ids).toEqual(['Filter.Template']);
    expect((await c.search('q=filter&packageTypeFilter=Template')).ids).toEqual(['Filter.Template']);
    const deps = await c.search('q=filter&packageType=Dependency&take=100');
    expect(deps.ids).toContain('Filter.Stable');
    expect(deps.ids).not.toContain('Filter.Tool');
    expect(deps.data.find((d) => d.id === 'Filter.Stable')?.packageTypes).toEqual([{ name: 'Dependency' }]);
    expect((await c.search('q=filter&packageType=a..b')).totalHits).toBe(0);
    expect((await c.search('q=filter&packageType=&take=100')).ids).toContain('Filter.Tool');
    expect((await c.autocomplete('q=filter&packageType=DotnetTool')).data).toEqual(['Filter.Tool']);
  });

  it('unlisted versions never appear; an id with none listed disappears; relisting brings it back', async () => {
    await c.manage('DELETE', 'Filter.Unlisted', '1.1.0');
    let found = await c.one('q=packageid:Filter.Unlisted');
    expect(found?.version).toBe('1.0.0');
    expect(found?.versions.map((v) => v.version)).toEqual(['1.0.0']);
    expect((await c.autocomplete('id=Filter.Unlisted')).data).toEqual(['1.0.0']);

    await c.manage('DELETE', 'Filter.Unlisted', '1.0.0');
    expect((await c.search('q=Filter.Unlisted')).ids).not.toContain('Filter.Unlisted');
    expect((await c.autocomplete('q=filter.unl')).data).toEqual([]);
    expect((await c.autocomplete('id=Filter.Unlisted')).data).toEqual([]);

    await c.manage('POST', 'Filter.Unlisted', '1.1.0');
    found = await c.one('q=packageid:Filter.Unlisted');
    expect(found?.version).toBe('1.1.0');
    expect((await c.autocomplete('q=filter.unl')).data).toEqual(['Filter.Unlisted']);
  });

  it('a push shows in the next search', async () => {
    expect((await c.search('q=Filter.Fresh')).ids).not.toContain('Filter.Fresh');
    await c.push('Filter.Fresh', '1.0.0', '<tags>brandnew</tags>');
    expect((await c.search('q=brandnew')).ids).toEqual(['Filter.Fresh']);
    await c.push('Filter.Fresh', '1.1.0', '', 'Now with a different description');
    const fresh = await c.one('q=packageid:Filter.Fresh');
    expect(fresh?.version).toBe('1.1.0');
    expect(fresh?.description).toBe('Now with a different description');
    // search looks at the latest version's metadata only (as nuget.org does)
    expect((await c.search('q=brandnew')).totalHits).toBe(0);
  });

  it('autocomplete id= lists the versions each filter allows, as full strings, ascending', async () => {
    expect((await c.autocomplete('id=filter.mixed')).data).toEqual(['1.0.0']);
    expect((await c.autocomplete('id=FILTER.MIXED&prerelease=true&semVerLevel=2.0.0')).data).toEqual(['1.0.0', '1.1.0+build.7', '1.2.0-rc.1']);
    expect((await c.autocomplete('id=Filter.Stable&prerelease=true')).data).toEqual(['1.0.0', '2.0.0-beta']);
    expect((await c.autocomplete('id=No.Such.Id')).data).toEqual([]);
  });

  it('autocomplete q= honours the filters and pages', async () => {
    expect((await c.autocomplete('q=filter.pre')).data).toEqual([]);
    expect((await c.autocomplete('q=filter.pre&prerelease=true')).data).toEqual(['Filter.PreOnly']);
    const all = await c.autocomplete('q=filter&prerelease=true&semVerLevel=2.0.0&take=100');
    const page = await c.autocomplete('q=filter&prerelease=true&semVerLevel=2.0.0&skip=2&take=3');
    expect(page.data).toEqual(all.data.slice(2, 5));
    expect(page.totalHits).toBe(all.totalHits);
  });

  it('take is bounded, bad numbers are a 400 that says why, take=0 counts only', async () => {
    const res = await fetch(`${server.url}/v3/search?q=filter&take=ten`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/take parameter must be a whole number/);
    expect((await fetch(`${server.url}/v3/search?skip=-1`)).status).toBe(400);
    const none = await c.search('q=filter&take=0');
    expect(none.data).toEqual([]);
    expect(none.totalHits).toBeGreaterThan(0);
    expect((await c.search('q=&take=100000')).data.length).toBeLessThanOrEqual(1000);
  });

  it('is advertised in the service index under every version string clients look for', async () => {
    const index = (await (await fetch(`${server.url}/v3/index.json`)).json()) as { resources: { '@id': string; '@type': string }[] };
    const find = (type: string) => index.resources.find((r) => r['@type'] === type)?.['@id'];
    for (const v of ['', '/3.0.0-beta', '/3.0.0-rc', '/3.5.0']) {
      expect(find(`SearchQueryService${v}`)).toBe(`${server.url}/v3/search`);
      expect(find(`SearchAutocompleteService${v}`)).toBe(`${server.url}/v3/autocomplete`);
    }
  });

  it('loads the same index from the database at start-up (paged by id, on every backend)', async () => {
    const request = { query: '', skip: 0, take: 1000, prerelease: true, semVer2: true, packageType: null };
    const live = await server.app.pawketSearch.index.search(request);
    // A small page size puts page boundaries inside ids.
    const loaded = new MemorySearchIndex(server.feed.db, new FeedEvents(), { loadPageSize: 3 });
    try {
      expect(await loaded.search(request)).toEqual(live);
      expect(await loaded.autocompleteVersions('filter.mixed', request)).toEqual(['1.0.0', '1.1.0+build.7', '1.2.0-rc.1']);
    } finally {
      await loaded.close();
    }
  });

  it('answers HEAD and gzips large answers for clients that accept it', async () => {
    expect((await fetch(`${server.url}/v3/search?q=filter`, { method: 'HEAD' })).status).toBe(200);
    const res = await fetch(`${server.url}/v3/search?q=&take=100`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(((await res.json()) as { totalHits: number }).totalHits).toBeGreaterThan(5);
  });
});

describe('download counts', () => {
  let server: TestServer;
  const c = client(() => server);

  beforeAll(async () => {
    server = await startTestServer();
    await c.push('Counted.Lib', '1.0.0');
    await c.push('Counted.Lib', '2.0.0');
    await c.push('Counted.Other', '1.0.0');
  });
  afterAll(() => server.close());

  it('are counted per version in memory and show after a flush', async () => {
    for (let i = 0; i < 3; i++) await c.download('Counted.Lib', '1.0.0');
    await c.download('Counted.Lib', '2.0.0');
    // a 304 and a HEAD are not downloads
    const etag = (await fetch(`${server.url}/v3/flatcontainer/counted.lib/2.0.0/counted.lib.2.0.0.nupkg`, { method: 'HEAD' })).headers.get('etag')!;
    await fetch(`${server.url}/v3/flatcontainer/counted.lib/2.0.0/counted.lib.2.0.0.nupkg`, { headers: { 'if-none-match': etag } });

    expect((await c.one('q=packageid:Counted.Lib'))?.totalDownloads).toBe(0);
    await server.app.pawketSearch.downloads.flush();
    const lib = await c.one('q=packageid:Counted.Lib');
    expect(lib?.totalDownloads).toBe(4);
    expect(lib?.versions).toEqual([
      expect.objectContaining({ version: '1.0.0', downloads: 3 }),
      expect.objectContaining({ version: '2.0.0', downloads: 1 }),
    ]);
    expect(await server.feed.db.listDownloadCounts('counted.lib')).toEqual(
      expect.arrayContaining([
        { lowerId: 'counted.lib', lowerVersion: '1.0.0', count: 3 },
        { lowerId: 'counted.lib', lowerVersion: '2.0.0', count: 1 },
      ]),
    );
  });

  it('add up over flushes and rank the most downloaded first', async () => {
    for (let i = 0; i < 6; i++) await c.download('Counted.Other', '1.0.0');
    await server.app.pawketSearch.downloads.flush();
    expect((await c.search('q=counted')).ids).toEqual(['Counted.Other', 'Counted.Lib']);
    expect((await c.search('q=')).ids).toEqual(['Counted.Other', 'Counted.Lib']);
    for (let i = 0; i < 2; i++) await c.download('Counted.Lib', '2.0.0');
    await server.app.pawketSearch.downloads.flush();
    expect((await c.one('q=packageid:Counted.Lib'))?.totalDownloads).toBe(6);
  });

  it('are written in one go however many versions a flush carries, duplicates added up', async () => {
    const batch = Array.from({ length: 20_000 }, (_, i) => ({ lowerId: `bulk.${i % 7_000}`, lowerVersion: "1.0.0-it's", count: 1 }));
    await server.feed.db.addDownloadCounts(batch);
    await server.feed.db.addDownloadCounts(batch.slice(0, 3));
    const totals = await server.feed.db.listDownloadCounts();
    const bulk = totals.filter((t) => t.lowerId.startsWith('bulk.'));
    expect(bulk).toHaveLength(7_000);
    expect(bulk.reduce((n, t) => n + t.count, 0)).toBe(20_003);
    expect(bulk.find((t) => t.lowerId === 'bulk.0')).toEqual({ lowerId: 'bulk.0', lowerVersion: "1.0.0-it's", count: 4 });
  });

  it('survive a refresh of the id (they are read back from the database)', async () => {
    await c.push('Counted.Lib', '3.0.0');
    const lib = await c.one('q=packageid:Counted.Lib');
    expect(lib?.version).toBe('3.0.0');
    expect(lib?.totalDownloads).toBe(6);
  });

  it('are written when the server closes', async () => {
    // On its own connection, without keep-alive: an idle keep-alive connection that was still busy when close()
    // began would hold the close until the keep-alive timeout.
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${server.url}/v3/flatcontainer/counted.other/1.0.0/counted.other.1.0.0.nupkg`, { agent: false }, (res) => {
          expect(res.statusCode).toBe(200);
          res.resume().on('end', resolve).on('error', reject);
        })
        .on('error', reject);
    });
    expect(server.app.pawketSearch.downloads.pendingVersions).toBe(1);
    await server.app.close();
    expect(await server.feed.db.listDownloadCounts('counted.other')).toEqual([{ lowerId: 'counted.other', lowerVersion: '1.0.0', count: 7 }]);
  });
});

describe('deletes and overwrites', () => {
  let server: TestServer;
  const c = client(() => server);

  beforeAll(async () => {
    server = await startTestServer({ deleteMode: 'delete', allowOverwrite: true });
  });
  afterAll(() => server.close());

  it('a deleted version is gone from search; deleting the last version removes the id', async () => {
    await c.push('Gone.Soon', '1.0.0');
    await c.push('Gone.Soon', '2.0.0');
    await c.manage('DELETE', 'Gone.Soon', '2.0.0');
    expect((await c.one('q=packageid:Gone.Soon'))?.versions.map((v) => v.version)).toEqual(['1.0.0']);
    await c.manage('DELETE', 'Gone.Soon', '1.0.0');
    expect((await c.search('q=gone')).totalHits).toBe(0);
    expect((await c.autocomplete('q=gone')).data).toEqual([]);
    expect((await c.autocomplete('id=Gone.Soon')).data).toEqual([]);
  });

  it('an overwritten version shows its new metadata', async () => {
    await c.push('Over.Written', '1.0.0', '<tags>alpha</tags>');
    expect((await c.search('q=alpha')).ids).toEqual(['Over.Written']);
    await c.push('Over.Written', '1.0.0', '<tags>omega</tags>');
    expect((await c.search('q=alpha')).totalHits).toBe(0);
    expect((await c.search('q=omega')).ids).toEqual(['Over.Written']);
  });
});
