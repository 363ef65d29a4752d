/**
 * Promotion between feeds and feed quotas, on loopback servers (both backends): the target serves the exact bytes, a
 * set is promoted all or none, symbols come along, and quotas refuse pushes and promotions with the quota named,
 * leaving nothing stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Feed } from '../../../src/feed/feed.js';
import { operatorPrincipal } from '../../../src/feed/auth.js';
import { importPackages } from '../../../src/feed/import.js';
import { buildNupkg } from '../../support/nupkg.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { FaultUpstream } from '../upstream/fault-upstream.js';
import { corePackage, expected, ID, symbolsPackage } from '../symbols/fixtures.js';

let server: TestServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
});

/** A server with the default feed and these feeds (created as `pawket feeds create` would). */
async function serverWithFeeds(feeds: Record<string, Record<string, unknown>>, settings: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(settings);
  for (const [name, feedSettings] of Object.entries(feeds)) {
    await s.feed.hub.feedDb.createFeed({ name, description: '', settings: feedSettings, members: null, created: new Date().toISOString() });
  }
  await s.feed.hub.reloadDefinitions();
  return s;
}

const feedUrl = (s: TestServer, feed: string) => (feed === 'default' ? s.url : `${s.url}/f/${feed}`);

async function feedOf(s: TestServer, name: string): Promise<Feed> {
  const feed = await s.feed.hub.feed(name);
  if (!feed) throw new Error(`no feed ${name}`);
  return feed;
}

async function push(s: TestServer, feed: string, body: Buffer): Promise<Response> {
  return pushRaw(feedUrl(s, feed), body);
}

async function pushed(s: TestServer, feed: string, id: string, version: string): Promise<Buffer> {
  const pkg = await buildNupkg({ id, version, description: `${id} ${version} in ${feed}` });
  const res = await push(s, feed, pkg);
  expect(res.status, await res.text()).toBe(201);
  return pkg;
}

function promote(s: TestServer, body: unknown, key: string | null = TEST_KEY): Promise<Response> {
  return fetch(`${s.url}/api/admin/promotions`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(key ? { 'x-nuget-apikey': key } : {}) },
  });
}

/** The .nupkg a feed serves, or null on 404. */
async function download(s: TestServer, feed: string, id: string, version: string): Promise<Buffer | null> {
  const lower = id.toLowerCase();
  const res = await fetch(`${feedUrl(s, feed)}/v3/flatcontainer/${lower}/${version}/${lower}.${version}.nupkg`);
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  return bytes;
}

async function versions(s: TestServer, feed: string, id: string): Promise<string[]> {
  const res = await fetch(`${feedUrl(s, feed)}/v3/flatcontainer/${id.toLowerCase()}/index.json`);
  if (res.status === 404) return [];
  return ((await res.json()) as { versions: string[] }).versions;
}

const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('base64');

/** Blob keys under a feed's prefix. */
async function filesOf(s: TestServer, feed: string): Promise<string[]> {
  const prefix = (await feedOf(s, feed)).scope.blobPrefix;
  const keys: string[] = [];
  for await (const blob of s.feed.blobs.list()) if (prefix === '' ? !blob.key.startsWith('feeds/') : blob.key.startsWith(prefix)) keys.push(blob.key);
  return keys.sort();
}

