/**
 * People in the model: the people database on the backend under test, sessions' timeouts, and rights that follow a
 * person — roles per feed cutting what their keys may do, organisations acting for their members, a disabled person's
 * keys refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope } from '../../../src/db/access-database.js';
import { KyselyPeopleDatabase } from '../../../src/db/kysely-people-database.js';
import type { PeopleDatabase } from '../../../src/db/people-database.js';
import { generateApiKey, hashApiKey } from '../../../src/feed/auth.js';
import { SessionStore } from '../../../src/people/sessions.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

let server: TestServer;
let db: PeopleDatabase;
const at = '2026-12-01T00:00:00.000Z';

beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0 });
  db = server.feed.hub.shared.people.db;
});
afterAll(async () => {
  await server?.close();
});

async function newUser(name: string, groups: string[] = []): Promise<number> {
  const id = await db.insertUser({ name, displayName: name, email: `${name}@example.com`, issuer: 'https://idp.example', subject: `sub-${name}`, groups, created: at, lastSignIn: at });
  expect(id).not.toBeNull();
  return id!;
}

/** A key a person made, stored as the key use cases store one. */
async function personKey(userId: number, owner: string, scopes: KeyScope[] = ['push-new', 'push', 'unlist', 'read']): Promise<string> {
  const key = generateApiKey();
  await server.feed.accessDb.insertKey({
    keyId: `k${hashApiKey(key).slice(0, 10)}`,
    hash: hashApiKey(key),
    hint: key.slice(-4),
    name: `${owner}-key`,
    owner,
    scopes,
    patterns: [],
    created: at,
    createdBy: 'test',
    expires: null,
    lastUsed: null,
    revoked: null,
    feeds: null,
    userId,
  });
  return key;
}

const push = async (key: string, id: string, version = '1.0.0') => pushRaw(server.url, await buildNupkg({ id, version }), key);

describe('the people database', () => {
  it('keeps users and organisations in one namespace of owner names', async () => {
    expect(await db.insertOrg('platform', 'The platform team', at)).toBe(true);
    expect(await db.insertOrg('Platform', '', at)).toBe(false);
    const taken = await db.insertUser({ name: 'platform', displayName: '', email: null, issuer: 'https://idp.example', subject: 'x', groups: [], created: at, lastSignIn: null });
    expect(taken).toBeNull();
    const carol = await newUser('carol');
    expect(await db.insertOrg('carol', '', at)).toBe(false);
    expect(await db.isOwnerNameTaken('carol')).toBe(true);
    expect(await db.isOwnerNameTaken('nobody')).toBe(false);
    // The identity is the issuer and subject: the same subject again is refused.
    expect(await db.insertUser({ name: 'carol2', displayName: '', email: null, issuer: 'https://idp.example', subject: 'sub-carol', groups: [], created: at, lastSignIn: null })).toBeNull();
    expect((await db.findUserByIdentity('https://idp.example', 'sub-carol'))?.userId).toBe(carol);
  });

  it('replaces memberships from groups at sign-in and keeps the ones a person added', async () => {
    const dave = await newUser('dave');
    await db.insertOrg('web', '', at);
    await db.insertOrg('data', '', at);
    const web = (await db.findOrg('web'))!.orgId;
    const data = (await db.findOrg('data'))!.orgId;
    await db.putMember(web, dave, 'admin', 'direct');
    await db.replaceGroupMemberships(dave, [{ orgId: data, role: 'member' }, { orgId: web, role: 'member' }]);
    expect((await db.membershipsOf(dave)).map((m) => `${m.org}:${m.role}:${m.source}`)).toEqual(['data:member:groups', 'web:admin:direct']);
    await db.replaceGroupMemberships(dave, []);
    expect((await db.membershipsOf(dave)).map((m) => m.org)).toEqual(['web']);
  });

  it('gives a sign-in request to one callback only', async () => {
    const request = { stateHash: 'h'.repeat(64), provider: 'idp', nonce: 'n', codeVerifier: 'v', returnTo: '/', created: at };
    await db.insertSignInRequest(request);
    const [a, b] = await Promise.all([db.takeSignInRequest(request.stateHash), db.takeSignInRequest(request.stateHash)]);
    expect([a, b].filter((r) => r !== null)).toEqual([request]);
  });
});

