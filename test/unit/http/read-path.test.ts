import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNupkg } from '../../support/nupkg.js';
import { sweepOrphanBlobs } from '../../../src/feed/orphans.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';

let server: TestServer;
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });
const json = async (path: string) => (await get(path)).json() as Promise<any>;

beforeAll(async () => {
  server = await startTestServer();
  const pushes = [
    buildNupkg({ id: 'Contoso.Core', version: '1.0.0' }),
    buildNupkg({ id: 'Contoso.Core', version: '1.0.0-beta.10' }),
    buildNupkg({ id: 'Contoso.Core', version: '1.0.0-beta.9' }),
    buildNupkg({ id: 'Contoso.Core', version: '2.0.0+build.7' }),
    buildNupkg({
      id: 'Contoso.App',
      version: '3.1.0',
      dependencies: { 'net8.0': [['Contoso.Core', '1.0']], '.NETStandard2.0': [['Contoso.Core', '[1.0.0-beta.9, 2.0)']] },
    }),
  ];
  for (const p of pushes) expect((await pushRaw(server.url, await p)).status).toBe(201);
});
afterAll(() => server.close());

describe('service index', () => {
  it('advertises every resource type the clients look for', async () => {
    const index = await json('/v3/index.json');
    const types = index.resources.map((r: { '@type': string }) => r['@type']);
    for (const t of ['PackagePublish/2.0.0', 'PackageBaseAddress/3.0.0', 'RegistrationsBaseUrl', 'RegistrationsBaseUrl/3.4.0', 'RegistrationsBaseUrl/3.6.0', 'VulnerabilityInfo/6.7.0']) {
      expect(types).toContain(t);
    }
    const publish = index.resources.find((r: { '@type': string }) => r['@type'] === 'PackagePublish/2.0.0');
    expect(publish['@id']).toBe(`${server.url}/api/v2/package`);
  });
});

describe('flat container', () => {
  it('lists every version in NuGet order, lower-case and normalized (beta.9 before beta.10)', async () => {
    expect(await json('/v3/flatcontainer/contoso.core/index.json')).toEqual({
      versions: ['1.0.0-beta.9', '1.0.0-beta.10', '1.0.0', '2.0.0'],
    });
  });

  it('finds ids case-insensitively', async () => {
    expect((await get('/v3/flatcontainer/CONTOSO.CORE/index.json')).status).toBe(200);
  });

  it('serves the nuspec of a version at {id}.nuspec, as the protocol names it', async () => {
    const res = await get('/v3/flatcontainer/contoso.core/1.0.0-beta.10/contoso.core.nuspec');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<version>1.0.0-beta.10</version>');
    expect((await get('/v3/flatcontainer/contoso.core/1.0.0-beta.10/contoso.core.1.0.0-beta.10.nuspec')).status).toBe(200);
  });

  it('answers 404 for unknown ids, versions and file names', async () => {
    expect((await get('/v3/flatcontainer/contoso.none/index.json')).status).toBe(404);
    expect((await get('/v3/flatcontainer/contoso.core/9.9.9/contoso.core.9.9.9.nupkg')).status).toBe(404);
    expect((await get('/v3/flatcontainer/contoso.core/1.0.0/other.1.0.0.nupkg')).status).toBe(404);
  });

  it('answers 304 to a matching If-None-Match and gzips JSON when asked', async () => {
    const first = await get('/v3/flatcontainer/contoso.core/index.json', { 'accept-encoding': 'gzip' });
    expect(first.headers.get('content-encoding')).toBe('gzip');
    const etag = first.headers.get('etag')!;
    expect(etag).toBeTruthy();
    expect((await get('/v3/flatcontainer/contoso.core/index.json', { 'if-none-match': etag })).status).toBe(304);
    const pkg = await get('/v3/flatcontainer/contoso.core/1.0.0/contoso.core.1.0.0.nupkg');
    expect(pkg.headers.get('cache-control')).toMatch(/immutable/);
    const again = await get('/v3/flatcontainer/contoso.core/1.0.0/contoso.core.1.0.0.nupkg', { 'if-none-match': pkg.headers.get('etag')! });
    expect(again.status).toBe(304);
  });

  it('shows a new push at once (the cached list is dropped)', async () => {
    await json('/v3/flatcontainer/contoso.core/index.json');
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Core', version: '1.5.0' }))).status).toBe(201);
    expect((await json('/v3/flatcontainer/contoso.core/index.json')).versions).toContain('1.5.0');
  });
});