describe('promotion', () => {
  it('copies a version into the target feed byte for byte, keeps it in the source, and audits it in both', async () => {
    server = await serverWithFeeds({ dev: {}, release: {} });
    const pkg = await pushed(server, 'dev', 'Contoso.Core', '1.2.0');
    expect(await download(server, 'release', 'Contoso.Core', '1.2.0')).toBeNull();

    const res = await promote(server, { from: 'dev', to: 'release', packages: [{ id: 'Contoso.Core', version: '1.2.0' }] });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      from: 'dev',
      to: 'release',
      moved: false,
      packages: [{ id: 'Contoso.Core', version: '1.2.0', size: pkg.length, sha512: sha512(pkg), symbols: false }],
    });

    const served = await download(server, 'release', 'Contoso.Core', '1.2.0');
    expect(served && sha512(served)).toBe(sha512(pkg));
    expect(served!.equals(pkg)).toBe(true);
    expect((await download(server, 'dev', 'Contoso.Core', '1.2.0'))!.equals(pkg)).toBe(true);
    // The target's own documents: its registration names the same hash, its search finds it.
    const leaf = await (await fetch(`${feedUrl(server, 'release')}/v3/registration/contoso.core/index.json`)).json();
    expect(JSON.stringify(leaf)).toContain('/f/release/v3/flatcontainer/contoso.core/1.2.0/contoso.core.1.2.0.nupkg');
    await expect.poll(async () => (await (await fetch(`${feedUrl(server!, 'release')}/v3/search?q=Contoso.Core`)).json()).totalHits).toBe(1);
    // The files are the target's own (its key prefix).
    expect(await filesOf(server, 'release')).toEqual([expect.stringMatching(/^feeds\/\d+\/packages\/contoso\.core\/1\.2\.0\/[0-9a-f]{16}\.nupkg$/)]);

    const release = await feedOf(server, 'release');
    const dev = await feedOf(server, 'dev');
    for (const feed of [release, dev]) {
      const entries = (await feed.audit.list({ limit: 100, action: 'promote' })).filter((e) => e.feedId === feed.scope.id);
      expect(entries.map((e) => [e.target, e.detail]), feed.scope.name).toEqual([['Contoso.Core 1.2.0', 'from dev to release']]);
    }
    // The id is registered in the target with the source's owners.
    expect(await release.ownership.owners('Contoso.Core')).toEqual(await dev.ownership.owners('Contoso.Core'));
    expect(await release.ownership.owners('Contoso.Core')).toEqual(['admin']);
  });

  it('publishes the version in the target at the promotion time, with its deprecation', async () => {
    server = await serverWithFeeds({ dev: {}, release: {} });
    await pushed(server, 'dev', 'Contoso.Old', '1.0.0');
    const dev = await feedOf(server, 'dev');
    await dev.advisories.deprecate(operatorPrincipal('test'), 'Contoso.Old', ['1.0.0'], { reasons: ['Legacy'], message: 'use Contoso.New' });
    const before = (await dev.db.getPackage('contoso.old', '1.0.0'))!.published;
    await new Promise((r) => setTimeout(r, 20));
    expect((await promote(server, { from: 'dev', to: 'release', packages: [{ id: 'Contoso.Old', version: '1.0.0' }] })).status).toBe(201);
    const release = await feedOf(server, 'release');
    const promoted = (await release.db.getPackage('contoso.old', '1.0.0'))!;
    expect(promoted.published > before).toBe(true);
    const registration = JSON.stringify(await (await fetch(`${feedUrl(server, 'release')}/v3/registration/contoso.old/index.json`)).json());
    expect(registration).toContain('use Contoso.New');
  });

  it('with move, removes the versions from the source afterwards', async () => {
    server = await serverWithFeeds({ dev: {}, release: {} });
    const a = await pushed(server, 'dev', 'Contoso.Move', '1.0.0');
    await pushed(server, 'dev', 'Contoso.Move', '2.0.0');
    const res = await promote(server, { from: 'dev', to: 'release', packages: [{ id: 'Contoso.Move', version: '1.0.0' }], move: true });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { moved: boolean }).moved).toBe(true);
    expect((await download(server, 'release', 'Contoso.Move', '1.0.0'))!.equals(a)).toBe(true);
    expect(await download(server, 'dev', 'Contoso.Move', '1.0.0')).toBeNull();
    expect(await versions(server, 'dev', 'Contoso.Move')).toEqual(['2.0.0']);
    // Its file in the source went with it.
    expect((await filesOf(server, 'dev')).filter((k) => k.includes('/1.0.0/'))).toEqual([]);
    const dev = await feedOf(server, 'dev');
    const entries = (await dev.audit.list({ limit: 100 })).filter((e) => e.feedId === dev.scope.id && e.target === 'Contoso.Move 1.0.0');
    expect(entries.map((e) => [e.action, e.detail])).toEqual([
      ['promote', 'from dev to release, moved (deleted here)'],
      ['delete', null],
      ['push', null],
    ]);
  });

  it('promotes a set all or none: one version already in the target refuses the whole set with 409, leaving nothing', async () => {
    server = await serverWithFeeds({ dev: {}, release: {} });
    await pushed(server, 'dev', 'Contoso.A', '1.0.0');
    await pushed(server, 'dev', 'Contoso.B', '1.0.0');
    await pushed(server, 'dev', 'Contoso.C', '1.0.0');
    const theirs = await pushed(server, 'release', 'Contoso.B', '1.0.0');
    const filesBefore = await filesOf(server, 'release');

    const set = ['Contoso.A', 'Contoso.B', 'Contoso.C'].map((id) => ({ id, version: '1.0.0' }));
    const res = await promote(server, { from: 'dev', to: 'release', packages: set });
    const text = await res.text();
    expect(res.status, text).toBe(409);
    expect(res.statusText).toMatch(/Contoso\.B 1\.0\.0 is already in feed 'release'/);
    expect(text).toMatch(/nothing was promoted/);
    expect(await download(server, 'release', 'Contoso.A', '1.0.0')).toBeNull();
    expect(await download(server, 'release', 'Contoso.C', '1.0.0')).toBeNull();
    expect((await download(server, 'release', 'Contoso.B', '1.0.0'))!.equals(theirs)).toBe(true);
    expect(await filesOf(server, 'release')).toEqual(filesBefore);
  });

  it('rolls the whole set back when the target gains a version between the checks and the commit, removing the copied files', async () => {
    server = await serverWithFeeds({ dev: {}, release: {} });
    const mine = await pushed(server, 'dev', 'Contoso.Race', '1.0.0');
    await pushed(server, 'dev', 'Contoso.Other', '1.0.0');
    const release = await feedOf(server, 'release');
    // The same bytes, pushed into the target "while" the promotion copies files: its file shares the promotion's key.
    expect((await push(server, 'release', mine)).status).toBe(201);
    const filesBefore = await filesOf(server, 'release');
    const getPackage = release.db.getPackage.bind(release.db);
    vi.spyOn(release.db, 'getPackage').mockImplementation(async () => null);

    const res = await promote(server, {
      from: 'dev',
      to: 'release',
      packages: [{ id: 'Contoso.Other', version: '1.0.0' }, { id: 'Contoso.Race', version: '1.0.0' }],
    });
    expect(res.status).toBe(409);
    expect(res.statusText).toMatch(/Contoso\.Race 1\.0\.0 was added to feed 'release' meanwhile: nothing was promoted/);
    vi.mocked(release.db.getPackage).mockImplementation(getPackage);
    expect(await release.db.getPackage('contoso.other', '1.0.0')).toBeNull();
    expect(await download(server, 'release', 'Contoso.Other', '1.0.0')).toBeNull();
    // The copied file of Contoso.Other is gone; the one the target's own row references stays and is served.
    expect(await filesOf(server, 'release')).toEqual(filesBefore);
    expect((await download(server, 'release', 'Contoso.Race', '1.0.0'))!.equals(mine)).toBe(true);
  });

  it('lets exactly one of two concurrent promotions of a version win', async () => {
    server = await serverWithFeeds({ dev: {}, release: {} });
    const pkg = await pushed(server, 'dev', 'Contoso.Twice', '1.0.0');
    const body = { from: 'dev', to: 'release', packages: [{ id: 'Contoso.Twice', version: '1.0.0' }] };
    const answers = await Promise.all([promote(server, body), promote(server, body), promote(server, body)]);
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect((await download(server, 'release', 'Contoso.Twice', '1.0.0'))!.equals(pkg)).toBe(true);
    expect(await filesOf(server, 'release')).toHaveLength(1);
  });

  it('brings the symbols package and PDBs along: the target\'s symbol server finds the PDB', async () => {
    server = await serverWithFeeds({ dev: {}, release: {} });
    expect((await push(server, 'dev', await corePackage())).status).toBe(201);
    const snupkg = await symbolsPackage();
    const symbolsPush = await fetch(`${feedUrl(server, 'dev')}/api/v2/symbolpackage`, {
      method: 'PUT',
      body: new Uint8Array(snupkg),
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/octet-stream' },
    });
    expect(symbolsPush.status).toBe(201);
    const pdbUrl = (feed: string) => `${feedUrl(server!, feed)}/download/symbols/${expected('anycpu').ssqpKey}`;
    expect((await fetch(pdbUrl('release'))).status).toBe(404);
    const sourcePdb = Buffer.from(await (await fetch(pdbUrl('dev'))).arrayBuffer());

    const res = await promote(server, { from: 'dev', to: 'release', packages: [{ id: ID, version: '1.0.0' }] });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { packages: Array<{ symbols: boolean }> }).packages[0]!.symbols).toBe(true);
    const found = await fetch(pdbUrl('release'));
    expect(found.status).toBe(200);
    expect(Buffer.from(await found.arrayBuffer()).equals(sourcePdb)).toBe(true);
    const served = await fetch(`${feedUrl(server, 'release')}/v3/flatcontainer/pawket.e2e.core/1.0.0/pawket.e2e.core.1.0.0.snupkg`);
    expect(Buffer.from(await served.arrayBuffer()).equals(snupkg)).toBe(true);
    expect((await filesOf(server, 'release')).filter((k) => k.includes('/symbols/'))).toHaveLength(2);
  });

  it('refuses what the target cannot take: missing in the source, virtual or unknown feeds, too big, no admin key', async () => {
    server = await serverWithFeeds({ dev: {}, release: { maxPackageSize: 300 } });
    await pushed(server, 'dev', 'Contoso.Here', '1.0.0');
    await server.feed.hub.feedDb.createFeed({ name: 'all', description: '', settings: {}, members: [1], created: new Date().toISOString() });
    await server.feed.hub.reloadDefinitions();
    const one = (id: string, version = '1.0.0') => [{ id, version }];

    const missing = await promote(server, { from: 'dev', to: 'release', packages: [...one('Contoso.Here'), ...one('Contoso.Gone', '2.0')] });
    expect(missing.status).toBe(404);
    expect(missing.statusText).toBe("Package Contoso.Gone 2.0 is not in feed 'dev': nothing was promoted.");
    const unknown = await promote(server, { from: 'dev', to: 'nowhere', packages: one('Contoso.Here') });
    expect(unknown.status).toBe(404);
    expect(unknown.statusText).toMatch(/There is no feed 'nowhere'/);
    const virtual = await promote(server, { from: 'dev', to: 'all', packages: one('Contoso.Here') });
    expect(virtual.status).toBe(400);
    expect(virtual.statusText).toMatch(/'all' is a virtual feed/);
    const tooBig = await promote(server, { from: 'dev', to: 'release', packages: one('Contoso.Here') });
    expect(tooBig.status).toBe(413);
    expect(tooBig.statusText).toMatch(/feed 'release' takes packages of at most 300 bytes \(maxPackageSize\)/);
    const tooMany = await promote(server, { from: 'dev', to: 'release', packages: Array.from({ length: 1001 }, (_, i) => ({ id: `P${i}`, version: '1.0.0' })) });
    expect(tooMany.status).toBe(400);
    expect((await promote(server, { from: 'dev', to: 'release', packages: one('Contoso.Here') }, null)).status).toBe(401);
    // An admin key for dev only is no admin in release.
    const dev = await feedOf(server, 'dev');
    const { key } = await server.feed.keys.create(operatorPrincipal('test'), { name: 'dev-admin', owner: 'dev-team', scopes: ['admin'], feeds: [dev.scope.id] });
    const devAdmin = await promote(server, { from: 'dev', to: 'release', packages: one('Contoso.Here') }, key);
    expect(devAdmin.status).toBe(403);
    expect(devAdmin.statusText).toMatch(/not valid on feed 'release'/);
    expect(await filesOf(server, 'release')).toEqual([]);
  });
});

