/** The admin page of users (/admin/users) and `pawket users`, on a real server and its database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPawket } from '../../support/cli.js';
import { userCommands } from '../../../src/cli/users.js';
import { configSchema, type ConfigInput } from '../../../src/config/schema.js';
import { startTestServer, type TestServer } from '../../support/app.js';
import { freshBackendSettings } from '../../support/backend.js';
import { addMember, addUser, createFeed, grant, postForm, signInAs, signInWithKey, type Browser } from './people-support.js';

let server: TestServer;
let settings: Partial<ConfigInput>;
let daveId: number;
let erinId: number;
let admin: Browser;

beforeAll(async () => {
  settings = { ...(await freshBackendSettings()), badKeyLimit: 0, signIn: { admins: ['root'] } };
  server = await startTestServer(settings);
  await createFeed(server, 'dev');
  daveId = await addUser(server, 'dave');
  erinId = await addUser(server, 'erin');
  await addUser(server, 'root');
  await addMember(server, 'platform', daveId, 'admin');
  await grant(server, 'dev', 'dave', 'contributor');
  admin = await signInWithKey(server);
});
afterAll(async () => {
  await server?.close();
});

const usersPage = (browser: Browser | null) =>
  fetch(`${server.url}/admin/users`, { headers: browser ? { cookie: browser.cookie } : {}, redirect: 'manual' });

/** Runs `pawket ARGS` against the server's database; answers what it printed and the exit code it set. */
function pawket(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const configOf = (flags: { dataDir?: string }) => configSchema.parse({ ...settings, dataDir: flags.dataDir ?? server.dataDir, logLevel: 'silent' });
  return runPawket((program) => userCommands(program, configOf), server.dataDir, args);
}

describe('the users admin page', () => {
  it('is for server admins only', async () => {
    const anonymous = await usersPage(null);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/signin?returnTo=%2Fadmin%2Fusers');
    const dave = await signInAs(server, daveId);
    const refused = await usersPage(dave);
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain('erin@example.test');
    expect((await postForm(server, dave, '/admin/users/erin/disable')).status).toBe(403);
    expect((await server.feed.hub.shared.people.db.getUser(erinId))!.disabled).toBeNull();
  });

  it('lists users with their state and organisations', async () => {
    const res = await usersPage(admin);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toMatch(/<td><a href="\/admin\/users\/dave">dave<\/a><\/td>\s*<td>Dave<\/td>\s*<td>dave@example.test<\/td>\s*<td>https:\/\/idp.example.test<\/td>/);
    expect(body).toContain('<td>platform (admin)</td>');
    // root is an admin by the configuration: the page offers no button that could not take it away.
    expect(body).toMatch(/>root<\/a><\/td>[\s\S]*?<td>yes \(configuration\)<\/td>/);
  });

  it('disables a user (their sessions end), enables them, and changes the admin flag; each audited', async () => {
    // Two sessions of dave's (this one and the first test's): both end.
    const dave = await signInAs(server, daveId);
    const disabled = await postForm(server, admin, '/admin/users/dave/disable');
    expect(disabled.status).toBe(303);
    expect(disabled.headers.get('location')).toBe('/admin/users?done=disable&user=dave');
    const after = await fetch(`${server.url}${disabled.headers.get('location')}`, { headers: { cookie: admin.cookie } });
    expect(await after.text()).toContain('Disabled dave.');
    expect((await server.feed.hub.shared.people.db.getUser(daveId))!.disabled).not.toBeNull();
    expect((await fetch(`${server.url}/account/keys`, { headers: { cookie: dave.cookie }, redirect: 'manual' })).status).toBe(303);

    expect((await postForm(server, admin, '/admin/users/dave/enable')).status).toBe(303);
    expect((await server.feed.hub.shared.people.db.getUser(daveId))!.disabled).toBeNull();

    expect((await postForm(server, admin, '/admin/users/erin/admin')).status).toBe(303);
    expect((await server.feed.hub.shared.people.db.getUser(erinId))!.admin).toBe(true);
    // erin, now an admin, may not lock herself out.
    const erin = await signInAs(server, erinId);
    expect((await usersPage(erin)).status).toBe(200);
    expect((await postForm(server, erin, '/admin/users/erin/unadmin')).status).toBe(400);
    expect((await postForm(server, admin, '/admin/users/erin/unadmin')).status).toBe(303);
    expect((await server.feed.hub.shared.people.db.getUser(erinId))!.admin).toBe(false);

    const actions = (await server.feed.audit.list({ limit: 10 })).filter((e) => e.action.startsWith('user.')).map((e) => `${e.action} ${e.target} ${e.detail ?? ''}`.trim());
    expect(actions).toEqual(['user.admin erin no longer an admin', 'user.admin erin made an admin', 'user.enable dave', 'user.disable dave 2 session(s) ended']);
  });

  it('refuses a form without the CSRF token, and unknown users or actions', async () => {
    expect((await postForm(server, admin, '/admin/users/erin/disable', {}, { csrf: null })).status).toBe(403);
    expect((await server.feed.hub.shared.people.db.getUser(erinId))!.disabled).toBeNull();
    expect((await postForm(server, admin, '/admin/users/nobody/disable')).status).toBe(404);
    expect((await postForm(server, admin, '/admin/users/erin/delete')).status).toBe(404);
  });
});

