/**
 * Access rules beyond the matrix: id patterns, prefix specificity, races for a new id, owner changes, hard deletes,
 * ids without owners, key rotation and expiry, last-used times, the audit log and `verified` in search.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessTables } from '../../../src/db/kysely-access-database.js';
import type { KyselyPackageDatabase } from '../../../src/db/kysely-database.js';
import { generateApiKey, matchesIdPattern } from '../../../src/feed/auth.js';
import { parseExpiry } from '../../../src/feed/keys.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { createKey, keyFor, push, snapshot, TEST_ADMIN, unlist } from './support.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const start = () => startTestServer({ badKeyLimit: 0 }).then((s) => (server = s));

describe('key patterns', () => {
  it('limit a key to ids matching its globs, for push and unlist, naming the id', async () => {
    const s = await start();
    const key = await keyFor(s, 'contoso', ['push-new', 'unlist'], 'active', ['Contoso.*', 'Shared.Exact']);
    expect((await push(s, key, 'Contoso.Core', '1.0.0')).status).toBe(201);
    expect((await push(s, key, 'contoso.lower', '1.0.0')).status).toBe(201);
    expect((await push(s, key, 'Shared.Exact', '1.0.0')).status).toBe(201);
    const outside = await push(s, key, 'Fabrikam.Core', '1.0.0');
    expect(outside.status).toBe(403);
    expect(outside.statusText).toMatch(/Fabrikam\.Core.*Contoso\.\*/);
    expect((await snapshot(s, 'Fabrikam.Core')).registered).toBe(false);

    const admin = await keyFor(s, 'fabrikam', ['admin']);
    expect((await push(s, admin, 'Fabrikam.Core', '1.0.0')).status).toBe(201);
    await s.feed.ownership.addOwner(TEST_ADMIN, 'Fabrikam.Core', 'contoso');
    // an owner now, but the key's patterns still do not cover the id
    expect((await unlist(s, key, 'Fabrikam.Core', '1.0.0')).status).toBe(403);
  });

  it('match with * anywhere, case-insensitively', () => {
    expect(matchesIdPattern('Contoso.*', 'contoso.core')).toBe(true);
    expect(matchesIdPattern('Contoso.*', 'Contoso')).toBe(false);
    expect(matchesIdPattern('*.Tools', 'Fabrikam.Tools')).toBe(true);
    expect(matchesIdPattern('Contoso.*.Tests', 'Contoso.Core.Tests')).toBe(true);
    expect(matchesIdPattern('Contoso.Core', 'Contoso.CoreX')).toBe(false);
    expect(matchesIdPattern('*', 'Anything')).toBe(true);
  });
});

