/**
 * Owners managing their ids in the browser, against a real server: the package page's Manage section and its forms
 * (unlist, relist, delete, deprecate, owners), "My packages", rights by role and ownership (people and their
 * organisations), CSRF, and the audit log naming the person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/db/access-database.js';
import { operatorPrincipal } from '../../../src/feed/auth.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { getPage, postForm, signedInPerson, type SignedIn } from '../../support/signed-in-people.js';
import { keyFor, snapshot, TEST_ADMIN } from '../auth/support.js';

let server: TestServer;
let alice: SignedIn; // contributor, owns Alice.*
let carol: SignedIn; // reader (the default role), owns Carol.Lib
let dave: SignedIn; // contributor, member of contoso, which owns Contoso.Lib
let admin: SignedIn;

/** Pushes versions of an id (with the configured admin key) and gives the id to `owners` alone. */
async function packageOf(s: TestServer, id: string, versions: readonly string[], owners: readonly string[]) {
  for (const version of versions) expect((await pushRaw(s.url, await buildNupkg({ id, version }))).status).toBe(201);
  for (const owner of owners) await s.feed.ownership.addOwner(TEST_ADMIN, id, owner);
  await s.feed.ownership.removeOwner(TEST_ADMIN, id, 'admin');
}

async function registrationEntry(s: TestServer, id: string, version: string) {
  const res = await fetch(`${s.url}/v3/registration/${id.toLowerCase()}/index.json`);
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { items: Array<{ items: Array<{ catalogEntry: Record<string, unknown> & { version: string } }> }> };
  return doc.items.flatMap((page) => page.items).find((leaf) => leaf.catalogEntry.version === version)?.catalogEntry;
}

async function lastAudit(s: TestServer, action: string): Promise<AuditEntry | undefined> {
  return (await s.feed.audit.list({ limit: 20, action }))[0];
}

const form = (id: string, version: string, action: string) => `${server.url}/packages/${id}/${version}/${action}`;

beforeAll(async () => {
  server = await startTestServer();
  alice = await signedInPerson(server, 'alice', { role: 'contributor' });
  carol = await signedInPerson(server, 'carol');
  dave = await signedInPerson(server, 'dave', { role: 'contributor', orgs: ['contoso'] });
  admin = await signedInPerson(server, 'root', { admin: true });
  await signedInPerson(server, 'bob', { role: 'contributor' });
  await packageOf(server, 'Alice.Lib', ['1.0.0', '2.0.0'], ['alice']);
  await packageOf(server, 'Alice.Owners', ['1.0.0'], ['alice']);
  await packageOf(server, 'Bob.Lib', ['1.0.0'], ['bob']);
  await packageOf(server, 'Carol.Lib', ['1.0.0'], ['carol']);
  await packageOf(server, 'Contoso.Lib', ['1.0.0'], ['contoso']);
});
afterAll(async () => {
  await server?.close();
});

describe('the Manage section of a package page', () => {
  it('is shown to an owner with a contributor role, with the forms of the version shown', async () => {
    const page = await (await getPage(`${server.url}/packages/Alice.Lib/1.0.0`, alice)).text();
    expect(page).toContain('<h2 id="manage-heading">Manage</h2>');
    expect(page).toContain(`action="/packages/Alice.Lib/1.0.0/unlist"`);
    expect(page).toContain('>Unlist 1.0.0</button>');
    expect(page).toContain(`name="_csrf" value="${alice.csrf}"`);
    expect(page).toContain('aria-label="Remove owner alice"');
    // This feed only unlists (deleteMode unlist): no delete form.
    expect(page).not.toContain('/delete"');
  });

  it('is not shown to anonymous visitors, other owners, readers who own the id, or on upstream-free unknown ids', async () => {
    for (const [url, who] of [
      ['/packages/Alice.Lib/1.0.0', null],
      ['/packages/Bob.Lib/1.0.0', alice],
      ['/packages/Carol.Lib/1.0.0', carol],
    ] as const) {
      const res = await getPage(`${server.url}${url}`, who);
      expect(res.status).toBe(200);
      expect(await res.text(), `${url} as ${who?.name}`).not.toContain('manage-heading');
    }
    // Looking is not trying: no refusal was audited.
    expect(await lastAudit(server, 'unlist.denied')).toBeUndefined();
  });

  it('is shown to an admin, saying so', async () => {
    const page = await (await getPage(`${server.url}/packages/Bob.Lib/1.0.0`, admin)).text();
    expect(page).toContain('manage-heading');
    expect(page).toContain('You manage this package as an admin.');
  });
});

