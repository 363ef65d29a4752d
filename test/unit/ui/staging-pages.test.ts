/**
 * Owners' staged packages in the browser, against a real server: the staging page and a group's page show an owner's
 * staging and nobody else's; the staged file downloads for inspection; promote, delete and "remove from group" forms
 * act with the person's rights (no `stagingApiPromotion` needed), refuse without the session's CSRF token, and a
 * blocked group says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { getPage, postForm, signedInPerson, type SignedIn } from '../../support/signed-in-people.js';
import { corePackage, ID as CORE_ID, symbolsPackage } from '../symbols/fixtures.js';
import { createFeed, grant, signInWithKey } from './people-support.js';
import { createKey } from '../auth/support.js';

let server: TestServer;
let alice: SignedIn; // contributor; her CI key stages as alice
let bob: SignedIn; // contributor, another owner
let carol: SignedIn; // reader: may not stage
let admin: SignedIn;
const keys = { alice: '', bob: '' };
const bytes: Record<string, Buffer> = {};

/** Stages a package as the NuGet staging client sends it: multipart `package`, optional `groupId`. */
async function stage(key: string, id: string, version: string, groupId?: string, dependencies: Record<string, Array<[string, string]>> = {}): Promise<Buffer> {
  const nupkg = await buildNupkg({ id, version, dependencies });
  await stageFile(key, 'package', nupkg, groupId);
  return nupkg;
}