describe('prefix reservations', () => {
  it('the most specific reservation decides; an exact id can be reserved', async () => {
    const s = await start();
    await s.feed.ownership.reservePrefix(TEST_ADMIN, 'Contoso.*', 'contoso');
    await s.feed.ownership.reservePrefix(TEST_ADMIN, 'Contoso.Internal.*', 'platform');
    await s.feed.ownership.reservePrefix(TEST_ADMIN, 'Lonely.Id', 'platform');
    const contoso = await keyFor(s, 'contoso', ['push-new']);
    const platform = await keyFor(s, 'platform', ['push-new']);
    expect((await push(s, contoso, 'Contoso.Core', '1.0.0')).status).toBe(201);
    const refused = await push(s, contoso, 'Contoso.Internal.Tools', '1.0.0');
    expect(refused.status).toBe(403);
    expect(refused.statusText).toMatch(/Contoso\.Internal\.Tools.*contoso\.internal\.\*.*platform/);
    expect((await push(s, platform, 'Contoso.Internal.Tools', '1.0.0')).status).toBe(201);
    expect((await push(s, platform, 'Contoso.Other', '1.0.0')).status).toBe(403);
    expect((await push(s, contoso, 'Lonely.Id', '1.0.0')).status).toBe(403);
    expect((await push(s, contoso, 'Lonely.IdNot', '1.0.0')).status).toBe(201);
    expect((await push(s, platform, 'Lonely.Id', '1.0.0')).status).toBe(201);
  });

  it('refuses a second reservation of the same pattern and bad patterns; release frees the prefix', async () => {
    const s = await start();
    await s.feed.ownership.reservePrefix(TEST_ADMIN, 'Contoso.*', 'contoso');
    await expect(s.feed.ownership.reservePrefix(TEST_ADMIN, 'contoso.*', 'other')).rejects.toMatchObject({ status: 409 });
    await expect(s.feed.ownership.reservePrefix(TEST_ADMIN, 'Con*toso.*', 'other')).rejects.toMatchObject({ status: 400 });
    await expect(s.feed.ownership.reservePrefix(TEST_ADMIN, '*', 'other')).rejects.toMatchObject({ status: 400 });
    const other = await keyFor(s, 'other', ['push-new']);
    expect((await push(s, other, 'Contoso.Free', '1.0.0')).status).toBe(403);
    await s.feed.ownership.releasePrefix(TEST_ADMIN, 'Contoso.*');
    expect((await push(s, other, 'Contoso.Free', '1.0.0')).status).toBe(201);
    await expect(s.feed.ownership.releasePrefix(TEST_ADMIN, 'Contoso.*')).rejects.toMatchObject({ status: 404 });
  });

  it('marks ids under a reservation owned by its owner as verified in search, and unmarks them on release', async () => {
    const s = await start();
    const contoso = await keyFor(s, 'contoso', ['push-new']);
    const other = await keyFor(s, 'other', ['push-new']);
    expect((await push(s, other, 'Contoso.Squatted', '1.0.0')).status).toBe(201);
    await s.feed.ownership.reservePrefix(TEST_ADMIN, 'Contoso.*', 'contoso');
    expect((await push(s, contoso, 'Contoso.Real', '1.0.0')).status).toBe(201);
    expect((await push(s, contoso, 'Unreserved.Thing', '1.0.0')).status).toBe(201);
    await s.app.pawketSearch.index.whenLoaded();

    const verified = async () => {
      await s.feed.ownership.reload();
      const body = (await (await fetch(`${s.url}/v3/search?q=&take=100`)).json()) as { data: Array<{ id: string; verified: boolean }> };
      return Object.fromEntries(body.data.map((d) => [d.id, d.verified]));
    };
    await expect.poll(verified).toEqual({ 'Contoso.Real': true, 'Contoso.Squatted': false, 'Unreserved.Thing': false });
    // the prefix owner becomes an owner of the squatted id: verified too
    await s.feed.ownership.addOwner(TEST_ADMIN, 'Contoso.Squatted', 'contoso');
    expect(s.feed.ownership.isVerifiedId('contoso.squatted')).toBe(true);
    await s.feed.ownership.releasePrefix(TEST_ADMIN, 'Contoso.*');
    expect(await verified()).toEqual({ 'Contoso.Real': false, 'Contoso.Squatted': false, 'Unreserved.Thing': false });
  });
});

