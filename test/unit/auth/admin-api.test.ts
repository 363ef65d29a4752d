/** The HTTP admin API: admin keys only, JSON in and out; keys are shown once and never listed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { keyFor, push } from './support.js';

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