describe('quotas', () => {
  it('refuses a push over the package quota with 403 naming it, and stores nothing', async () => {
    server = await serverWithFeeds({ dev: { quotaPackages: 2 } });
    await pushed(server, 'dev', 'Contoso.Q', '1.0.0');
    await pushed(server, 'dev', 'Contoso.Q', '2.0.0');
    const filesBefore = await filesOf(server, 'dev');
    const res = await push(server, 'dev', await buildNupkg({ id: 'Contoso.Q', version: '3.0.0' }));
    const text = await res.text();
    expect(res.status).toBe(403);
    expect(res.statusText).toBe(
      "Feed 'dev' has a quota of 2 packages and holds 2: this push would make 3. Delete old versions (unlisted ones count too) or ask an admin to raise the feed's quotaPackages.",
    );
    expect(text).toBe(res.statusText);
    expect(await versions(server, 'dev', 'Contoso.Q')).toEqual(['1.0.0', '2.0.0']);
    expect(await filesOf(server, 'dev')).toEqual(filesBefore);
    // Other feeds have their own (none here).
    await pushed(server, 'default', 'Contoso.Q', '3.0.0');
  });

  it('refuses a push over the byte quota, and counts only the difference of an overwrite', async () => {
    // Incompressible content, so that sizes are in KiB.
    const content = [{ name: 'content/data.bin', data: randomBytes(3000) }];
    const first = await buildNupkg({ id: 'Contoso.Bytes', version: '1.0.0', files: content });
    server = await serverWithFeeds({ dev: { quotaBytes: first.length + 100, allowOverwrite: true } });
    expect((await push(server, 'dev', first)).status).toBe(201);
    const second = await push(server, 'dev', await buildNupkg({ id: 'Contoso.Bytes', version: '2.0.0', files: content }));
    expect(second.status).toBe(403);
    expect(second.statusText).toMatch(new RegExp(`^Feed 'dev' has a quota of [\\d.]+ KiB \\(${first.length + 100} bytes\\) and holds [\\d.]+ KiB: this push \\([\\d.]+ KiB\\) would make [\\d.]+ KiB \\(\\d+ bytes\\)\\. `));
    expect(second.statusText).toMatch(/raise the feed's quotaBytes\.$/);
    // Replacing 1.0.0 with a file of about the same size fits.
    const replacement = await buildNupkg({ id: 'Contoso.Bytes', version: '1.0.0', description: 'again', files: content });
    expect(replacement.length).toBeLessThan(first.length + 100);
    expect((await push(server, 'dev', replacement)).status).toBe(201);
  });

  it('refuses a promotion over the target\'s quota for the whole set, promoting none', async () => {
    server = await serverWithFeeds({ dev: {}, release: { quotaPackages: 3 } });
    await pushed(server, 'release', 'Contoso.Mine', '1.0.0');
    for (const v of ['1.0.0', '2.0.0', '3.0.0']) await pushed(server, 'dev', 'Contoso.Set', v);
    const set = ['1.0.0', '2.0.0', '3.0.0'].map((version) => ({ id: 'Contoso.Set', version }));
    const res = await promote(server, { from: 'dev', to: 'release', packages: set });
    expect(res.status).toBe(403);
    expect(res.statusText).toMatch(/^Feed 'release' has a quota of 3 packages and holds 1: promoting these 3 packages would make 4\./);
    expect(await versions(server, 'release', 'Contoso.Set')).toEqual([]);
    expect(await filesOf(server, 'release')).toHaveLength(1);
    expect((await promote(server, { from: 'dev', to: 'release', packages: set.slice(0, 2) })).status).toBe(201);
  });

  it('counts mirrored versions too: caching an upstream package over the quota is refused with the quota named', async () => {
    const upstream = new FaultUpstream();
    upstream.add('Upstream.Lib', '1.0.0', await buildNupkg({ id: 'Upstream.Lib', version: '1.0.0' }));
    upstream.add('Upstream.Lib', '2.0.0', await buildNupkg({ id: 'Upstream.Lib', version: '2.0.0' }));
    const url = await upstream.start();
    try {
      server = await serverWithFeeds({ proxy: { quotaPackages: 1, upstreams: [{ url }] } });
      const flat = (v: string) => fetch(`${feedUrl(server!, 'proxy')}/v3/flatcontainer/upstream.lib/${v}/upstream.lib.${v}.nupkg`);
      expect((await flat('1.0.0')).status).toBe(200);
      const refused = await flat('2.0.0');
      expect(refused.status).toBe(403);
      expect(await refused.text()).toMatch(/^Feed 'proxy' has a quota of 1 package and holds 1: caching Upstream\.Lib 2\.0\.0 from http:\/\/127\.0\.0\.1:\d+\/v3\/index\.json would make 2\./);
      const proxy = await feedOf(server, 'proxy');
      expect((await proxy.db.listVersions('upstream.lib')).map((r) => r.lowerVersion)).toEqual(['1.0.0']);
      expect(await filesOf(server, 'proxy')).toHaveLength(1);
      // A push counts the mirrored version as well.
      expect((await push(server, 'proxy', await buildNupkg({ id: 'Contoso.Own', version: '1.0.0' }))).status).toBe(403);
    } finally {
      await upstream.stop();
    }
  });

  it('applies to imports too (they are pushes)', async () => {
    server = await serverWithFeeds({ dev: { quotaPackages: 1 } });
    const dev = await feedOf(server, 'dev');
    await pushed(server, 'dev', 'Contoso.Imp', '1.0.0');
    const dir = await mkdtemp(join(dev.tempDir, 'import-source-'));
    await writeFile(join(dir, 'a.nupkg'), await buildNupkg({ id: 'Contoso.Imp', version: '2.0.0' }));
    const result = await importPackages(dev, dir, operatorPrincipal('test'), { maxPackageSize: 1 << 20 });
    expect(result.rejected).toBe(1);
    expect(result.rejections[0]!.reason).toMatch(/^Feed 'dev' has a quota of 1 package and holds 1: this push would make 2\./);
    expect(await versions(server, 'dev', 'Contoso.Imp')).toEqual(['1.0.0']);
  });
});
