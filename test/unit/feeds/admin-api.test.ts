/** The feeds admin API: feeds created, changed and deleted over JSON are served at /f/{name}/ at once. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { keyFor } from '../auth/support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0 });
});
afterAll(async () => {
  await server?.close();
});

function api(method: string, path: string, body?: unknown, key: string | null = TEST_KEY) {
  return fetch(`${server.url}/api/admin/feeds${path}`, {
    method,
    headers: { ...(key ? { 'x-nuget-apikey': key } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}

interface FeedJson {
  id: number;
  name: string;
  kind: string;
  members: string[] | null;
  settings: Record<string, unknown>;
  effective: Record<string, unknown>;
  packages: number;
  bytes: number;
  urls: { serviceIndex: string; v2: string; symbols: string; web: string };
}

async function create(body: unknown): Promise<FeedJson> {
  const res = await api('POST', '', body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as FeedJson;
}

async function push(feedPath: string, id: string, version: string, description = 'first'): Promise<Response> {
  return pushRaw(`${server.url}${feedPath}`, await buildNupkg({ id, version, description }));
}

describe('the feeds admin API', () => {
  it('needs an admin key', async () => {
    expect((await api('GET', '', undefined, null)).status).toBe(401);
    const pusher = await keyFor(server, 'alpha', ['push-new', 'push', 'read']);
    expect((await api('POST', '', { name: 'nope' }, pusher)).status).toBe(403);
    expect((await api('GET', '/nope')).status).toBe(404);
  });

  it('creates a feed that answers at /f/{name}/ at once, with its resources under it', async () => {
    const feed = await create({ name: 'Dev', description: 'CI builds' });
    expect(feed).toMatchObject({ name: 'Dev', kind: 'feed', members: null, settings: {}, packages: 0 });
    expect(feed.urls.serviceIndex).toBe(`${server.url}/f/Dev/v3/index.json`);

    const index = await fetch(`${server.url}/f/dev/v3/index.json`);
    expect(index.status).toBe(200);
    const resources = ((await index.json()) as { resources: Array<{ '@id': string }> }).resources.map((r) => r['@id']);
    expect(resources.length).toBeGreaterThan(5);
    for (const id of resources) expect(id.startsWith(`${server.url}/f/dev/`), id).toBe(true);

    expect((await push('/f/dev', 'Dev.Only', '1.0.0')).status).toBe(201);
    expect((await fetch(`${server.url}/f/dev/v3/flatcontainer/dev.only/index.json`)).status).toBe(200);
    expect((await fetch(`${server.url}/v3/flatcontainer/dev.only/index.json`)).status).toBe(404);

    const listed = (await (await api('GET', '')).json()) as { feeds: FeedJson[] };
    expect(listed.feeds.map((f) => f.name)).toEqual(['default', 'Dev']);
    expect(listed.feeds[1]).toMatchObject({ packages: 1 });
    expect(listed.feeds[1]!.bytes).toBeGreaterThan(0);
    expect(listed.feeds[0]!.urls.serviceIndex).toBe(`${server.url}/v3/index.json`);
  });

  it('serves each of several feeds created at the same moment', async () => {
    const names = ['many1', 'many2', 'many3', 'many4', 'many5', 'many6'];
    const answers = await Promise.all(names.map((name) => api('POST', '', { name })));
    expect(answers.map((a) => a.status)).toEqual(names.map(() => 201));
    for (const name of names) expect((await fetch(`${server.url}/f/${name}/v3/index.json`)).status, name).toBe(200);
    const both = await Promise.all([api('POST', '', { name: 'twice' }), api('POST', '', { name: 'TWICE' })]);
    expect(both.map((a) => a.status).sort()).toEqual([201, 409]);
    for (const name of [...names, 'twice']) expect((await api('DELETE', `/${name}`)).status).toBe(200);
  });

  it('refuses a taken name (whatever its case) with 409, and bad names with 400', async () => {
    await create({ name: 'taken' });
    const again = await api('POST', '', { name: 'TAKEN' });
    expect(again.status).toBe(409);
    expect(again.statusText).toMatch(/exists already/);
    expect((await api('POST', '', { name: 'default' })).status).toBe(409);
    for (const name of ['', 'a/b', '-x', 'x.', 'a b', 'x'.repeat(65), '..']) {
      const res = await api('POST', '', { name });
      expect(res.status, name).toBe(400);
      expect(res.statusText).toMatch(/not a feed name/);
    }
    const noName = await api('POST', '', { description: 'x' });
    expect(noName.status).toBe(400);
    expect(noName.statusText).toMatch(/name/);
  });

  it('refuses bad settings naming the setting, and unknown settings naming them', async () => {
    const bad = await api('POST', '', { name: 'bad1', settings: { maxPackageSize: -5 } });
    expect(bad.status).toBe(400);
    expect(bad.statusText).toMatch(/'maxPackageSize'/);
    const mode = await api('POST', '', { name: 'bad2', settings: { deleteMode: 'shred' } });
    expect(mode.status).toBe(400);
    expect(mode.statusText).toMatch(/'deleteMode'/);
    const unknown = await api('POST', '', { name: 'bad3', settings: { colour: 'blue' } });
    expect(unknown.status).toBe(400);
    expect(unknown.statusText).toMatch(/Unknown feed setting 'colour'/);
    const body = await api('POST', '', { name: 'bad4', extra: 1 });
    expect(body.status).toBe(400);
    const notJson = await fetch(`${server.url}/api/admin/feeds`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(notJson.status).toBe(400);
    const huge = await api('POST', '', { name: 'bad5', description: 'x'.repeat(100_000) });
    expect(huge.status).toBe(413);
    expect((await api('GET', '')).status).toBe(200);
    const names = ((await (await api('GET', '')).json()) as { feeds: FeedJson[] }).feeds.map((f) => f.name);
    expect(names.filter((n) => n.startsWith('bad'))).toEqual([]);
  });

  it('applies a private feed\'s setting to that feed only', async () => {
    const feed = await create({ name: 'secret', settings: { private: 'true' } });
    expect(feed.settings).toEqual({ private: true });
    expect((await push('/f/secret', 'Secret.Lib', '1.0.0')).status).toBe(201);
    const anonymous = await fetch(`${server.url}/f/secret/v3/flatcontainer/secret.lib/index.json`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/Basic/);
    const withKey = await fetch(`${server.url}/f/secret/v3/flatcontainer/secret.lib/index.json`, { headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(withKey.status).toBe(200);
    // The service index stays readable (clients read it before sending credentials); the default feed stays public.
    expect((await fetch(`${server.url}/f/secret/v3/index.json`)).status).toBe(200);
    expect((await push('', 'Public.Lib', '1.0.0')).status).toBe(201);
    expect((await fetch(`${server.url}/v3/flatcontainer/public.lib/index.json`)).status).toBe(200);
  });

  it('takes a changed setting into account on the next request, and a removed one back to the configuration', async () => {
    await create({ name: 'overwrite' });
    expect((await push('/f/overwrite', 'Over.Lib', '1.0.0', 'one')).status).toBe(201);
    expect((await push('/f/overwrite', 'Over.Lib', '1.0.0', 'two')).status).toBe(409);

    const on = await api('PATCH', '/overwrite', { settings: { allowOverwrite: true } });
    expect(on.status).toBe(200);
    expect(((await on.json()) as FeedJson).effective.allowOverwrite).toBe(true);
    expect((await push('/f/overwrite', 'Over.Lib', '1.0.0', 'two')).status).toBe(201);

    const off = await api('PATCH', '/overwrite', { settings: { allowOverwrite: null }, description: 'back' });
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ settings: {}, description: 'back', effective: { allowOverwrite: false } });
    expect((await push('/f/overwrite', 'Over.Lib', '1.0.0', 'three')).status).toBe(409);

    const unknown = await api('PATCH', '/overwrite', { settings: { colour: null } });
    expect(unknown.status).toBe(400);
    expect(unknown.statusText).toMatch(/'colour'/);
    const onDefault = await api('PATCH', '/default', { settings: { private: true } });
    expect(onDefault.status).toBe(400);
    expect(onDefault.statusText).toMatch(/configuration/);
    expect((await api('PATCH', '/default', { description: 'the main feed' })).status).toBe(200);
  });

  it('makes virtual feeds of feeds that hold packages, without storage settings', async () => {
    await create({ name: 'release' });
    const all = await create({ name: 'all', members: ['release', 'DEV'], settings: { private: false } });
    expect(all).toMatchObject({ kind: 'virtual', members: ['release', 'Dev'] });
    expect(all.effective).not.toHaveProperty('allowOverwrite');

    const nested = await api('POST', '', { name: 'nested', members: ['all'] });
    expect(nested.status).toBe(400);
    expect(nested.statusText).toMatch(/'all' is a virtual feed/);
    const missing = await api('POST', '', { name: 'missing', members: ['nowhere'] });
    expect(missing.status).toBe(400);
    expect(missing.statusText).toMatch(/no feed 'nowhere'/);
    for (const [setting, value] of [['allowOverwrite', true], ['quotaBytes', 1000], ['retentionKeepStable', 3], ['deleteMode', 'delete']] as const) {
      const res = await api('POST', '', { name: 'v2', members: ['release'], settings: { [setting]: value } });
      expect(res.status, setting).toBe(400);
      expect(res.statusText).toMatch(new RegExp(`'${setting}'.*virtual`));
    }
    const upstream = await api('PATCH', '/all', { settings: { upstreams: [{ url: 'http://127.0.0.1:9/v3/index.json' }] } });
    expect(upstream.status).toBe(400);
    expect(upstream.statusText).toMatch(/'upstreams'/);

    const reordered = await api('PATCH', '/all', { members: ['dev', 'release', 'default'] });
    expect(await reordered.json()).toMatchObject({ members: ['Dev', 'release', 'default'] });
    expect((await api('PATCH', '/release', { members: ['dev'] })).status).toBe(400);
  });

  it('deletes feeds: never the default, not a member of a virtual feed, not a non-empty one without force', async () => {
    const defaultFeed = await api('DELETE', '/default');
    expect(defaultFeed.status).toBe(400);

    const member = await api('DELETE', '/release');
    expect(member.status).toBe(409);
    expect(member.statusText).toMatch(/member of the virtual feed 'all'/);
    expect((await api('DELETE', '/all')).status).toBe(200);
    expect((await api('DELETE', '/release')).status).toBe(200);
    expect((await fetch(`${server.url}/f/release/v3/index.json`)).status).toBe(404);

    const full = await api('DELETE', '/dev');
    expect(full.status).toBe(409);
    expect(full.statusText).toMatch(/holds 1 package: pass --force/);
    expect((await fetch(`${server.url}/f/dev/v3/flatcontainer/dev.only/index.json`)).status).toBe(200);

    const forced = await api('DELETE', '/dev?force=true');
    expect(forced.status).toBe(200);
    expect(await forced.json()).toMatchObject({ deleted: 'Dev', packages: 1 });
    expect((await fetch(`${server.url}/f/dev/v3/index.json`)).status).toBe(404);
    expect((await api('GET', '/dev')).status).toBe(404);
    // Its files went with it.
    for await (const blob of server.feed.blobs.list()) expect(blob.key).not.toMatch(/dev\.only/);

    // A new feed of the same name starts empty.
    await create({ name: 'dev' });
    expect((await fetch(`${server.url}/f/dev/v3/flatcontainer/dev.only/index.json`)).status).toBe(404);

    const audit = (await (await fetch(`${server.url}/api/admin/audit?action=feed.delete`, { headers: { 'x-nuget-apikey': TEST_KEY } })).json()) as {
      entries: Array<{ target: string; detail: string }>;
    };
    expect(audit.entries.map((e) => e.target).slice(0, 3)).toEqual(['Dev', 'release', 'all']);
  });

  it('deletes a feed\'s files, but not one another feed\'s row references (as a promoted copy may)', async () => {
    await create({ name: 'shared-a' });
    const b = await create({ name: 'shared-b' });
    expect((await push('/f/shared-a', 'Shared.Lib', '1.0.0')).status).toBe(201);
    const hub = server.feed.hub;
    const a = (await hub.feed('shared-a'))!;
    const row = (await a.db.getPackage('shared.lib', '1.0.0'))!;
    await hub.shared.db.forFeed(b.id).insertPackage({ ...row, nuspec: (await a.db.getNuspec('shared.lib', '1.0.0'))! });

    expect((await api('DELETE', '/shared-a?force')).status).toBe(200);
    const file = await fetch(`${server.url}/f/shared-b/v3/flatcontainer/shared.lib/1.0.0/shared.lib.1.0.0.nupkg`);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).length).toBe(row.size);
  });

  it('acts on one feed\'s owners and prefixes under the feed\'s URL, and filters the audit log by feed', async () => {
    const admin = { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' };
    const reserved = await fetch(`${server.url}/f/secret/api/admin/prefixes`, { method: 'POST', headers: admin, body: JSON.stringify({ pattern: 'Team.*', owner: 'team' }) });
    expect(reserved.status).toBe(201);
    const inSecret = (await (await fetch(`${server.url}/f/secret/api/admin/prefixes`, { headers: admin })).json()) as { prefixes: unknown[] };
    expect(inSecret.prefixes).toHaveLength(1);
    const inDefault = (await (await fetch(`${server.url}/api/admin/prefixes`, { headers: admin })).json()) as { prefixes: unknown[] };
    expect(inDefault.prefixes).toHaveLength(0);
    expect((await fetch(`${server.url}/f/secret/api/admin/owners/Secret.Lib`, { headers: admin })).status).toBe(200);
    expect((await fetch(`${server.url}/f/nowhere/api/admin/prefixes`, { headers: admin })).status).toBe(404);
    const audit = (await (await fetch(`${server.url}/api/admin/audit?feed=secret`, { headers: admin })).json()) as { entries: Array<{ action: string }> };
    expect(audit.entries.map((e) => e.action)).toContain('prefix.reserve');
    const defaultAudit = (await (await fetch(`${server.url}/api/admin/audit?feed=default`, { headers: admin })).json()) as { entries: Array<{ action: string }> };
    expect(defaultAudit.entries.map((e) => e.action)).not.toContain('prefix.reserve');
    expect((await fetch(`${server.url}/api/admin/audit?feed=nowhere`, { headers: admin })).status).toBe(404);
  });
});