describe('ownership', () => {
  it('of a new id goes to exactly one of two owners pushing it at once', async () => {
    const s = await start();
    const alpha = await keyFor(s, 'alpha', ['push-new']);
    const beta = await keyFor(s, 'beta', ['push-new']);
    const statuses = await Promise.all([
      push(s, alpha, 'Contested.Id', '1.0.0').then((r) => ['alpha', r.status] as const),
      push(s, beta, 'Contested.Id', '1.0.1').then((r) => ['beta', r.status] as const),
    ]);
    const winners = statuses.filter(([, status]) => status === 201);
    expect(winners).toHaveLength(1);
    expect(statuses.filter(([, status]) => status === 403)).toHaveLength(1);
    const state = await snapshot(s, 'Contested.Id');
    expect(state.owners).toEqual([winners[0]![0]]);
    expect(state.versions).toHaveLength(1);
  });

  it('can be shared and handed on; the last owner cannot be removed', async () => {
    const s = await start();
    const alpha = await keyFor(s, 'alpha', ['push-new', 'unlist']);
    const beta = await keyFor(s, 'beta', ['push', 'unlist']);
    expect((await push(s, alpha, 'Shared.Lib', '1.0.0')).status).toBe(201);
    expect((await push(s, beta, 'Shared.Lib', '1.1.0')).status).toBe(403);
    expect(await s.feed.ownership.addOwner(TEST_ADMIN, 'Shared.Lib', 'Beta')).toBe(true);
    expect(await s.feed.ownership.addOwner(TEST_ADMIN, 'shared.lib', 'beta')).toBe(false);
    expect((await push(s, beta, 'Shared.Lib', '1.1.0')).status).toBe(201);
    await s.feed.ownership.removeOwner(TEST_ADMIN, 'Shared.Lib', 'alpha');
    expect((await push(s, alpha, 'Shared.Lib', '1.2.0')).status).toBe(403);
    expect((await unlist(s, alpha, 'Shared.Lib', '1.0.0')).status).toBe(403);
    expect((await unlist(s, beta, 'Shared.Lib', '1.0.0')).status).toBe(200);
    await expect(s.feed.ownership.removeOwner(TEST_ADMIN, 'Shared.Lib', 'beta')).rejects.toMatchObject({ status: 409 });
    await expect(s.feed.ownership.removeOwner(TEST_ADMIN, 'Shared.Lib', 'nobody')).rejects.toMatchObject({ status: 404 });
    expect(await s.feed.ownership.idsOwnedBy('beta')).toEqual(['shared.lib']);
  });

  it('outlives a hard delete of every version, so nobody else can take the id', async () => {
    const s = (server = await startTestServer({ badKeyLimit: 0, deleteMode: 'delete' }));
    const alpha = await keyFor(s, 'alpha', ['push-new', 'unlist']);
    const beta = await keyFor(s, 'beta', ['push-new', 'unlist']);
    expect((await push(s, alpha, 'Deleted.Lib', '1.0.0')).status).toBe(201);
    expect((await unlist(s, beta, 'Deleted.Lib', '1.0.0')).status).toBe(403);
    expect((await fetch(`${s.url}/v3/flatcontainer/deleted.lib/1.0.0/deleted.lib.1.0.0.nupkg`)).status).toBe(200);
    expect((await unlist(s, alpha, 'Deleted.Lib', '1.0.0')).status).toBe(200);
    expect((await push(s, beta, 'Deleted.Lib', '2.0.0')).status).toBe(403);
    expect((await push(s, alpha, 'Deleted.Lib', '2.0.0')).status).toBe(201);
  });

  it('of ids that exist without an owner (copied from another feed) is left to admins', async () => {
    const s = await start();
    const alpha = await keyFor(s, 'alpha', ['push-new', 'unlist']);
    expect((await pushRaw(s.url, await buildNupkg({ id: 'Copied.Lib', version: '1.0.0' }))).status).toBe(201);
    // as if copied: the package row is there, its registration is not
    const db = (s.feed.db as KyselyPackageDatabase).kysely.withTables<AccessTables>();
    await db.deleteFrom('package_owners').where('lower_id', '=', 'copied.lib').execute();
    await db.deleteFrom('package_registrations').where('lower_id', '=', 'copied.lib').execute();
    const refused = await push(s, alpha, 'Copied.Lib', '2.0.0');
    expect(refused.status).toBe(403);
    expect(refused.statusText).toMatch(/Copied\.Lib has no owner.*pawket owners add/);
    expect((await unlist(s, alpha, 'Copied.Lib', '1.0.0')).status).toBe(403);
    await s.feed.ownership.addOwner(TEST_ADMIN, 'Copied.Lib', 'alpha');
    expect((await push(s, alpha, 'Copied.Lib', '2.0.0')).status).toBe(201);
  });

  it('of ids pushed with a configured key is the bootstrap admin\'s; configured keys may change any id', async () => {
    const s = await start();
    const alpha = await keyFor(s, 'alpha', ['push-new', 'unlist']);
    expect((await push(s, alpha, 'Alpha.Lib', '1.0.0')).status).toBe(201);
    expect((await push(s, TEST_KEY, 'Alpha.Lib', '1.1.0')).status).toBe(201);
    expect((await unlist(s, TEST_KEY, 'Alpha.Lib', '1.0.0')).status).toBe(200);
    expect((await push(s, TEST_KEY, 'Admin.Lib', '1.0.0')).status).toBe(201);
    expect((await snapshot(s, 'Admin.Lib')).owners).toEqual(['admin']);
    expect((await push(s, alpha, 'Admin.Lib', '1.1.0')).status).toBe(403);
  });
});

