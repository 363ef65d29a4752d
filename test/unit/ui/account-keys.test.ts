/**
 * "My keys" (/account/keys) on a real server: a person makes keys within their rights only, sees each new key once,
 * revokes and rotates their own; keys they made stop when they are disabled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { addMember, addUser, createFeed, grant, postForm, signInAs, signInWithKey, type Browser } from './people-support.js';

let server: TestServer;
let aliceId: number;
let alice: Browser;
let bob: Browser;
let admin: Browser;

beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0 });
  await createFeed(server, 'dev');
  await createFeed(server, 'secret', { private: true });
  await createFeed(server, 'hidden', { private: true });
  aliceId = await addUser(server, 'alice');
  const bobId = await addUser(server, 'bob');
  await addMember(server, 'contoso', aliceId);
  await addUser(server, 'carol');
  await addMember(server, 'fabrikam', (await server.feed.hub.shared.people.db.findUser('carol'))!.userId);
  // alice: contributor on dev, reader on secret, and (signIn.defaultRole) a reader of the public default feed.
  await grant(server, 'dev', 'alice', 'contributor');
  await grant(server, 'secret', 'alice', 'reader');
  alice = await signInAs(server, aliceId);
  bob = await signInAs(server, bobId);
  admin = await signInWithKey(server);
});
afterAll(async () => {
  await server?.close();
});

const keysOfAlice = () => server.feed.keys.listOf(aliceId);

/** The key a result page shows once. */
async function shownKey(res: Response): Promise<string> {
  const body = await res.text();
  expect(res.status, body).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(body).toContain('only time the key is shown');
  return /<code class="new-key">(pwk_[A-Za-z0-9_-]+)<\/code>/.exec(body)![1]!;
}

async function createKey(browser: Browser, fields: Record<string, string | string[]>): Promise<Response> {
  return postForm(server, browser, '/account/keys', { name: 'ci', owner: 'alice', days: '30', ...fields });
}

const push = async (feedPath: string, key: string, id: string, version = '1.0.0') => pushRaw(`${server.url}${feedPath}`, await buildNupkg({ id, version }), key);
const readSecret = (key: string) => fetch(`${server.url}/f/secret/v3/search?q=`, { headers: { 'x-nuget-apikey': key } });