describe('unlist and relist through the forms', () => {
  it('unlists a version of an own id: 303 back to the page, registration shows it unlisted, the audit log names the person', async () => {
    const res = await postForm(form('Alice.Lib', '1.0.0', 'unlist'), alice);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/packages/Alice.Lib/1.0.0?done=unlisted');
    expect((await registrationEntry(server, 'Alice.Lib', '1.0.0'))?.listed).toBe(false);
    // Unlisted versions still restore when pinned: the flat container keeps them.
    const index = (await (await fetch(`${server.url}/v3/flatcontainer/alice.lib/index.json`)).json()) as { versions: string[] };
    expect(index.versions).toEqual(['1.0.0', '2.0.0']);
    const entry = await lastAudit(server, 'unlist');
    expect(entry).toMatchObject({ actor: 'alice', owner: 'alice', keyId: null, target: 'Alice.Lib 1.0.0' });

    const page = await (await getPage(`${server.url}${res.headers.get('location')}`, alice)).text();
    expect(page).toContain('Version 1.0.0 unlisted');
    expect(page).toContain('>Relist 1.0.0</button>');
  });

  it('relists it again', async () => {
    const res = await postForm(form('Alice.Lib', '1.0.0', 'relist'), alice);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/packages/Alice.Lib/1.0.0?done=relisted');
    expect((await registrationEntry(server, 'Alice.Lib', '1.0.0'))?.listed).toBe(true);
    expect(await lastAudit(server, 'relist')).toMatchObject({ actor: 'alice', owner: 'alice', target: 'Alice.Lib 1.0.0' });
  });

  it('lets a member of an organisation unlist the organisation’s id; the audit log names the person and the organisation', async () => {
    const res = await postForm(form('Contoso.Lib', '1.0.0', 'unlist'), dave);
    expect(res.status).toBe(303);
    expect((await registrationEntry(server, 'Contoso.Lib', '1.0.0'))?.listed).toBe(false);
    expect(await lastAudit(server, 'unlist')).toMatchObject({ actor: 'dave', owner: 'contoso', target: 'Contoso.Lib 1.0.0' });
    expect((await postForm(form('Contoso.Lib', '1.0.0', 'relist'), dave)).status).toBe(303);
  });

  it('refuses another owner’s id with 403 and a page saying why; nothing changes, the refusal is audited', async () => {
    const before = await snapshot(server, 'Bob.Lib');
    const res = await postForm(form('Bob.Lib', '1.0.0', 'unlist'), alice);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toContain('Not allowed');
    expect(page).toContain('owned by bob');
    expect(await snapshot(server, 'Bob.Lib')).toEqual(before);
    expect(await lastAudit(server, 'unlist.denied')).toMatchObject({ actor: 'alice', target: 'Bob.Lib' });
  });

  it('refuses a reader, even one owning the id (403, nothing changed)', async () => {
    const before = await snapshot(server, 'Carol.Lib');
    for (const action of ['unlist', 'deprecate', 'owners/add']) {
      const res = await postForm(form('Carol.Lib', '1.0.0', action), carol, { 'reasons[]': 'Legacy', owner: 'alice' });
      expect(res.status, action).toBe(403);
    }
    expect(await snapshot(server, 'Carol.Lib')).toEqual(before);
    expect(await registrationEntry(server, 'Carol.Lib', '1.0.0')).not.toHaveProperty('deprecation');
  });

  it('refuses a form without the session’s token, with a wrong one, or from another site (403, nothing changed)', async () => {
    const before = await snapshot(server, 'Alice.Lib');
    const attempts = [
      postForm(form('Alice.Lib', '1.0.0', 'unlist'), alice, {}, { csrf: null }),
      postForm(form('Alice.Lib', '1.0.0', 'unlist'), alice, {}, { csrf: 'not-the-token' }),
      postForm(form('Alice.Lib', '1.0.0', 'unlist'), alice, {}, { headers: { origin: 'https://evil.example' } }),
      postForm(form('Alice.Lib', '1.0.0', 'owners/add'), alice, { owner: 'bob' }, { csrf: null }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/security token|another site/);
    }
    expect(await snapshot(server, 'Alice.Lib')).toEqual(before);
  });

  it('asks to sign in without a session (401 page with a sign-in link)', async () => {
    const before = await snapshot(server, 'Alice.Lib');
    const res = await postForm(form('Alice.Lib', '1.0.0', 'unlist'), null);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('href="/signin?returnTo=%2Fpackages%2FAlice.Lib%2F1.0.0"');
    expect(await snapshot(server, 'Alice.Lib')).toEqual(before);
  });

  it('answers 404 for a version that does not exist', async () => {
    const res = await postForm(form('Alice.Lib', '9.9.9', 'unlist'), alice);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Alice.Lib 9.9.9 was not found');
  });

  it('refuses to delete on a feed whose delete mode is unlist (403, nothing changed)', async () => {
    const before = await snapshot(server, 'Alice.Lib');
    const res = await postForm(form('Alice.Lib', '2.0.0', 'delete'), alice, { confirm: 'yes' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('delete mode is unlist');
    expect(await snapshot(server, 'Alice.Lib')).toEqual(before);
  });
});

describe('deprecation through the forms', () => {
  it('deprecates the version shown with reasons, a message and an alternate package, and undeprecates it', async () => {
    const res = await postForm(form('Alice.Lib', '1.0.0', 'deprecate'), alice, {
      'reasons[]': ['Legacy', 'CriticalBugs'],
      message: 'Use 2.x',
      alternate: 'Alice.Next@[2.0.0, )',
      scope: 'version',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/packages/Alice.Lib/1.0.0?done=deprecated');
    expect((await registrationEntry(server, 'Alice.Lib', '1.0.0'))?.deprecation).toMatchObject({
      reasons: ['Legacy', 'CriticalBugs'],
      message: 'Use 2.x',
      alternatePackage: { id: 'Alice.Next', range: '[2.0.0, )' },
    });
    expect(await registrationEntry(server, 'Alice.Lib', '2.0.0')).not.toHaveProperty('deprecation');
    expect(await lastAudit(server, 'deprecate')).toMatchObject({ actor: 'alice', target: 'Alice.Lib 1.0.0', detail: 'Legacy, CriticalBugs' });
    const page = await (await getPage(`${server.url}/packages/Alice.Lib/1.0.0`, alice)).text();
    expect(page).toContain('This version is deprecated');
    expect(page).toContain('>Undeprecate 1.0.0</button>');

    expect((await postForm(form('Alice.Lib', '1.0.0', 'undeprecate'), alice)).status).toBe(303);
    expect(await registrationEntry(server, 'Alice.Lib', '1.0.0')).not.toHaveProperty('deprecation');
    expect(await lastAudit(server, 'undeprecate')).toMatchObject({ actor: 'alice', target: 'Alice.Lib 1.0.0' });
  });

  it('deprecates every version when asked, and answers 400 without a reason', async () => {
    expect((await postForm(form('Alice.Lib', '2.0.0', 'deprecate'), alice, { 'reasons[]': 'Legacy', scope: 'all' })).status).toBe(303);
    expect((await registrationEntry(server, 'Alice.Lib', '1.0.0'))?.deprecation).toMatchObject({ reasons: ['Legacy'] });
    expect((await registrationEntry(server, 'Alice.Lib', '2.0.0'))?.deprecation).toMatchObject({ reasons: ['Legacy'] });
    await server.feed.advisories.undeprecate(operatorPrincipal('test'), 'Alice.Lib', ['*']);

    const res = await postForm(form('Alice.Lib', '2.0.0', 'deprecate'), alice, { message: 'why' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('at least one reason');
  });

  it('refuses another owner’s id (403, nothing changed)', async () => {
    const res = await postForm(form('Bob.Lib', '1.0.0', 'deprecate'), alice, { 'reasons[]': 'Legacy' });
    expect(res.status).toBe(403);
    expect(await registrationEntry(server, 'Bob.Lib', '1.0.0')).not.toHaveProperty('deprecation');
    expect(await lastAudit(server, 'advisory.denied')).toMatchObject({ actor: 'alice', target: 'Bob.Lib' });
  });
});

describe('owners through the forms', () => {
  it('adds a user or an organisation as owner, and removes one; the audit log names the person', async () => {
    let res = await postForm(form('Alice.Owners', '1.0.0', 'owners/add'), alice, { owner: 'Bob' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/packages/Alice.Owners/1.0.0?done=owner-added');
    expect(await server.feed.ownership.owners('Alice.Owners')).toEqual(['alice', 'bob']);
    expect(await lastAudit(server, 'owner.add')).toMatchObject({ actor: 'alice', owner: 'alice', target: 'Alice.Owners', detail: 'bob' });

    expect((await postForm(form('Alice.Owners', '1.0.0', 'owners/add'), alice, { owner: 'contoso' })).status).toBe(303);
    // Now dave (through contoso) may manage it too.
    const page = await (await getPage(`${server.url}/packages/Alice.Owners/1.0.0`, dave)).text();
    expect(page).toContain('manage-heading');

    res = await postForm(form('Alice.Owners', '1.0.0', 'owners/remove'), alice, { owner: 'bob' });
    expect(res.status).toBe(303);
    expect(await server.feed.ownership.owners('Alice.Owners')).toEqual(['alice', 'contoso']);
    expect(await lastAudit(server, 'owner.remove')).toMatchObject({ actor: 'alice', target: 'Alice.Owners', detail: 'bob' });
    expect((await postForm(form('Alice.Owners', '1.0.0', 'owners/remove'), dave, { owner: 'contoso' })).status).toBe(303);
    expect(await server.feed.ownership.owners('Alice.Owners')).toEqual(['alice']);
  });

  it('refuses to remove the last owner (409) and names nobody unknown (404)', async () => {
    let res = await postForm(form('Alice.Owners', '1.0.0', 'owners/remove'), alice, { owner: 'alice' });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('alice is the last owner of Alice.Owners');
    res = await postForm(form('Alice.Owners', '1.0.0', 'owners/add'), alice, { owner: 'nobody-at-all' });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('There is no user or organisation named nobody-at-all');
    res = await postForm(form('Alice.Owners', '1.0.0', 'owners/remove'), alice, { owner: 'bob' });
    expect(res.status).toBe(404);
    expect(await server.feed.ownership.owners('Alice.Owners')).toEqual(['alice']);
  });

  it('refuses owners of other ids (403, nothing changed, audited)', async () => {
    const res = await postForm(form('Bob.Lib', '1.0.0', 'owners/add'), alice, { owner: 'alice' });
    expect(res.status).toBe(403);
    expect(await server.feed.ownership.owners('Bob.Lib')).toEqual(['bob']);
    expect(await lastAudit(server, 'owner.denied')).toMatchObject({ actor: 'alice', target: 'Bob.Lib' });
    const remove = await postForm(form('Bob.Lib', '1.0.0', 'owners/remove'), alice, { owner: 'bob' });
    expect(remove.status).toBe(403);
    expect(await server.feed.ownership.owners('Bob.Lib')).toEqual(['bob']);
  });
});

describe('My packages', () => {
  it('sends a visitor without a session to sign in, coming back afterwards', async () => {
    const res = await getPage(`${server.url}/account/packages`, null);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/signin?returnTo=%2Faccount%2Fpackages');
  });

  it('lists the ids the person or their organisations own, with versions, latest, listed state and downloads', async () => {
    await fetch(`${server.url}/v3/flatcontainer/contoso.lib/1.0.0/contoso.lib.1.0.0.nupkg`);
    let page = await (await getPage(`${server.url}/account/packages`, alice)).text();
    expect(page).toContain('<h1>My packages</h1>');
    expect(page).toMatch(/<a href="\/packages\/Alice\.Lib">Alice\.Lib<\/a><\/td><td>2<\/td><td><a href="\/packages\/Alice\.Lib\/2\.0\.0">2\.0\.0<\/a><\/td>\s*<td>listed<\/td>/);
    expect(page).toContain('Alice.Owners');
    expect(page).not.toContain('Bob.Lib');
    expect(page).not.toContain('Contoso.Lib');
    expect(page).not.toContain('As an admin');

    page = await (await getPage(`${server.url}/account/packages`, dave)).text();
    expect(page).toContain('Ids owned by dave, contoso on this feed.');
    expect(page).toMatch(/Contoso\.Lib<\/a><\/td><td>1<\/td>.*<td>listed<\/td><td>\d+<\/td><td>contoso<\/td>/s);
    expect(page).not.toContain('Alice.Lib');
  });

  it('tells an admin they can manage every id', async () => {
    const page = await (await getPage(`${server.url}/account/packages`, admin)).text();
    expect(page).toContain('As an admin you can manage every package id of this feed');
  });
});

describe('a feed that deletes versions (deleteMode delete)', () => {
  let deleting: TestServer;
  let owner: SignedIn;
  beforeAll(async () => {
    deleting = await startTestServer({ deleteMode: 'delete' });
    owner = await signedInPerson(deleting, 'erin', { role: 'contributor' });
    await packageOf(deleting, 'Erin.Lib', ['1.0.0', '2.0.0'], ['erin']);
  });
  afterAll(async () => {
    await deleting?.close();
  });

  it('offers the delete form, wants it confirmed, then deletes the version for good', async () => {
    const url = (version: string) => `${deleting.url}/packages/Erin.Lib/${version}/delete`;
    expect(await (await getPage(`${deleting.url}/packages/Erin.Lib/1.0.0`, owner)).text()).toContain('>Delete 1.0.0</button>');
    const unconfirmed = await postForm(url('1.0.0'), owner);
    expect(unconfirmed.status).toBe(400);
    expect((await snapshot(deleting, 'Erin.Lib')).versions).toHaveLength(2);

    const res = await postForm(url('1.0.0'), owner, { confirm: 'yes' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/packages/Erin.Lib?done=deleted&version=1.0.0');
    const index = (await (await fetch(`${deleting.url}/v3/flatcontainer/erin.lib/index.json`)).json()) as { versions: string[] };
    expect(index.versions).toEqual(['2.0.0']);
    expect((await fetch(`${deleting.url}/v3/flatcontainer/erin.lib/1.0.0/erin.lib.1.0.0.nupkg`)).status).toBe(404);
    expect(await lastAudit(deleting, 'delete')).toMatchObject({ actor: 'erin', owner: 'erin', target: 'Erin.Lib 1.0.0' });
    expect(await (await getPage(`${deleting.url}${res.headers.get('location')}`, owner)).text()).toContain('Version 1.0.0 deleted from this feed.');

    // The last version: back to "My packages".
    const last = await postForm(url('2.0.0'), owner, { confirm: 'yes' });
    expect(last.headers.get('location')).toBe('/account/packages?done=deleted&version=2.0.0');
  });
});

describe('a second feed (/f/dev)', () => {
  it('has its own "My packages" and forms under its prefix, decided by the person’s role on that feed', async () => {
    await server.feed.hub.feedDb.createFeed({ name: 'dev', description: 'CI builds', settings: {}, members: null, created: new Date().toISOString() });
    await server.feed.hub.reloadDefinitions();
    const dev = (await server.feed.hub.feed('dev'))!;
    expect((await pushRaw(`${server.url}/f/dev`, await buildNupkg({ id: 'Dev.Lib', version: '1.0.0' }))).status).toBe(201);
    await dev.ownership.addOwner(TEST_ADMIN, 'Dev.Lib', 'alice');

    // alice is a contributor on the default feed only: on dev she has the default role, reader.
    const before = await snapshot({ ...server, feed: dev }, 'Dev.Lib');
    expect(await (await getPage(`${server.url}/f/dev/packages/Dev.Lib/1.0.0`, alice)).text()).not.toContain('manage-heading');
    expect((await postForm(`${server.url}/f/dev/packages/Dev.Lib/1.0.0/unlist`, alice)).status).toBe(403);
    expect(await snapshot({ ...server, feed: dev }, 'Dev.Lib')).toEqual(before);

    await server.feed.hub.shared.people.db.putRole({ feedId: dev.scope.id, kind: 'user', grantee: 'alice', role: 'contributor', created: new Date().toISOString() });
    const page = await (await getPage(`${server.url}/f/dev/packages/Dev.Lib/1.0.0`, alice)).text();
    expect(page).toContain('action="/f/dev/packages/Dev.Lib/1.0.0/unlist"');
    const res = await postForm(`${server.url}/f/dev/packages/Dev.Lib/1.0.0/unlist`, alice);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/f/dev/packages/Dev.Lib/1.0.0?done=unlisted');
    expect((await dev.db.listVersions('dev.lib'))[0]?.listed).toBe(false);
    expect((await dev.audit.list({ limit: 1, action: 'unlist', feedId: dev.scope.id }))[0]).toMatchObject({ actor: 'alice', target: 'Dev.Lib 1.0.0' });
    expect((await server.feed.audit.list({ limit: 1, action: 'unlist', feedId: server.feed.scope.id }))[0]?.target).not.toBe('Dev.Lib 1.0.0');

    const mine = await (await getPage(`${server.url}/f/dev/account/packages`, alice)).text();
    expect(mine).toContain('<h1>My packages on dev</h1>');
    expect(mine).toContain('href="/f/dev/packages/Dev.Lib"');
    expect(mine).toContain('<td>unlisted</td>');
    expect(mine).not.toContain('Alice.Lib');
    expect((await getPage(`${server.url}/f/dev/account/packages`, null)).headers.get('location')).toBe('/signin?returnTo=%2Ff%2Fdev%2Faccount%2Fpackages');
  });
});

describe('signed in with an API key', () => {
  /** Signs in through the form, as a browser does; returns the session's cookie and CSRF token. */
  async function signInWithKey(key: string): Promise<SignedIn> {
    const res = await fetch(`${server.url}/signin/key`, { method: 'POST', body: new URLSearchParams({ apikey: key, returnTo: '/' }), redirect: 'manual' });
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${server.url}/`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    return { name: 'key', userId: 0, cookie, csrf };
  }

  it('acts with the key’s scopes and owner: a read key may not unlist, an unlist key may; the audit log names the key', async () => {
    const readOnly = await signInWithKey(await keyFor(server, 'alice', ['read']));
    expect(await (await getPage(`${server.url}/packages/Alice.Lib/2.0.0`, readOnly)).text()).not.toContain('manage-heading');
    expect((await postForm(form('Alice.Lib', '2.0.0', 'unlist'), readOnly)).status).toBe(403);
    expect((await registrationEntry(server, 'Alice.Lib', '2.0.0'))?.listed).toBe(true);

    const unlister = await signInWithKey(await keyFor(server, 'alice', ['unlist']));
    expect(await (await getPage(`${server.url}/account/packages`, unlister)).text()).toContain('Alice.Lib');
    expect((await postForm(form('Alice.Lib', '2.0.0', 'unlist'), unlister)).status).toBe(303);
    expect((await registrationEntry(server, 'Alice.Lib', '2.0.0'))?.listed).toBe(false);
    const entry = await lastAudit(server, 'unlist');
    expect(entry?.keyId).toMatch(/^k/);
    expect(entry).toMatchObject({ owner: 'alice', target: 'Alice.Lib 2.0.0' });
    expect((await postForm(form('Alice.Lib', '2.0.0', 'relist'), unlister)).status).toBe(303);
  });
});
