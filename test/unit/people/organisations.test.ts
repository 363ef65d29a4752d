/**
 * Organisations and roles per feed on a real server: pages a signed-in person uses (forms with the session's CSRF
 * token), the admin API, and what the rights they give let a person's session and keys do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedAdmin } from '../../../src/feed/feed-admin.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { keyFor, TEST_ADMIN } from '../auth/support.js';
import { browse, personKey, signedInPerson, submit, type SignedIn } from './support.js';

let server: TestServer;
let alice: SignedIn;
let bob: SignedIn;
let carol: SignedIn;
let dave: SignedIn;
let erin: SignedIn;
let root: SignedIn;

beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0 });
  const feeds = new FeedAdmin(server.feed.hub);
  await feeds.create(TEST_ADMIN, { name: 'dev', settings: { private: true } });
  await feeds.create(TEST_ADMIN, { name: 'staging', settings: { private: true } });
  alice = await signedInPerson(server, 'alice');
  bob = await signedInPerson(server, 'bob');
  carol = await signedInPerson(server, 'carol');
  dave = await signedInPerson(server, 'dave', { groups: ['platform-team'] });
  erin = await signedInPerson(server, 'erin');
  root = await signedInPerson(server, 'root', { admin: true });
});
afterAll(async () => {
  await server?.close();
});

function api(method: string, path: string, body?: unknown, key: string = TEST_KEY) {
  return fetch(`${server.url}/api/admin${path}`, {
    method,
    headers: { 'x-nuget-apikey': key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}

const push = async (key: string, id: string, version: string, feedPath = '') => pushRaw(`${server.url}${feedPath}`, await buildNupkg({ id, version }), key);
const unlist = (key: string, id: string, version: string) =>
  fetch(`${server.url}/api/v2/package/${id}/${version}`, { method: 'DELETE', headers: { 'x-nuget-apikey': key } });
const members = async (org: string) => {
  const found = await server.feed.hub.shared.people.db.findOrg(org);
  return (await server.feed.hub.shared.people.db.members(found!.orgId)).map((m) => `${m.user}:${m.role}:${m.source}`).sort();
};
const roles = async (feed: string) => {
  const id = server.feed.hub.definition(feed)!.id;
  return (await server.feed.hub.shared.people.db.listRoles(id)).map((g) => `${g.kind}:${g.grantee}:${g.role}`).sort();
};

describe('organisations in the browser', () => {
  it('lets a signed-in person create an organisation and become its admin; a taken owner name is refused', async () => {
    const created = await submit(server, alice, '/orgs', { name: 'Contoso', description: 'The Contoso team' });
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/orgs/contoso?done=created');
    expect(await members('contoso')).toEqual(['alice:admin:direct']);
    const page = await (await browse(server, alice, '/orgs/contoso?done=created')).text();
    expect(page).toContain('The Contoso team');
    expect(page).toContain('you are its admin');
    expect(page).toMatch(/<label for="member-user">User<\/label>/);
    expect(page).toMatch(/<label for="member-role">Role<\/label>/);
    expect(page).toContain('>Add member</button>');

    const taken = await submit(server, bob, '/orgs', { name: 'alice' });
    expect(taken.status).toBe(409);
    expect(await taken.text()).toMatch(/alice is taken by a user or an organisation/);
    expect((await browse(server, null, '/orgs')).status).toBe(303);
    // Another person neither sees it in their list nor opens its page.
    expect(await (await browse(server, bob, '/orgs')).text()).not.toContain('/orgs/contoso');
    expect((await browse(server, bob, '/orgs/contoso')).status).toBe(404);
  });

  it("an org admin adds a member, who then pushes and unlists the organisation's id with their key", async () => {
    // Contoso may contribute to the default feed; Contoso.Lib is contoso's.
    expect((await api('PUT', '/feeds/default/roles', { kind: 'org', grantee: 'contoso', role: 'contributor' })).status).toBe(200);
    expect((await push(TEST_KEY, 'Contoso.Lib', '1.0.0')).status).toBe(201);
    expect((await api('PUT', '/owners/Contoso.Lib/contoso')).status).toBe(200);
    const bobKey = await personKey(server, bob, 'bob');
    expect((await push(bobKey, 'Contoso.Lib', '1.0.1')).status).toBe(403);

    const added = await submit(server, alice, '/orgs/contoso/members', { user: 'bob', role: 'member' });
    expect(added.status).toBe(303);
    expect(added.headers.get('location')).toBe('/orgs/contoso?done=added');
    expect(await members('contoso')).toEqual(['alice:admin:direct', 'bob:member:direct']);
    const page = await (await browse(server, alice, '/orgs/contoso')).text();
    expect(page).toMatch(/<td>bob<\/td><td>member<\/td><td>added here<\/td>/);
    expect(page).toContain('contoso.lib');

    expect((await push(bobKey, 'Contoso.Lib', '1.0.1')).status).toBe(201);
    expect((await unlist(bobKey, 'Contoso.Lib', '1.0.0')).status).toBe(200);
    // And now bob sees it among his organisations.
    expect(await (await browse(server, bob, '/orgs')).text()).toContain('href="/orgs/contoso"');
  });

  it('refuses a member who is not an admin of the organisation: 403, nothing changed', async () => {
    const page = await (await browse(server, bob, '/orgs/contoso')).text();
    expect(page).not.toContain('Add member');
    const refused = await submit(server, bob, '/orgs/contoso/members', { user: 'carol', role: 'admin' });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/Only an admin of contoso/);
    expect((await submit(server, bob, '/orgs/contoso/members/alice/remove', {})).status).toBe(403);
    expect(await members('contoso')).toEqual(['alice:admin:direct', 'bob:member:direct']);
  });

  it('never removes or demotes the last admin', async () => {
    const demote = await submit(server, alice, '/orgs/contoso/members/alice', { role: 'member' });
    expect(demote.status).toBe(409);
    expect(await demote.text()).toMatch(/alice is the last admin of contoso/);
    expect((await submit(server, alice, '/orgs/contoso/members/alice/remove', {})).status).toBe(409);
    expect((await api('DELETE', '/orgs/contoso/members?user=alice')).status).toBe(409);
    expect(await members('contoso')).toEqual(['alice:admin:direct', 'bob:member:direct']);

    // With a second admin, the first may leave.
    expect((await submit(server, alice, '/orgs/contoso/members/bob', { role: 'admin' })).status).toBe(303);
    const left = await submit(server, alice, '/orgs/contoso/members/alice/remove', {});
    expect(left.status).toBe(303);
    expect(left.headers.get('location')).toBe('/orgs?done=left');
    expect(await members('contoso')).toEqual(['bob:admin:direct']);
    expect((await submit(server, bob, '/orgs/contoso/members', { user: 'alice', role: 'admin' })).status).toBe(303);
  });

  it('refuses forms without the session token or from another site: 403, nothing changed', async () => {
    const before = await members('contoso');
    expect((await submit(server, alice, '/orgs/contoso/members', { user: 'carol' }, { csrf: null })).status).toBe(403);
    expect((await submit(server, alice, '/orgs/contoso/members', { user: 'carol' }, { csrf: 'forged' })).status).toBe(403);
    expect((await submit(server, alice, '/orgs/contoso/members', { user: 'carol' }, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect((await submit(server, alice, '/orgs/contoso/members', { user: 'carol' }, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await submit(server, root, '/admin/feeds/dev/roles', { kind: 'user', grantee: 'carol', role: 'owner' }, { csrf: alice.csrf })).status).toBe(403);
    expect(await members('contoso')).toEqual(before);
    expect(await roles('dev')).toEqual([]);
  });
});

describe('roles per feed', () => {
  it("a role granted to a group applies to people with that group claim and to the keys they made; revoking takes it away", async () => {
    const daveKey = await personKey(server, dave, 'dave');
    expect((await browse(server, dave, '/f/dev/')).status).not.toBe(200);
    expect((await push(daveKey, 'Platform.Tools', '1.0.0', '/f/dev')).status).toBe(403);

    expect((await api('PUT', '/feeds/dev/roles', { kind: 'group', grantee: 'platform-team', role: 'contributor' })).status).toBe(200);
    expect((await browse(server, dave, '/f/dev/')).status).toBe(200);
    expect((await push(daveKey, 'Platform.Tools', '1.0.0', '/f/dev')).status).toBe(201);
    // Someone without the group still has no role there.
    expect((await browse(server, carol, '/f/dev/')).status).not.toBe(200);

    const revoked = await api('DELETE', '/feeds/dev/roles', { kind: 'group', grantee: 'platform-team' });
    expect(revoked.status).toBe(200);
    expect((await browse(server, dave, '/f/dev/')).status).not.toBe(200);
    expect((await push(daveKey, 'Platform.Tools', '1.0.1', '/f/dev')).status).toBe(403);
  });

  it("a role granted to an organisation applies to its members, and not after they leave", async () => {
    expect((await browse(server, bob, '/f/staging/')).status).not.toBe(200);
    expect((await api('PUT', '/feeds/staging/roles', { kind: 'org', grantee: 'contoso', role: 'reader' })).status).toBe(200);
    expect((await browse(server, bob, '/f/staging/')).status).toBe(200);
    expect((await browse(server, carol, '/f/staging/')).status).not.toBe(200);
    expect((await api('PUT', '/orgs/contoso/members', { user: 'carol', role: 'member' })).status).toBe(200);
    expect((await browse(server, carol, '/f/staging/')).status).toBe(200);
    expect((await api('DELETE', '/orgs/contoso/members', { user: 'carol' })).status).toBe(200);
    expect((await browse(server, carol, '/f/staging/')).status).not.toBe(200);
  });

  it("a feed's owner manages that feed's roles and settings, and no other feed's", async () => {
    expect((await browse(server, erin, '/admin/feeds')).status).toBe(403);
    expect((await api('PUT', '/feeds/dev/roles', { kind: 'user', grantee: 'erin', role: 'owner' })).status).toBe(200);
    const page = await (await browse(server, erin, '/admin/feeds')).text();
    expect(page).toContain('id="feed-dev"');
    expect(page).not.toContain('id="feed-staging"');
    expect(page).not.toContain('id="feed-default"');

    const granted = await submit(server, erin, '/admin/feeds/dev/roles', { kind: 'user', grantee: 'carol', role: 'reader' });
    expect(granted.status).toBe(303);
    expect(await roles('dev')).toEqual(['user:carol:reader', 'user:erin:owner']);
    expect((await browse(server, carol, '/f/dev/')).status).toBe(200);

    const stagingBefore = await roles('staging');
    const elsewhere = await submit(server, erin, '/admin/feeds/staging/roles', { kind: 'user', grantee: 'erin', role: 'owner' });
    expect(elsewhere.status).toBe(403);
    expect(await roles('staging')).toEqual(stagingBefore);

    expect((await submit(server, erin, '/admin/feeds/dev/settings', { setting: 'allowOverwrite', value: 'true' })).status).toBe(303);
    expect(server.feed.hub.definition('dev')!.settings.allowOverwrite).toBe(true);
    const quota = await submit(server, erin, '/admin/feeds/dev/settings', { setting: 'quotaBytes', value: '1' });
    expect(quota.status).toBe(403);
    expect(server.feed.hub.definition('dev')!.settings.quotaBytes).toBeUndefined();
    expect((await browse(server, erin, '/admin/prefixes')).status).toBe(403);
    expect((await browse(server, erin, '/admin/audit')).status).toBe(403);

    const revoked = await submit(server, erin, '/admin/feeds/dev/roles/revoke', { kind: 'user', grantee: 'carol' });
    expect(revoked.status).toBe(303);
    expect((await browse(server, carol, '/f/dev/')).status).not.toBe(200);
  });
});

describe('admin pages and API', () => {
  it('shows the admin pages to admins: feeds with roles, prefixes (reserve, release), the audit log with filters', async () => {
    expect((await browse(server, alice, '/admin')).status).toBe(403);
    const index = await (await browse(server, root, '/admin')).text();
    for (const href of ['/admin/users', '/admin/feeds', '/admin/prefixes', '/admin/audit']) expect(index).toContain(`href="${href}"`);
    const feeds = await (await browse(server, root, '/admin/feeds')).text();
    for (const f of ['default', 'dev', 'staging']) expect(feeds).toContain(`id="feed-${f}"`);
    expect(feeds).toContain('<td>org</td><td>contoso</td><td>reader</td>');

    expect((await submit(server, root, '/admin/prefixes', { feed: 'dev', pattern: 'Platform.*', owner: 'dave' })).status).toBe(303);
    expect(await (await browse(server, root, '/admin/prefixes')).text()).toContain('<td>platform.*</td><td>dave</td>');
    expect((await submit(server, root, '/admin/prefixes/release', { feed: 'dev', pattern: 'platform.*' })).status).toBe(303);
    expect(await (await browse(server, root, '/admin/prefixes')).text()).not.toContain('<td>platform.*</td>');

    const audit = await (await browse(server, root, '/admin/audit?feed=dev&action=role.grant')).text();
    expect(audit).toContain('group:platform-team');
    expect(audit).toContain('<td>erin</td>');
    expect(audit).not.toContain('<td>org.create</td>');
    const byAlice = await (await browse(server, root, '/admin/audit?who=alice')).text();
    expect(byAlice).toContain('org.create');
    expect(byAlice).toContain('org.member.add');
    expect(byAlice).not.toContain('<td>role.grant</td>');
  });

  it('pages the audit log back in time, keeping the filters', async () => {
    for (let i = 0; i < 30; i++) {
      expect((await api('PUT', '/feeds/staging/roles', { kind: 'user', grantee: 'erin', role: i % 2 ? 'reader' : 'owner' })).status).toBe(200);
      expect((await api('DELETE', '/feeds/staging/roles', { kind: 'user', grantee: 'erin' })).status).toBe(200);
    }
    const rows = (page: string) => page.match(/<td>role\.(grant|revoke)<\/td>/g)?.length ?? 0;
    const newest = await (await browse(server, root, '/admin/audit?feed=staging&target=user%3Aerin')).text();
    expect(rows(newest)).toBe(50);
    const older = /href="(\/admin\/audit\?[^"]+)">Older entries/.exec(newest)?.[1]?.replace(/&amp;/g, '&');
    expect(older).toMatch(/feed=staging&target=user%3Aerin&before=\d+$/);
    const rest = await (await browse(server, root, older!)).text();
    expect(rows(rest)).toBe(10);
    expect(rest).not.toContain('Older entries');
  });

  it('manages organisations, members, users and roles over JSON with an admin key', async () => {
    const pusher = await keyFor(server, 'ops', ['push']);
    expect((await api('GET', '/orgs', undefined, pusher)).status).toBe(403);

    const created = await api('POST', '/orgs', { name: 'Fabrikam', description: 'F', admin: 'carol' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'fabrikam', members: [{ user: 'carol', role: 'admin', source: 'direct' }] });
    expect(((await (await api('GET', '/orgs')).json()) as { orgs: Array<{ name: string }> }).orgs.map((o) => o.name)).toEqual(
      expect.arrayContaining(['contoso', 'fabrikam']),
    );
    expect((await api('PUT', '/orgs/fabrikam/members', { user: 'dave', role: 'member' })).status).toBe(200);
    expect((await api('PUT', '/orgs/fabrikam/members', { user: 'nobody', role: 'member' })).status).toBe(404);
    expect((await api('PUT', '/orgs/fabrikam/members', { user: 'dave', role: 'boss' })).status).toBe(400);
    const shown = (await (await api('GET', '/orgs/fabrikam')).json()) as { members: Array<{ user: string; role: string }> };
    expect(shown.members.map((m) => `${m.user}:${m.role}`)).toEqual(['carol:admin', 'dave:member']);
    expect((await api('DELETE', '/orgs/fabrikam/members', { user: 'carol' })).status).toBe(409);
    expect((await api('DELETE', '/orgs/fabrikam/members', { user: 'dave' })).status).toBe(200);

    const users = (await (await api('GET', '/users')).json()) as { users: Array<{ name: string; admin: boolean; groups: string[] }> };
    expect(users.users.find((u) => u.name === 'dave')).toMatchObject({ admin: false, groups: ['platform-team'] });
    expect(users.users.find((u) => u.name === 'root')).toMatchObject({ admin: true });

    expect((await api('PUT', '/feeds/staging/roles', { kind: 'org', grantee: 'fabrikam', role: 'owner' })).status).toBe(200);
    expect((await api('PUT', '/feeds/staging/roles', { kind: 'org', grantee: 'nobody', role: 'owner' })).status).toBe(404);
    expect((await api('PUT', '/feeds/nowhere/roles', { kind: 'org', grantee: 'fabrikam', role: 'owner' })).status).toBe(404);
    const listed = (await (await api('GET', '/feeds/staging/roles')).json()) as { roles: Array<{ kind: string; grantee: string; role: string }> };
    expect(listed.roles.map((g) => `${g.kind}:${g.grantee}:${g.role}`).sort()).toEqual(['org:contoso:reader', 'org:fabrikam:owner']);
    expect((await api('DELETE', '/feeds/staging/roles?kind=org&grantee=fabrikam')).status).toBe(200);
    expect((await api('DELETE', '/feeds/staging/roles?kind=org&grantee=fabrikam')).status).toBe(404);

    // An organisation that holds a prefix or owns an id is not deleted; the refusal names them.
    expect((await api('POST', '/prefixes', { pattern: 'Fabrikam.*', owner: 'fabrikam' })).status).toBe(201);
    const refused = await api('DELETE', '/orgs/fabrikam');
    expect(refused.status).toBe(409);
    expect(await refused.text()).toMatch(/on feed 'default' it holds the prefix fabrikam\.\*/);
    expect((await api('DELETE', '/orgs/contoso')).status).toBe(409);
    expect((await api('DELETE', '/prefixes/fabrikam.*')).status).toBe(200);
    expect((await api('DELETE', '/orgs/fabrikam')).status).toBe(200);
    expect((await api('GET', '/orgs/fabrikam')).status).toBe(404);

    const audit = (await (await api('GET', '/audit?action=org.delete')).json()) as { entries: Array<{ target: string; actor: string }> };
    expect(audit.entries.map((e) => e.target)).toEqual(['fabrikam']);
  });
});