describe('the restore fast path', () => {
  const answer = async (path: string, headers: Record<string, string> = {}) => {
    const res = await get(path, headers);
    const keep = ['content-type', 'content-encoding', 'etag', 'cache-control', 'vary', 'content-length', 'content-disposition'];
    return { status: res.status, headers: keep.map((h) => res.headers.get(h)), body: Buffer.from(await res.arrayBuffer()) };
  };

  it('answers cached documents and package files exactly as the routes do', async () => {
    for (const [path, headers] of [
      ['/v3/registration-gz-semver2/contoso.app/index.json', { 'accept-encoding': 'gzip' }],
      ['/v3/registration/contoso.core/index.json', {}],
      ['/v3/flatcontainer/contoso.app/index.json', {}],
      ['/v3/flatcontainer/contoso.app/3.1.0/contoso.app.3.1.0.nupkg', {}],
    ] as const) {
      const first = await answer(path, headers); // renders (or looks up) through the routes
      const second = await answer(path, headers); // served from the cache by the fast path
      const third = await answer(path, headers); // package files: from memory, without waiting on storage
      expect(second).toEqual(first);
      expect(third).toEqual(first);
      expect(first.status).toBe(200);
      const revalidated = await get(path, { ...headers, 'if-none-match': first.headers[2]! });
      expect(revalidated.status).toBe(304);
    }
  });

  it('serves the new file of a version pushed over, although the old one is in memory', async () => {
    const overwriting = await startTestServer({ allowOverwrite: true });
    try {
      const url = `${overwriting.url}/v3/flatcontainer/contoso.redo/1.0.0/contoso.redo.1.0.0.nupkg`;
      const push = async (description: string) =>
        expect((await pushRaw(overwriting.url, await buildNupkg({ id: 'Contoso.Redo', version: '1.0.0', description }))).status).toBe(201);
      await push('first build');
      const old = Buffer.from(await (await fetch(url)).arrayBuffer());
      expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(old)).toBe(true);
      await push('second build');
      const res = await fetch(url);
      const fresh = Buffer.from(await res.arrayBuffer());
      const row = await overwriting.feed.db.getPackage('contoso.redo', '1.0.0');
      expect(fresh.equals(old)).toBe(false);
      expect(createHash('sha512').update(fresh).digest('base64')).toBe(row!.sha512);
      expect(res.headers.get('etag')).toBe(`"${row!.sha512}"`);
    } finally {
      await overwriting.close();
    }
  });
});

describe('downloads', () => {
  it('serve the same package many times over without holding storage handles or connections', { timeout: 20_000 }, async () => {
    const url = '/v3/flatcontainer/contoso.core/1.0.0/contoso.core.1.0.0.nupkg';
    const first = Buffer.from(await (await get(url)).arrayBuffer());
    // A handle leaked per download stalls the loop once the object store's connection pool (50) is used up, and the
    // test runs out of time.
    for (let i = 0; i < 300; i++) {
      const res = await get(url);
      expect(Buffer.from(await res.arrayBuffer()).equals(first)).toBe(true);
    }
  });
});

describe('registration', () => {
  const versionsIn = (index: any): string[] => index.items.flatMap((p: any) => p.items.map((l: any) => l.catalogEntry.version));

  it('hides SemVer 2.0.0 versions from the plain hives and shows them in the SemVer 2 hive', async () => {
    expect(versionsIn(await json('/v3/registration/contoso.core/index.json'))).not.toContain('2.0.0+build.7');
    expect(versionsIn(await json('/v3/registration-gz/contoso.core/index.json'))).not.toContain('1.0.0-beta.10');
    expect(versionsIn(await json('/v3/registration-gz-semver2/contoso.core/index.json'))).toEqual(
      expect.arrayContaining(['1.0.0-beta.9', '1.0.0-beta.10', '2.0.0+build.7']),
    );
  });

  it('renders dependency groups with normalized ranges and framework names', async () => {
    const index = await json('/v3/registration-gz-semver2/contoso.app/index.json');
    const entry = index.items[0].items[0].catalogEntry;
    expect(entry.id).toBe('Contoso.App');
    const groups = Object.fromEntries(entry.dependencyGroups.map((g: any) => [g.targetFramework, g.dependencies[0].range]));
    expect(groups).toEqual({ 'net8.0': '[1.0.0, )', 'netstandard2.0': '[1.0.0-beta.9, 2.0.0)' });
    expect(entry.packageContent).toBe(`${server.url}/v3/flatcontainer/contoso.app/3.1.0/contoso.app.3.1.0.nupkg`);
  });

  it('answers 404 for an id with only SemVer 2.0.0 versions in a plain hive', async () => {
    await pushRaw(server.url, await buildNupkg({ id: 'Contoso.OnlyNew', version: '1.0.0-alpha.1' }));
    expect((await get('/v3/registration/contoso.onlynew/index.json')).status).toBe(404);
    expect((await get('/v3/registration-gz-semver2/contoso.onlynew/index.json')).status).toBe(200);
  });

  it('links pages instead of inlining them for ids with more than 128 versions', async () => {
    for (let i = 0; i < 130; i++) {
      expect((await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Many', version: `1.0.${i}` }))).status).toBe(201);
    }
    const index = await json('/v3/registration/contoso.many/index.json');
    expect(index.count).toBe(3);
    expect(index.items[0].items).toBeUndefined();
    const page = await json(new URL(index.items[2]['@id']).pathname);
    expect(page.items.map((l: any) => l.catalogEntry.version)).toEqual(['1.0.128', '1.0.129']);
    expect(index.items[0].lower).toBe('1.0.0');
    expect(index.items[0].upper).toBe('1.0.63');
  });
});

describe('orphaned files', () => {
  it('are never served and are swept once old enough', async () => {
    const tmp = join(server.dataDir, 'orphan.tmp');
    await writeFile(tmp, 'left by a crash');
    const key = 'packages/contoso.orphan/1.0.0/deadbeefdeadbeef.nupkg';
    await server.feed.blobs.putFile(key, tmp);
    expect((await get('/v3/flatcontainer/contoso.orphan/index.json')).status).toBe(404);
    // Too young: could be a push in flight on another node.
    expect(await server.feed.sweepOrphans()).toEqual([]);
    expect(await sweepOrphanBlobs(server.feed.db, server.feed.blobs, 10 * 60_000, Date.now() + 3600_000)).toEqual([key]);
    const left: string[] = [];
    for await (const blob of server.feed.blobs.list()) left.push(blob.key);
    expect(left).not.toContain(key);
    expect(left.length).toBeGreaterThan(0);
  });
});
