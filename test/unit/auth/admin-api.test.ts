/** The HTTP admin API: admin keys only, JSON in and out; keys are shown once and never listed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { createKey, keyFor, push, TEST_ADMIN } from './support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0 });
});
afterAll(async () => {
  await server?.close();
});

function api(method: string, path: string, key: string | null = TEST_KEY, body?: unknown, extra: Record<string, string> = {}) {
  return fetch(`${server.url}/api/admin${path}`, {
    method,
    headers: {
      ...(key ? { 'x-nuget-apikey': key } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...extra,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}

describe('the admin API', () => {
  it('needs an admin key: 401 without one, 403 for other scopes', async () => {
    expect((await api('GET', '/keys', null)).status).toBe(401);
    expect((await api('GET', '/keys', 'wrong')).status).toBe(401);
    const pusher = await keyFor(server, 'alpha', ['push-new', 'push', 'unlist', 'read']);
    const refused = await api('GET', '/keys', pusher);
    expect(refused.status).toBe(403);
    expect(refused.statusText).toMatch(/admin scope/);
    const admin = await keyFor(server, 'ops', ['admin']);
    expect((await api('GET', '/keys', admin)).status).toBe(200);
    expect((await api('GET', '/keys', null, undefined, { authorization: `Bearer ${admin}` })).status).toBe(200);
  });

  it('creates a key and shows it once; lists, rotates and revokes it', async () => {
    const created = await api('POST', '/keys', TEST_KEY, { name: 'ci-main', owner: 'Contoso', scopes: ['push-new', 'unlist'], patterns: ['Contoso.*'], expires: '30d' });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { key: string; keyId: string; owner: string; status: string; expires: string };
    expect(body).toMatchObject({ owner: 'contoso', status: 'active', scopes: ['push-new', 'unlist'], patterns: ['Contoso.*'] });
    expect(body.key).toMatch(/^pwk_/);
    expect((await push(server, body.key, 'Contoso.Api', '1.0.0')).status).toBe(201);

    const listText = await (await api('GET', '/keys')).text();
    expect(listText).toContain(body.keyId);
    expect(listText).not.toContain(body.key);
    expect(listText).not.toMatch(/"hash"/);
    const one = (await (await api('GET', `/keys/${body.keyId}`)).json()) as { lastUsed: string | null };
    expect(one.lastUsed).not.toBeNull();

    const rotated = (await (await api('POST', `/keys/${body.keyId}/rotate`)).json()) as { key: string; keyId: string };
    expect(rotated.keyId).toBe(body.keyId);
    expect((await push(server, body.key, 'Contoso.Api', '1.0.1')).status).toBe(401);
    expect((await push(server, rotated.key, 'Contoso.Api', '1.0.1')).status).toBe(201);

    const revoked = await api('DELETE', `/keys/${body.keyId}`);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { status: string }).status).toBe('revoked');
    expect((await push(server, rotated.key, 'Contoso.Api', '1.0.2')).status).toBe(401);
    expect((await api('DELETE', `/keys/${body.keyId}`)).status).toBe(404);
    expect((await api('GET', '/keys/knope')).status).toBe(404);
  });

  it('refuses bad key requests with 400 naming the problem', async () => {
    const res = await api('POST', '/keys', TEST_KEY, { name: 'x', owner: 'alpha', scopes: ['everything'] });
    expect(res.status).toBe(400);
    expect(res.statusText).toMatch(/everything/);
    expect((await api('POST', '/keys', TEST_KEY, { name: 'x' })).status).toBe(400);
    expect((await api('POST', '/keys', TEST_KEY, { name: 'x', owner: 'a', scopes: 'push', extra: 1 })).status).toBe(400);
  });

  it('manages owners and prefixes, and reads the audit log', async () => {
    const alpha = await keyFor(server, 'alpha', ['push-new']);
    expect((await push(server, alpha, 'Owned.ByApi', '1.0.0')).status).toBe(201);
    expect(await (await api('GET', '/owners/Owned.ByApi')).json()).toEqual({ id: 'Owned.ByApi', owners: ['alpha'] });
    const added = await api('PUT', '/owners/Owned.ByApi/beta');
    expect(await added.json()).toEqual({ id: 'Owned.ByApi', added: true, owners: ['alpha', 'beta'] });
    expect(await (await api('GET', '/owners?owner=beta')).json()).toEqual({ owner: 'beta', ids: ['owned.byapi'] });
    expect((await api('DELETE', '/owners/Owned.ByApi/alpha')).status).toBe(200);
    expect((await api('DELETE', '/owners/Owned.ByApi/beta')).status).toBe(409);
    expect((await api('GET', '/owners/not..valid')).status).toBe(400);

    const reserved = await api('POST', '/prefixes', TEST_KEY, { pattern: 'Fabrikam.*', owner: 'fabrikam' });
    expect(reserved.status).toBe(201);
    expect((await api('POST', '/prefixes', TEST_KEY, { pattern: 'Fabrikam.*', owner: 'other' })).status).toBe(409);
    expect(((await (await api('GET', '/prefixes')).json()) as { prefixes: Array<{ pattern: string }> }).prefixes.map((p) => p.pattern)).toContain('fabrikam.*');
    expect((await push(server, alpha, 'Fabrikam.Core', '1.0.0')).status).toBe(403);
    expect((await api('DELETE', `/prefixes/${encodeURIComponent('Fabrikam.*')}`)).status).toBe(200);
    expect((await push(server, alpha, 'Fabrikam.Core', '1.0.0')).status).toBe(201);

    const audit = (await (await api('GET', '/audit?limit=5')).json()) as { entries: Array<{ action: string; seq: number }> };
    expect(audit.entries.map((e) => e.action)).toEqual(['push', 'prefix.release', 'push.denied', 'prefix.reserve', 'owner.remove']);
    const older = (await (await api('GET', `/audit?limit=2&before=${audit.entries.at(-1)!.seq}`)).json()) as { entries: Array<{ action: string }> };
    expect(older.entries.map((e) => e.action)).toEqual(['owner.add', 'push']);
    expect((await api('GET', '/audit?limit=lots')).status).toBe(400);
  });
});

describe('keys per feed in the admin API', () => {
  let devId: number;
  beforeAll(async () => {
    const hub = server.feed.hub;
    devId = (await hub.feedDb.createFeed({ name: 'dev', description: '', settings: {}, members: null, created: new Date().toISOString() }))!.id;
    await hub.reloadDefinitions();
  });

  it('creates a key for the feeds it names (names in, names out) or every feed', async () => {
    const created = await api('POST', '/keys', TEST_KEY, { name: 'ci-dev', owner: 'alpha', scopes: ['push-new'], feeds: ['DEV'] });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { key: string; keyId: string; feeds: unknown };
    expect(body.feeds).toEqual(['dev']);
    expect(((await (await api('GET', `/keys/${body.keyId}`)).json()) as { feeds: unknown }).feeds).toEqual(['dev']);
    const listed = (await (await api('GET', '/keys')).json()) as { keys: Array<{ keyId: string; feeds: unknown }> };
    expect(listed.keys.find((k) => k.keyId === body.keyId)?.feeds).toEqual(['dev']);
    expect((await pushRaw(`${server.url}/f/dev`, await buildNupkg({ id: 'Dev.Api', version: '1.0.0' }), body.key)).status).toBe(201);
    const refused = await push(server, body.key, 'Dev.Api', '1.0.0');
    expect(refused.status).toBe(403);
    expect(refused.statusText).toBe("This API key is not valid on feed 'default' (it is valid on: dev).");

    for (const feeds of ['*', undefined]) {
      const every = (await (await api('POST', '/keys', TEST_KEY, { name: 'ci-all', owner: 'alpha', scopes: ['push'], ...(feeds ? { feeds } : {}) })).json()) as { feeds: unknown };
      expect(every.feeds).toBe('*');
    }
  });

  it('refuses unknown feed names, an empty list, and * beside names with a 400', async () => {
    const unknown = await api('POST', '/keys', TEST_KEY, { name: 'x', owner: 'alpha', scopes: ['push'], feeds: ['dev', 'nope'] });
    expect(unknown.status).toBe(400);
    expect(unknown.statusText).toMatch(/There is no feed 'nope'/);
    expect((await api('POST', '/keys', TEST_KEY, { name: 'x', owner: 'alpha', scopes: ['push'], feeds: [] })).status).toBe(400);
    expect((await api('POST', '/keys', TEST_KEY, { name: 'x', owner: 'alpha', scopes: ['push'], feeds: ['*', 'dev'] })).status).toBe(400);
  });

  it("an admin key for some feeds manages those feeds' owners and prefixes, not keys or the audit log", async () => {
    const devAdmin = await createKey(server, { owner: 'ops', scopes: ['admin'], feeds: [devId] });
    for (const [method, path, body] of [
      ['GET', '/keys', undefined],
      ['POST', '/keys', { name: 'wider', owner: 'ops', scopes: ['admin'] }],
      ['POST', '/keys', { name: 'same', owner: 'ops', scopes: ['push'], feeds: ['dev'] }],
      ['GET', '/audit', undefined],
    ] as const) {
      const res = await api(method, path, devAdmin, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.statusText).toMatch(/valid on every feed/);
    }
    const prefixes = await fetch(`${server.url}/f/dev/api/admin/prefixes`, { headers: { 'x-nuget-apikey': devAdmin } });
    expect(prefixes.status).toBe(200);
    const elsewhere = await api('GET', '/prefixes', devAdmin);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.statusText).toBe("This API key is not valid on feed 'default' (it is valid on: dev).");
  });

  it('never lets a key make a key for feeds it is not valid on (the feed layer decides, whatever calls it)', async () => {
    const limited = { ...TEST_ADMIN, name: 'key ops (k1)', feeds: [devId] };
    await expect(server.feed.keys.create(limited, { name: 'wider', owner: 'ops', scopes: ['push'] })).rejects.toMatchObject({ status: 403 });
    await expect(server.feed.keys.create(limited, { name: 'other', owner: 'ops', scopes: ['push'], feeds: [devId, 99] })).rejects.toMatchObject({ status: 403 });
    const made = await server.feed.keys.create(limited, { name: 'same', owner: 'ops', scopes: ['push'], feeds: [devId] });
    expect(made.record.feeds).toEqual([devId]);
  });
});