async function stageFile(key: string, kind: 'package' | 'symbols', file: Buffer, groupId?: string, feedPath = ''): Promise<void> {
  const form = new FormData();
  form.append(kind, new Blob([new Uint8Array(file)]), kind === 'package' ? 'x.nupkg' : 'x.snupkg');
  if (groupId !== undefined) form.append('groupId', groupId);
  const res = await fetch(`${server.url}${feedPath}/v3/staging/${kind}`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': key } });
  expect(res.status, await res.text()).toBe(201);
}

/** The versions restore would see, from the flat container. */
async function versions(id: string, feedPath = ''): Promise<string[]> {
  const res = await fetch(`${server.url}${feedPath}/v3/flatcontainer/${id.toLowerCase()}/index.json`);
  if (res.status === 404) return [];
  return ((await res.json()) as { versions: string[] }).versions;
}

/** What the staging API shows alice's key of one group: its status, and its members. */
async function groupState(groupId: string): Promise<{ status: number; members: string[] }> {
  const res = await fetch(`${server.url}/v3/staging/groups/${groupId}`, { headers: { 'x-nuget-apikey': keys.alice } });
  if (res.status !== 200) return { status: res.status, members: [] };
  const body = (await res.json()) as { items: Array<{ id: string; version: string }> };
  return { status: 200, members: body.items.map((i) => `${i.id} ${i.version}`).sort() };
}

const page = async (path: string, who: SignedIn | null) => {
  const res = await getPage(`${server.url}${path}`, who);
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
};
const post = (path: string, who: SignedIn | null, fields: Record<string, string> = {}, opts: { csrf?: string | null } = {}) =>
  postForm(`${server.url}${path}`, who, fields, opts);

beforeAll(async () => {
  server = await startTestServer();
  alice = await signedInPerson(server, 'alice', { role: 'contributor' });
  bob = await signedInPerson(server, 'bob', { role: 'contributor' });
  carol = await signedInPerson(server, 'carol');
  admin = await signedInPerson(server, 'root', { admin: true });
  keys.alice = await createKey(server, { owner: 'alice', scopes: ['stage'] });
  keys.bob = await createKey(server, { owner: 'bob', scopes: ['stage'] });
  bytes.core = await stage(keys.alice, 'Rel.Core', '1.0.0', 'release-1');
  await stage(keys.alice, 'Rel.Web', '1.0.0', 'release-1', { '': [['Rel.Core', '[1.0.0, )']] });
  await stage(keys.alice, 'Rel.Cli', '2.0.0-rc.1', 'release-1', { '': [['Rel.Core', '[1.0.0, )']] });
  await stage(keys.alice, 'Loose.Pkg', '1.0.0');
  await stage(keys.bob, 'Bob.Pkg', '1.0.0', 'bob-release');
});
afterAll(async () => {
  await server?.close();
});

describe('the staging pages', () => {
  it('show an owner her groups, with counts, and her packages in no group; the header links to them', async () => {
    const list = await page('/account/staging', alice);
    expect(list.status).toBe(200);
    expect(list.text).toContain('<a href="/account/staging">Staging</a>');
    expect(list.text).toContain('<a href="/account/staging/groups/release-1">release-1</a>');
    expect(list.text).toMatch(/data-group="release-1"><td>.*<\/td>\s*<td>3<\/td><td>yes<\/td>/);
    expect(list.text).toContain('data-staged="Loose.Pkg/1.0.0/package"');
    expect(list.text).not.toContain('Rel.Core</td>');
    expect(list.text).not.toContain('bob-release');
    expect(list.text).not.toContain('Bob.Pkg');
    expect(list.text).toContain(`${server.url}/v3/staging`);
  });

  it("show a group's members with status, blockers, dates and their forms, each carrying the session's token", async () => {
    const group = await page('/account/staging/groups/release-1', alice);
    expect(group.status).toBe(200);
    for (const [id, version] of [['Rel.Core', '1.0.0'], ['Rel.Web', '1.0.0'], ['Rel.Cli', '2.0.0-rc.1']]) {
      expect(group.text).toContain(`data-staged="${id}/${version}/package"`);
      expect(group.text).toContain(`href="/account/staging/package/${id}/${version}/download"`);
      expect(group.text).toContain(`action="/account/staging/package/${id}/${version}/promote"`);
      expect(group.text).toContain(`action="/account/staging/package/${id}/${version}/remove"`);
      expect(group.text).toContain(`action="/account/staging/package/${id}/${version}/delete"`);
    }
    expect(group.text).toContain('action="/account/staging/groups/release-1/promote"');
    expect(group.text).toContain('>Promote group</button>');
    expect(group.text).toContain('>Delete group</button>');
    expect(group.text).toContain(`<code id="preview-feed">${server.url}/v3/staging/preview/alice/release-1/index.json</code>`);
    expect(group.text).toContain(`name="_csrf" value="${alice.csrf}"`);
    expect(group.text).toMatch(/<td>ready<\/td><td><span class="muted">none<\/span><\/td><td>\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC<\/td>/);
  });

  it('send a visitor who is not signed in to sign in, and show a reader that their role does not stage', async () => {
    const anonymous = await page('/account/staging', null);
    expect(anonymous.status).toBe(303);
    expect(anonymous.location).toBe('/signin?returnTo=%2Faccount%2Fstaging');
    const reader = await page('/account/staging', carol);
    expect(reader.status).toBe(200);
    expect(reader.text).toContain('Your role on this feed does not let you stage or promote packages');
  });

  it('are 404 for another owner: the group page, the download, and the forms, with nothing changed', async () => {
    expect((await page('/account/staging/groups/release-1', bob)).status).toBe(404);
    const download = await fetch(`${server.url}/account/staging/package/Rel.Core/1.0.0/download`, { headers: { cookie: bob.cookie } });
    expect(download.status).toBe(404);
    expect((await post('/account/staging/groups/release-1/promote', bob)).status).toBe(404);
    expect((await post('/account/staging/groups/release-1/delete', bob, { confirm: 'yes' })).status).toBe(404);
    expect((await post('/account/staging/package/Rel.Core/1.0.0/delete', bob)).status).toBe(404);
    expect(await groupState('release-1')).toEqual({ status: 200, members: ['Rel.Cli 2.0.0-rc.1', 'Rel.Core 1.0.0', 'Rel.Web 1.0.0'] });
    // Bob sees his own.
    expect((await page('/account/staging/groups/bob-release', bob)).text).toContain('data-staged="Bob.Pkg/1.0.0/package"');
  });

  it('let an admin see every owner’s staging', async () => {
    const list = await page('/account/staging', admin);
    expect(list.text).toContain('release-1');
    expect(list.text).toContain('bob-release');
    expect((await page('/account/staging/groups/bob-release', admin)).status).toBe(200);
  });
});

describe('downloading a staged package', () => {
  it('gives its owner the staged bytes as an attachment that nothing caches', async () => {
    const res = await fetch(`${server.url}/account/staging/package/Rel.Core/1.0.0/download`, { headers: { cookie: alice.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="rel.core.1.0.0.nupkg"');
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.core!)).toBe(true);
  });

  it('is not there without a session, or for a kind that does not exist', async () => {
    const anonymous = await fetch(`${server.url}/account/staging/package/Rel.Core/1.0.0/download`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    const other = await fetch(`${server.url}/account/staging/other/Rel.Core/1.0.0/download`, { headers: { cookie: alice.cookie } });
    expect(other.status).toBe(404);
  });
});

describe('symbols and other feeds', () => {
  it('show a package’s staged symbols beside it, downloadable as .snupkg, and promote them with it', async () => {
    await stageFile(keys.alice, 'package', await corePackage(), 'with-symbols');
    const snupkg = await symbolsPackage();
    await stageFile(keys.alice, 'symbols', snupkg);
    const group = await page('/account/staging/groups/with-symbols', alice);
    expect(group.text).toContain(`data-staged="${CORE_ID}/1.0.0/symbols"`);
    expect(group.text).toContain(`href="/account/staging/symbols/${CORE_ID}/1.0.0/download"`);
    // Symbols go with their package: no promote or remove form of their own.
    expect(group.text).not.toContain(`action="/account/staging/symbols/${CORE_ID}/1.0.0/promote"`);
    const res = await fetch(`${server.url}/account/staging/symbols/${CORE_ID}/1.0.0/download`, { headers: { cookie: alice.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${CORE_ID.toLowerCase()}.1.0.0.snupkg"`);
    expect(Buffer.from(await res.arrayBuffer()).equals(snupkg)).toBe(true);
    expect((await post(`/account/staging/package/${CORE_ID}/1.0.0/promote`, alice)).status).toBe(303);
    expect(await versions(CORE_ID)).toEqual(['1.0.0']);
    expect((await fetch(`${server.url}/account/staging/symbols/${CORE_ID}/1.0.0/download`, { headers: { cookie: alice.cookie } })).status).toBe(404);
  });

  it('keep each feed’s staging on its own pages, with links under its prefix', async () => {
    await createFeed(server, 'dev');
    await grant(server, 'dev', 'alice', 'contributor');
    await stageFile(keys.alice, 'package', await buildNupkg({ id: 'Dev.Only', version: '1.0.0' }), 'dev-release', '/f/dev');
    const list = await page('/f/dev/account/staging', alice);
    expect(list.status).toBe(200);
    expect(list.text).toContain('<a href="/f/dev/account/staging/groups/dev-release">dev-release</a>');
    expect(list.text).toContain('<a href="/f/dev/account/staging">Staging</a>');
    expect((await page('/account/staging', alice)).text).not.toContain('dev-release');
    expect((await page('/account/staging/groups/dev-release', alice)).status).toBe(404);
    expect((await page('/f/dev/account/staging/groups/dev-release', null)).location).toBe(`/signin?returnTo=${encodeURIComponent('/f/dev/account/staging/groups/dev-release')}`);
    const res = await post('/f/dev/account/staging/groups/dev-release/promote', alice);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/f\/dev\/account\/staging\?done=group-promoted/);
    expect(await versions('Dev.Only', '/f/dev')).toEqual(['1.0.0']);
    expect(await versions('Dev.Only')).toEqual([]);
  });

  it('say only ids, versions and group ids in a notice: a crafted link does not put words on the page', async () => {
    const crafted = await page(`/account/staging?done=promoted&what=${encodeURIComponent('Your account is locked: call +1 555')}`, alice);
    expect(crafted.text).not.toContain('locked');
    expect(crafted.text).toContain('The package promoted');
  });
});

describe('the staging forms', () => {
  it('refuse a form without the session’s token (403), with nothing changed', async () => {
    const res = await post('/account/staging/groups/release-1/promote', alice, {}, { csrf: null });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('security token does not match');
    const deleted = await post('/account/staging/package/Rel.Web/1.0.0/delete', alice, {}, { csrf: 'not-the-token' });
    expect(deleted.status).toBe(403);
    expect(await versions('Rel.Core')).toEqual([]);
    expect(await groupState('release-1')).toEqual({ status: 200, members: ['Rel.Cli 2.0.0-rc.1', 'Rel.Core 1.0.0', 'Rel.Web 1.0.0'] });
  });

  it('refuse a blocked group’s promotion with 409 and the blocker, and the group page says why first', async () => {
    await stage(keys.alice, 'Blocked.One', '1.0.0', 'blocked');
    await stage(keys.alice, 'Blocked.Two', '1.0.0', 'blocked');
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Blocked.Two', version: '1.0.0', description: 'pushed directly' }))).status).toBe(201);
    const group = await page('/account/staging/groups/blocked', alice);
    expect(group.text).toContain('This group cannot be promoted.');
    expect(group.text).toContain('Blocked.Two 1.0.0 was published on this feed after it was staged.');
    const refused = await post('/account/staging/groups/blocked/promote', alice);
    expect(refused.status).toBe(409);
    const text = await refused.text();
    expect(text).toContain('Not possible');
    expect(text).toMatch(/Blocked\.Two 1\.0\.0/);
    expect(text).toContain('href="/account/staging/groups/blocked"');
    expect(await versions('Blocked.One')).toEqual([]);
  });

  it('refuse promotion to a reader (403), and to someone signed in with a staging-only key, who still sees the staging (403)', async () => {
    expect((await post('/account/staging/groups/release-1/promote', carol)).status).toBe(403);
    const ci = await signInWithKey(server, keys.alice);
    const ciBrowser: SignedIn = { name: 'ci', userId: 0, cookie: ci.cookie, csrf: ci.csrf };
    expect((await page('/account/staging', ciBrowser)).text).toContain('data-group="release-1"');
    const refused = await post('/account/staging/groups/release-1/promote', ciBrowser);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Not allowed');
    expect(await versions('Rel.Core')).toEqual([]);
    expect(await groupState('release-1')).toEqual({ status: 200, members: ['Rel.Cli 2.0.0-rc.1', 'Rel.Core 1.0.0', 'Rel.Web 1.0.0'] });
  });

  it('promote a whole group from the browser: 303 back with the outcome, every package restorable, the group gone', async () => {
    const res = await post('/account/staging/groups/release-1/promote', alice);
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/account\/staging\?done=group-promoted&what=/);
    expect(await versions('Rel.Core')).toEqual(['1.0.0']);
    expect(await versions('Rel.Web')).toEqual(['1.0.0']);
    expect(await versions('Rel.Cli')).toEqual(['2.0.0-rc.1']);
    expect((await groupState('release-1')).status).toBe(404);
    const after = await page(location, alice);
    expect(after.text).toContain('Group release-1 (3 packages) promoted: its packages are published on this feed now.');
    expect(after.text).not.toContain('data-group="release-1"');
    // The person promoted: the audit log names her.
    const audit = await server.feed.audit.list({ limit: 50 });
    expect(audit.some((e) => e.actor === 'alice' && /promote/.test(e.action))).toBe(true);
  });

  it('promote one package in no group', async () => {
    const res = await post('/account/staging/package/Loose.Pkg/1.0.0/promote', alice);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/account/staging?done=promoted&what=${encodeURIComponent('Loose.Pkg 1.0.0')}`);
    expect(await versions('Loose.Pkg')).toEqual(['1.0.0']);
  });

  it('take a package out of its group (it stays staged), delete a member, and delete a group with what is left in it', async () => {
    await stage(keys.alice, 'Trash.One', '1.0.0', 'trash');
    await stage(keys.alice, 'Trash.Two', '1.0.0', 'trash');
    await stage(keys.alice, 'Trash.Three', '1.0.0', 'trash');

    const removed = await post('/account/staging/package/Trash.One/1.0.0/remove', alice);
    expect(removed.status).toBe(303);
    expect(removed.headers.get('location')).toBe(`/account/staging/groups/trash?done=removed&what=${encodeURIComponent('Trash.One 1.0.0')}`);
    expect(await groupState('trash')).toEqual({ status: 200, members: ['Trash.Three 1.0.0', 'Trash.Two 1.0.0'] });
    expect((await page('/account/staging', alice)).text).toContain('data-staged="Trash.One/1.0.0/package"');

    const deleted = await post('/account/staging/package/Trash.Two/1.0.0/delete', alice);
    expect(deleted.status).toBe(303);
    expect(await groupState('trash')).toEqual({ status: 200, members: ['Trash.Three 1.0.0'] });
    const api = await fetch(`${server.url}/v3/staging/package/Trash.Two/1.0.0`, { headers: { 'x-nuget-apikey': keys.alice } });
    expect(api.status).toBe(404);

    // Deleting a group takes its packages: the form asks to tick that first.
    expect((await post('/account/staging/groups/trash/delete', alice)).status).toBe(400);
    expect((await groupState('trash')).status).toBe(200);
    const gone = await post('/account/staging/groups/trash/delete', alice, { confirm: 'yes' });
    expect(gone.status).toBe(303);
    expect(gone.headers.get('location')).toBe('/account/staging?done=group-deleted&what=trash');
    expect((await groupState('trash')).status).toBe(404);
    expect((await fetch(`${server.url}/v3/staging/package/Trash.Three/1.0.0`, { headers: { 'x-nuget-apikey': keys.alice } })).status).toBe(404);
    for (const id of ['Trash.One', 'Trash.Two', 'Trash.Three']) expect(await versions(id)).toEqual([]);
  });

  it('refuse a form from a visitor who is not signed in', async () => {
    const res = await post('/account/staging/package/Trash.One/1.0.0/promote', null);
    expect(res.status).toBe(401);
    expect(await versions('Trash.One')).toEqual([]);
  });
});