describe('sessions', () => {
  it('end after the idle timeout and at the absolute end, and are gone once ended', async () => {
    let now = Date.parse(at);
    const sessions = new SessionStore(new KyselyPeopleDatabase(server.feed.hub.shared.kysely as never), { idleTimeoutMs: 60_000, maxAgeMs: 300_000 }, () => now);
    const erin = await newUser('erin');
    const { token } = await sessions.start({ userId: erin }, '127.0.0.1');
    expect((await sessions.resume(token))?.record.userId).toBe(erin);
    now += 59_000;
    expect(await sessions.resume(token)).not.toBeNull();
    now += 61_000;
    expect(await sessions.resume(token)).toBeNull();

    const second = await sessions.start({ userId: erin }, null);
    for (let i = 0; i < 5; i++) {
      now += 59_000;
      expect(await sessions.resume(second.token)).not.toBeNull();
    }
    now += 59_000;
    expect(await sessions.resume(second.token)).toBeNull();

    const third = await sessions.start({ userId: erin }, null);
    await sessions.end(third.token);
    expect(await sessions.resume(third.token)).toBeNull();
    expect(await sessions.resume('not-a-session')).toBeNull();
  });
});

describe('rights that follow a person', () => {
  it('cuts a person\'s key to their role on the feed, and disabling the person stops the key', async () => {
    const frank = await newUser('frank');
    const key = await personKey(frank, 'frank');
    // The default role on a feed that is not private is reader: reading yes, pushing no.
    const refused = await push(key, 'Frank.Lib');
    expect(refused.status).toBe(403);
    expect(await server.feed.db.listVersions('frank.lib')).toEqual([]);

    await db.putRole({ feedId: 1, kind: 'user', grantee: 'frank', role: 'contributor', created: at });
    server.feed.hub.shared.people.forget(frank);
    expect((await push(key, 'Frank.Lib')).status).toBe(201);

    await db.setUserDisabled(frank, at);
    server.feed.hub.shared.people.forget(frank);
    server.feed.auth.forget(`k${hashApiKey(key).slice(0, 10)}`);
    const disabled = await push(key, 'Frank.Lib', '2.0.0');
    expect(disabled.status).toBe(401);
    expect(disabled.statusText).toMatch(/disabled/);
  });

  it('lets members act for their organisation\'s ids, and a role granted to a group or organisation counts', async () => {
    const gina = await newUser('gina', ['eng']);
    const hal = await newUser('hal');
    await db.insertOrg('tools', '', at);
    const tools = (await db.findOrg('tools'))!.orgId;
    await db.putMember(tools, gina, 'member', 'direct');
    await db.putRole({ feedId: 1, kind: 'group', grantee: 'eng', role: 'contributor', created: at });
    await db.putRole({ feedId: 1, kind: 'org', grantee: 'tools', role: 'contributor', created: at });
    server.feed.hub.shared.people.forget();

    // A key for the organisation, made by a member: the id becomes the organisation's.
    const orgKey = await personKey(gina, 'tools');
    expect((await push(orgKey, 'Tools.Core')).status).toBe(201);
    expect((await server.feed.accessDb.registration('tools.core')).owners).toEqual(['tools']);
    // Her personal key acts for her organisations too.
    const ginaKey = await personKey(gina, 'gina');
    expect((await push(ginaKey, 'Tools.Core', '1.1.0')).status).toBe(201);
    // Hal is not a member: a contributor, but not an owner of the id.
    await db.putRole({ feedId: 1, kind: 'user', grantee: 'hal', role: 'contributor', created: at });
    server.feed.hub.shared.people.forget();
    const halKey = await personKey(hal, 'hal');
    const notOwner = await push(halKey, 'Tools.Core', '1.2.0');
    expect(notOwner.status).toBe(403);
    expect(notOwner.statusText).toMatch(/owned by tools/);

    // Gina leaves the organisation: the key made for it stops working.
    await db.removeMember(tools, gina);
    server.feed.hub.shared.people.forget();
    server.feed.auth.forget(`k${hashApiKey(orgKey).slice(0, 10)}`);
    const left = await push(orgKey, 'Tools.Core', '1.3.0');
    expect(left.status).toBe(401);
    expect(left.statusText).toMatch(/no longer a member of tools/);
  });
});
