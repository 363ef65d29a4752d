/**
 * A private feed read in the browser with a session: a person with a role on the feed reads its pages and downloads
 * packages without a key; a person without one, and a browser without a session, are offered to sign in; NuGet clients
 * keep the Basic challenge and their keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { getPage, postForm, signedInPerson, type SignedIn } from '../../support/signed-in-people.js';
import { snapshot } from '../auth/support.js';

let server: TestServer;
let nupkg: Buffer;
let reader: SignedIn;
let contributor: SignedIn;
let stranger: SignedIn;

const NUPKG_PATH = '/v3/flatcontainer/private.lib/1.0.0/private.lib.1.0.0.nupkg';

beforeAll(async () => {
  server = await startTestServer({ private: true });
  nupkg = await buildNupkg({ id: 'Private.Lib', version: '1.0.0', description: 'Only for the team.' });
  expect((await pushRaw(server.url, nupkg)).status).toBe(201);
  await server.feed.ownership.addOwner({ name: 'test', keyId: null, owner: null, address: null }, 'Private.Lib', 'team');
  reader = await signedInPerson(server, 'rita', { role: 'reader' });
  contributor = await signedInPerson(server, 'carl', { role: 'contributor', orgs: ['team'] });
  // The default role (reader) applies to feeds that are not private only.
  stranger = await signedInPerson(server, 'sam');
});
afterAll(async () => {
  await server?.close();
});

describe('a private feed in the browser', () => {
  it('lets a person with a reader role read pages and download a package with the session cookie alone', async () => {
    for (const path of ['/', '/packages/Private.Lib', '/packages/Private.Lib/1.0.0', '/feed', '/account/packages']) {
      const res = await getPage(`${server.url}${path}`, reader);
      expect(res.status, path).toBe(200);
    }
    expect(await (await getPage(`${server.url}/packages/Private.Lib/1.0.0`, reader)).text()).toContain('Only for the team.');
    const download = await fetch(`${server.url}${NUPKG_PATH}`, { headers: { cookie: reader.cookie } });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(nupkg)).toBe(true);
    // The page's script searches with the same cookie.
    const search = await fetch(`${server.url}/v3/search?q=private`, { headers: { cookie: reader.cookie } });
    expect(((await search.json()) as { totalHits: number }).totalHits).toBe(1);
  });

  it('gives a reader no Manage section and refuses their forms; a contributor of the owning organisation unlists', async () => {
    expect(await (await getPage(`${server.url}/packages/Private.Lib/1.0.0`, reader)).text()).not.toContain('manage-heading');
    const before = await snapshot(server, 'Private.Lib');
    expect((await postForm(`${server.url}/packages/Private.Lib/1.0.0/unlist`, reader)).status).toBe(403);
    expect(await snapshot(server, 'Private.Lib')).toEqual(before);

    expect(await (await getPage(`${server.url}/packages/Private.Lib/1.0.0`, contributor)).text()).toContain('>Unlist 1.0.0</button>');
    expect((await postForm(`${server.url}/packages/Private.Lib/1.0.0/unlist`, contributor)).status).toBe(303);
    expect((await server.feed.db.listVersions('private.lib'))[0]?.listed).toBe(false);
    expect((await server.feed.audit.list({ limit: 1, action: 'unlist' }))[0]).toMatchObject({ actor: 'carl', target: 'Private.Lib 1.0.0' });
    expect((await postForm(`${server.url}/packages/Private.Lib/1.0.0/relist`, contributor)).status).toBe(303);
  });

  it('tells a signed-in person without a role here that they have none (401), and gives them nothing', async () => {
    const page = await getPage(`${server.url}/packages/Private.Lib`, stranger);
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toBeNull();
    const text = await page.text();
    expect(text).toContain('You are signed in as sam, with no role on this feed');
    expect(text).not.toContain('Only for the team.');
    const download = await fetch(`${server.url}${NUPKG_PATH}`, { headers: { cookie: stranger.cookie } });
    expect(download.status).toBe(401);
    expect(download.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  it('offers a browser without a session the sign-in page, coming back to the page asked for', async () => {
    const page = await getPage(`${server.url}/packages/Private.Lib/1.0.0?x=1`, null);
    expect(page.status).toBe(401);
    // No Basic challenge: the browser would prompt for a password rather than show the page.
    expect(page.headers.get('www-authenticate')).toBeNull();
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const text = await page.text();
    expect(text).toContain('This feed is private');
    expect(text).toContain('href="/signin?returnTo=%2Fpackages%2FPrivate.Lib%2F1.0.0%3Fx%3D1"');
    expect(text).not.toContain('Only for the team.');
    // "My packages" too (the feed's rule answers before the page's own redirect).
    expect(await (await getPage(`${server.url}/account/packages`, null)).text()).toContain('href="/signin?returnTo=%2Faccount%2Fpackages"');
    // The sign-in page itself is open.
    expect((await getPage(`${server.url}/signin?returnTo=%2Fpackages%2FPrivate.Lib`, null)).status).toBe(200);
  });

  it('keeps the Basic challenge for NuGet clients, and their keys', async () => {
    for (const headers of [{}, { accept: 'application/json' }, { accept: '*/*' }] as Record<string, string>[]) {
      const res = await fetch(`${server.url}/v3/registration/private.lib/index.json`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Pawket"');
    }
    const basic = `Basic ${Buffer.from(`me:${TEST_KEY}`).toString('base64')}`;
    expect((await fetch(`${server.url}${NUPKG_PATH}`, { headers: { authorization: basic } })).status).toBe(200);
    // A browser that sends a key (the Basic prompt answered) is answered as a client: a wrong key gets the challenge.
    const wrong = await getPage(`${server.url}/`, null, { authorization: `Basic ${Buffer.from('me:wrong').toString('base64')}` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await getPage(`${server.url}/`, null, { authorization: basic })).status).toBe(200);
  });
});

describe('a private feed on a server where nobody can sign in', () => {
  let closed: TestServer;
  beforeAll(async () => {
    closed = await startTestServer({ private: true, signIn: { keySignIn: false } });
  });
  afterAll(async () => {
    await closed?.close();
  });

  it('keeps asking browsers for a key with the Basic challenge', async () => {
    const page = await getPage(`${closed.url}/`, null);
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toBe('Basic realm="Pawket"');
  });
});