describe('My keys', () => {
  it('sends a visitor who is not signed in to the sign-in page', async () => {
    const res = await fetch(`${server.url}/account/keys`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/signin?returnTo=%2Faccount%2Fkeys');
  });

  it('tells someone signed in with an API key that keys belong to people', async () => {
    const page = await (await fetch(`${server.url}/account/keys`, { headers: { cookie: admin.cookie } })).text();
    expect(page).toContain('You signed in with an API key');
    const before = (await server.feed.keys.list()).length;
    const res = await postForm(server, admin, '/account/keys', { name: 'x', owner: 'admin', days: '1', 'scopes[]': ['read'], 'feeds[]': ['*'] });
    expect(res.status).toBe(403);
    expect((await server.feed.keys.list()).length).toBe(before);
  });

  it('creates a key within the person’s rights, shown once, that pushes to the feeds chosen only', async () => {
    const page = await (await fetch(`${server.url}/account/keys`, { headers: { cookie: alice.cookie } })).text();
    // The form offers the feeds alice has a role on, and her organisation as an owner.
    expect(page).toMatch(/value="dev"[^>]*> dev <span class="muted">\(you are a contributor\)/);
    expect(page).toContain('<option>contoso</option>');
    expect(page).not.toContain('value="*"');

    const key = await shownKey(await createKey(alice, { name: 'ci-dev', 'scopes[]': ['push-new', 'push'], 'feeds[]': ['dev'], patterns: 'Alice.*' }));
    const [record] = await keysOfAlice();
    expect(record).toMatchObject({ name: 'ci-dev', owner: 'alice', scopes: ['push-new', 'push'], patterns: ['Alice.*'], userId: aliceId, createdBy: 'alice' });
    expect(Date.parse(record!.expires!) - Date.parse(record!.created)).toBe(30 * 86_400_000);

    expect((await push('/f/dev', key, 'Alice.Lib')).status).toBe(201);
    // Not valid on the default feed, nor outside its patterns.
    expect((await push('', key, 'Alice.Other')).status).toBe(403);
    expect((await push('/f/dev', key, 'Other.Lib')).status).toBe(403);

    // The list shows it (never the key), with its hint; the audit log names alice.
    const list = await (await fetch(`${server.url}/account/keys`, { headers: { cookie: alice.cookie } })).text();
    expect(list).toContain(`…${key.slice(-4)}`);
    expect(list).not.toContain(key);
    const [entry] = await server.feed.audit.list({ limit: 1, action: 'key.create' });
    expect(entry).toMatchObject({ actor: 'alice', owner: 'alice', target: record!.keyId });
  });

  it('makes a staging-only key that stages on the chosen feed and may not push', async () => {
    const page = await (await fetch(`${server.url}/account/keys`, { headers: { cookie: alice.cookie } })).text();
    expect(page).toContain('value="stage"');
    const key = await shownKey(await createKey(alice, { name: 'ci-stage', 'scopes[]': ['stage'], 'feeds[]': ['dev'] }));
    expect((await push('/f/dev', key, 'Alice.Staged')).status).toBe(403);
    const form = new FormData();
    form.append('package', new Blob([new Uint8Array(await buildNupkg({ id: 'Alice.Staged', version: '1.0.0' }))]), 'x.nupkg');
    const staged = await fetch(`${server.url}/f/dev/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': key } });
    expect(staged.status).toBe(201);
    expect(((await staged.json()) as { owner: string }).owner).toBe('alice');
  });

  it('makes keys for an organisation the person is a member of', async () => {
    const key = await shownKey(await createKey(alice, { name: 'contoso-ci', owner: 'contoso', 'scopes[]': ['push-new'], 'feeds[]': ['dev'] }));
    expect((await push('/f/dev', key, 'Contoso.FromKey')).status).toBe(201);
    expect(await server.feed.hub.feed('dev').then((f) => f!.ownership.owners('Contoso.FromKey'))).toEqual(['contoso']);
  });

  it('refuses a key broader than the person’s rights with a 403 naming why, and creates nothing', async () => {
    const before = (await keysOfAlice()).length;
    const cases: Array<[Record<string, string | string[]>, RegExp]> = [
      // alice is a reader of the default feed: push is beyond it.
      [{ 'scopes[]': ['push'], 'feeds[]': ['default'] }, /on the feed default you are a reader, which does not allow push/],
      // No role on a private feed she was not given.
      [{ 'scopes[]': ['read'], 'feeds[]': ['dev', 'hidden'] }, /you have no role on the feed hidden/],
      [{ 'scopes[]': ['read'], 'feeds[]': ['*'] }, /every feed \(\*\) is for server admins/],
      [{ 'scopes[]': ['push'], 'feeds[]': ['dev'], owner: 'fabrikam' }, /the owner fabrikam is neither you nor an organisation you are a member of/],
      [{ 'scopes[]': ['admin'], 'feeds[]': ['dev'] }, /the admin scope is for server admins/],
    ];
    for (const [fields, reason] of cases) {
      const res = await createKey(alice, fields);
      const body = await res.text();
      expect(res.status, body).toBe(403);
      expect(body).toMatch(reason);
      expect(body).not.toContain('pwk_');
    }
    // bob has no role on the private feed at all.
    const bobRes = await postForm(server, bob, '/account/keys', { name: 'x', owner: 'bob', days: '30', 'scopes[]': ['read'], 'feeds[]': ['secret'] });
    expect(bobRes.status).toBe(403);
    expect(await bobRes.text()).toContain('you have no role on the feed secret');
    expect(await server.feed.keys.listOf((await server.feed.hub.shared.people.db.findUser('bob'))!.userId)).toEqual([]);
    expect((await keysOfAlice()).length).toBe(before);
  });

  it('bounds the expiry', async () => {
    const before = (await keysOfAlice()).length;
    for (const days of ['0', '366', 'never', '']) {
      const res = await createKey(alice, { 'scopes[]': ['read'], 'feeds[]': ['dev'], days });
      expect(res.status, days).toBe(days === '' ? 200 : 400);
      if (days === '') {
        const record = (await keysOfAlice()).at(-1)!;
        expect(Date.parse(record.expires!) - Date.parse(record.created)).toBe(90 * 86_400_000);
      }
    }
    expect((await keysOfAlice()).length).toBe(before + 1);
  });

  it('refuses a form without the session’s CSRF token, or from another site, and creates nothing', async () => {
    const before = (await keysOfAlice()).length;
    const fields = { 'scopes[]': ['read'], 'feeds[]': ['dev'] };
    expect((await createKey(alice, fields)).status).toBe(200);
    for (const res of [
      await postForm(server, alice, '/account/keys', { name: 'x', owner: 'alice', days: '1', ...fields }, { csrf: null }),
      await postForm(server, alice, '/account/keys', { name: 'x', owner: 'alice', days: '1', ...fields }, { csrf: bob.csrf }),
      await postForm(server, alice, '/account/keys', { name: 'x', owner: 'alice', days: '1', ...fields }, { headers: { 'sec-fetch-site': 'cross-site' } }),
      await postForm(server, alice, '/account/keys', { name: 'x', owner: 'alice', days: '1', ...fields }, { headers: { origin: 'https://evil.example' } }),
    ]) {
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('pwk_');
    }
    expect((await keysOfAlice()).length).toBe(before + 1);
    const [revokeKey] = await keysOfAlice();
    expect((await postForm(server, alice, `/account/keys/${revokeKey!.keyId}/revoke`, {}, { csrf: 'wrong' })).status).toBe(403);
    expect((await server.feed.keys.get(revokeKey!.keyId)).revoked).toBeNull();
  });

  it('rotates and revokes the person’s own keys; others’ only for admins', async () => {
    const key = await shownKey(await createKey(alice, { name: 'rotate-me', 'scopes[]': ['push-new'], 'feeds[]': ['dev'] }));
    const { keyId } = (await keysOfAlice()).find((k) => k.name === 'rotate-me')!;
    // bob may do neither.
    expect((await postForm(server, bob, `/account/keys/${keyId}/rotate`)).status).toBe(403);
    expect((await postForm(server, bob, `/account/keys/${keyId}/revoke`)).status).toBe(403);
    expect((await push('/f/dev', key, 'Alice.Rotate', '1.0.0')).status).toBe(201);

    const rotated = await shownKey(await postForm(server, alice, `/account/keys/${keyId}/rotate`));
    expect(rotated).not.toBe(key);
    expect((await push('/f/dev', key, 'Alice.Rotate', '2.0.0')).status).toBe(401);
    expect((await push('/f/dev', rotated, 'Alice.Rotate', '2.0.0')).status).toBe(201);
    expect((await server.feed.audit.list({ limit: 1, action: 'key.rotate' }))[0]).toMatchObject({ actor: 'alice', target: keyId });

    const revoked = await postForm(server, alice, `/account/keys/${keyId}/revoke`);
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get('location')).toBe(`/account/keys?revoked=${keyId}`);
    expect((await push('/f/dev', rotated, 'Alice.Rotate', '3.0.0')).status).toBe(401);
    expect((await server.feed.audit.list({ limit: 1, action: 'key.revoke' }))[0]).toMatchObject({ actor: 'alice', target: keyId });

    // An admin may revoke anyone's key.
    const other = await shownKey(await createKey(alice, { name: 'admin-revokes', 'scopes[]': ['push-new'], 'feeds[]': ['dev'] }));
    const otherId = (await keysOfAlice()).find((k) => k.name === 'admin-revokes')!.keyId;
    expect((await postForm(server, admin, `/account/keys/${otherId}/revoke`)).status).toBe(303);
    expect((await push('/f/dev', other, 'Alice.AdminRevoked')).status).toBe(401);
  });

  it('stops a disabled person’s keys (push and private reads) and sessions at once, and starts them again when enabled', async () => {
    const pushKey = await shownKey(await createKey(alice, { name: 'disable-push', 'scopes[]': ['push-new', 'push'], 'feeds[]': ['dev'] }));
    const readKey = await shownKey(await createKey(alice, { name: 'disable-read', 'scopes[]': ['read'], 'feeds[]': ['secret'] }));
    expect((await push('/f/dev', pushKey, 'Alice.Disabled', '1.0.0')).status).toBe(201);
    expect((await readSecret(readKey)).status).toBe(200);

    const disabled = await postForm(server, admin, '/admin/users/alice/disable');
    expect(disabled.status).toBe(303);
    expect((await push('/f/dev', pushKey, 'Alice.Disabled', '2.0.0')).status).toBe(401);
    expect((await readSecret(readKey)).status).toBe(401);
    // Her session ended: the page sends her to sign in.
    expect((await fetch(`${server.url}/account/keys`, { headers: { cookie: alice.cookie }, redirect: 'manual' })).status).toBe(303);
    expect((await server.feed.audit.list({ limit: 1, action: 'user.disable' }))[0]).toMatchObject({ target: 'alice', actor: 'configured key #1' });

    expect((await postForm(server, admin, '/admin/users/alice/enable')).status).toBe(303);
    expect((await push('/f/dev', pushKey, 'Alice.Disabled', '2.0.0')).status).toBe(201);
    expect((await readSecret(readKey)).status).toBe(200);
    alice = await signInAs(server, aliceId);
  });

  it('lets an admin make keys for every feed, and keys lose the admin scope with the person’s admin rights', async () => {
    await server.feed.hub.shared.people.db.setUserAdmin(aliceId, true);
    server.feed.hub.shared.people.forget(aliceId);
    const res = await createKey(alice, { name: 'admin-key', 'scopes[]': ['admin'], 'feeds[]': ['*'] });
    const key = await shownKey(res);
    const adminApi = () => fetch(`${server.url}/api/admin/keys`, { headers: { 'x-nuget-apikey': key } });
    expect((await adminApi()).status).toBe(200);
    // Made no longer an admin through the page (this node forgets what it knew of her at once).
    const admin2 = await signInWithKey(server);
    expect((await postForm(server, admin2, '/admin/users/alice/unadmin')).status).toBe(303);
    expect((await adminApi()).status).toBe(403);
  });
});