describe('pawket users', () => {
  it('lists and shows users, with --json', async () => {
    const list = await pawket('users', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/dave +Dave +dave@example\.test +https:\/\/idp\.example\.test .* no +- +platform\(admin\)/);
    expect(list.stdout).toMatch(/root +Root .* yes \(config\)/);
    const json = JSON.parse((await pawket('users', 'list', '--json')).stdout) as Array<{ name: string; organisations: unknown[] }>;
    expect(json.find((u) => u.name === 'dave')!.organisations).toEqual([{ name: 'platform', role: 'admin', source: 'direct' }]);

    const shown = await pawket('users', 'show', 'Dave');
    expect(shown.stdout).toMatch(/User: +dave/);
    expect(shown.stdout).toMatch(/Organisations: platform\(admin\)/);
    const missing = await pawket('users', 'show', 'nobody');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('There is no user nobody.');
  });

  it('disables and enables a user: the running server ends their sessions and refuses their keys', async () => {
    const dave = await signInAs(server, daveId);
    const created = await postForm(server, dave, '/account/keys', { name: 'ci', owner: 'dave', days: '7', 'scopes[]': ['push-new'], 'feeds[]': ['dev'] });
    expect(created.status).toBe(200);
    const key = /<code class="new-key">(pwk_[A-Za-z0-9_-]+)<\/code>/.exec(await created.text())![1]!;
    const authenticate = () => server.feed.auth.authenticate(key).then(() => 'ok', (err: Error) => err.message);
    expect(await authenticate()).toBe('ok');

    const disabled = await pawket('users', 'disable', 'dave');
    expect(disabled.stdout).toMatch(/Disabled dave: 1 session\(s\) ended/);
    // The session is gone from the database at once; the server's key cache lets the key go within its 5 s.
    expect((await fetch(`${server.url}/account/keys`, { headers: { cookie: dave.cookie }, redirect: 'manual' })).status).toBe(303);
    server.feed.hub.shared.people.forget(daveId);
    expect(await authenticate()).toMatch(/no longer works: the account dave was disabled/);
    expect((await pawket('users', 'disable', 'dave')).stdout).toContain('dave was disabled already.');

    expect((await pawket('users', 'enable', 'dave')).stdout).toContain('Enabled dave.');
    server.feed.hub.shared.people.forget(daveId);
    expect(await authenticate()).toBe('ok');
    const show = JSON.parse((await pawket('users', 'show', 'dave', '--json')).stdout) as { disabled: string | null; keys: Array<{ name: string; status: string }> };
    expect(show.disabled).toBeNull();
    expect(show.keys).toMatchObject([{ name: 'ci', status: 'active' }]);
    const audit = await server.feed.audit.list({ limit: 2 });
    expect(audit.map((e) => e.action)).toEqual(['user.enable', 'user.disable']);
    expect(audit[0]!.actor).toMatch(/^cli \(/);
  });

  it('makes a user an admin and takes it away', async () => {
    expect((await pawket('users', 'update', 'erin', '--admin')).stdout).toContain('erin is a server admin.');
    expect((await server.feed.hub.shared.people.db.getUser(erinId))!.admin).toBe(true);
    const json = JSON.parse((await pawket('users', 'update', 'erin', '--no-admin', '--json')).stdout) as { admin: boolean };
    expect(json.admin).toBe(false);
    expect((await pawket('users', 'update', 'root', '--no-admin')).stdout).toContain('signIn.admins in the configuration still names them');
    const nothing = await pawket('users', 'update', 'erin');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('--admin or --no-admin');
  });
});

describe("a user's page", () => {
  it("shows an admin the user's keys, and revokes one from there", async () => {
    await grant(server, 'dev', 'erin', 'contributor');
    const erin = await signInAs(server, erinId);
    const created = await postForm(server, erin, '/account/keys', { name: 'erin-ci', owner: 'erin', days: '7', 'scopes[]': ['push-new'], 'feeds[]': ['dev'] });
    expect(created.status).toBe(200);
    const [record] = await server.feed.keys.listOf(erinId);

    expect((await fetch(`${server.url}/admin/users/erin`, { headers: { cookie: erin.cookie } })).status).toBe(403);
    const page = await (await fetch(`${server.url}/admin/users/erin`, { headers: { cookie: admin.cookie } })).text();
    expect(page).toContain('erin-ci<br><code>' + record!.keyId + '</code>');
    expect(page).toContain('<td>dev</td>');

    const revoked = await postForm(server, admin, `/account/keys/${record!.keyId}/revoke`, { returnTo: '/admin/users/erin' });
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get('location')).toBe(`/admin/users/erin?revoked=${record!.keyId}`);
    expect((await server.feed.keys.get(record!.keyId)).revoked).not.toBeNull();
    const after = await (await fetch(`${server.url}${revoked.headers.get('location')}`, { headers: { cookie: admin.cookie } })).text();
    expect(after).toContain(`Revoked the key ${record!.keyId}`);
    // An open redirect through returnTo goes home instead.
    const other = await postForm(server, erin, '/account/keys', { name: 'erin-2', owner: 'erin', days: '7', 'scopes[]': ['push-new'], 'feeds[]': ['dev'] });
    expect(other.status).toBe(200);
    const second = (await server.feed.keys.listOf(erinId)).find((k) => k.name === 'erin-2')!;
    const away = await postForm(server, admin, `/account/keys/${second.keyId}/revoke`, { returnTo: '//evil.example/x' });
    expect(away.headers.get('location')).toBe(`/?revoked=${second.keyId}`);
  });
});