describe('keys', () => {
  it('look like pwk_ + 43 base64url characters, and each is different', () => {
    const a = generateApiKey();
    expect(a).toMatch(/^pwk_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(a);
  });

  it('rotate: the old secret stops working at once, the new one works with the same id, owner and scopes', async () => {
    const s = await start();
    const { key, record } = await s.feed.keys.create(TEST_ADMIN, { name: 'ci', owner: 'alpha', scopes: ['push-new'] });
    expect((await push(s, key, 'Rotate.Lib', '1.0.0')).status).toBe(201);
    const rotated = await s.feed.keys.rotate(TEST_ADMIN, record.keyId);
    expect(rotated.key).not.toBe(key);
    expect(rotated.record).toMatchObject({ keyId: record.keyId, owner: 'alpha', scopes: ['push-new'] });
    expect((await push(s, key, 'Rotate.Lib', '1.1.0')).status).toBe(401);
    expect((await push(s, rotated.key, 'Rotate.Lib', '1.1.0')).status).toBe(201);
    await s.feed.keys.revoke(TEST_ADMIN, record.keyId);
    expect((await push(s, rotated.key, 'Rotate.Lib', '1.2.0')).status).toBe(401);
    await expect(s.feed.keys.rotate(TEST_ADMIN, record.keyId)).rejects.toMatchObject({ status: 404 });
  });

  it('expire at their expiry; rotating gives the same lifetime again', async () => {
    const s = await start();
    const now = new Date();
    const { key, record } = await s.feed.keys.create(TEST_ADMIN, { name: 'short', owner: 'alpha', scopes: ['push-new'], expires: '2d' }, new Date(now.getTime() - 3 * 86_400_000));
    const refused = await push(s, key, 'Expiry.Lib', '1.0.0');
    expect(refused.status).toBe(401);
    expect(refused.statusText).toMatch(/expired/);
    const rotated = await s.feed.keys.rotate(TEST_ADMIN, record.keyId, now);
    expect(Date.parse(rotated.record.expires!) - now.getTime()).toBe(2 * 86_400_000);
    expect((await push(s, rotated.key, 'Expiry.Lib', '1.0.0')).status).toBe(201);
  });

  it('record when they were last used, at most once a minute', async () => {
    const s = await start();
    const { key, record } = await s.feed.keys.create(TEST_ADMIN, { name: 'used', owner: 'alpha', scopes: ['push-new'] });
    expect(record.lastUsed).toBeNull();
    expect((await push(s, key, 'Used.Lib', '1.0.0')).status).toBe(201);
    const first = (await s.feed.keys.get(record.keyId)).lastUsed;
    expect(first).not.toBeNull();
    expect((await push(s, key, 'Used.Lib', '1.0.1')).status).toBe(201);
    expect((await s.feed.keys.get(record.keyId)).lastUsed).toBe(first);
  });

  it('refuse bad scopes, patterns, owners and expiries with 400', async () => {
    const s = await start();
    await expect(createKey(s, { owner: 'alpha', scopes: ['write'] })).rejects.toMatchObject({ status: 400 });
    await expect(createKey(s, { owner: 'alpha', scopes: [] })).rejects.toMatchObject({ status: 400 });
    await expect(createKey(s, { owner: 'alpha', scopes: ['push'], patterns: ['Contoso/*'] })).rejects.toMatchObject({ status: 400 });
    await expect(createKey(s, { owner: 'not an owner', scopes: ['push'] })).rejects.toMatchObject({ status: 400 });
    await expect(createKey(s, { owner: 'alpha', scopes: ['push'], expires: 'tomorrow' })).rejects.toMatchObject({ status: 400 });
    expect(parseExpiry('90d', new Date('2025-01-01T00:00:00Z'))).toBe('2025-04-01T00:00:00.000Z');
    expect(parseExpiry('2026-12-31')).toBe('2026-12-31T00:00:00.000Z');
    expect(parseExpiry(null)).toBeNull();
  });
});

describe('audit log', () => {
  it('records pushes, unlists, relists, refusals, key and owner changes: who, what, when, from where', async () => {
    const s = await start();
    const { key, record } = await s.feed.keys.create(TEST_ADMIN, { name: 'ci-main', owner: 'alpha', scopes: ['push-new', 'unlist'] });
    const beta = await keyFor(s, 'beta', ['push']);
    expect((await push(s, key, 'Audited.Lib', '1.0.0')).status).toBe(201);
    expect((await unlist(s, key, 'Audited.Lib', '1.0.0')).status).toBe(200);
    expect((await fetch(`${s.url}/api/v2/package/Audited.Lib/1.0.0`, { method: 'POST', headers: { 'x-nuget-apikey': key } })).status).toBe(200);
    expect((await push(s, beta, 'Audited.Lib', '2.0.0')).status).toBe(403);
    await s.feed.ownership.addOwner(TEST_ADMIN, 'Audited.Lib', 'beta');

    const entries = await s.feed.audit.list({ limit: 100 });
    const summary = entries.map((e) => `${e.action} ${e.target} by ${e.actor} (${e.owner ?? '-'}) from ${e.address ?? '-'}`).reverse();
    expect(summary.filter((l) => !l.startsWith('key.create'))).toEqual([
      `push Audited.Lib 1.0.0 by key ci-main (${record.keyId}) (alpha) from 127.0.0.1`,
      `unlist Audited.Lib 1.0.0 by key ci-main (${record.keyId}) (alpha) from 127.0.0.1`,
      `relist Audited.Lib 1.0.0 by key ci-main (${record.keyId}) (alpha) from 127.0.0.1`,
      expect.stringMatching(/^push\.denied Audited\.Lib by key beta-push-active \(k[0-9a-f]+\) \(beta\) from 127\.0\.0\.1$/),
      'owner.add Audited.Lib by test admin (-) from -',
    ]);
    expect(entries.every((e) => !Number.isNaN(Date.parse(e.at)))).toBe(true);
    expect(entries.filter((e) => e.action === 'key.create')).toHaveLength(2);
    // filters
    expect((await s.feed.audit.list({ limit: 10, keyId: record.keyId })).map((e) => e.action)).toEqual(['relist', 'unlist', 'push']);
    expect((await s.feed.audit.list({ limit: 10, target: 'audited.lib' })).length).toBe(5);
    expect((await s.feed.audit.list({ limit: 10, action: 'push.denied' })).length).toBe(1);
  });
});
