/**
 * Keys per feed and what one feed's keys, owners and prefixes cannot do in another: a key works on the feeds it names,
 * a private feed reads only with a key valid on it, and two feeds with the same id (even the same id and version) keep
 * their own owners, reservations and bytes.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope } from '../../src/db/access-database.js';
import { KyselyAccessDatabase } from '../../src/db/kysely-access-database.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../support/app.js';
import { buildNupkg } from '../support/nupkg.js';
import { createKey } from '../unit/auth/support.js';

let server: TestServer;
let devId: number;
let releaseId: number;

/** Keys by owner and feed: alpha works in dev, beta in release, gamma everywhere. */
const keys: Record<string, string> = {};

const WRITE: KeyScope[] = ['push-new', 'push', 'unlist'];

async function makeFeed(name: string, settings: Record<string, unknown> = {}): Promise<number> {
  const hub = server.feed.hub;
  const record = await hub.feedDb.createFeed({ name, description: '', settings, members: null, created: new Date().toISOString() });
  await hub.reloadDefinitions();
  return record!.id;
}

/** The feed's root URL: the default feed's unprefixed URLs for null. */
const at = (feed: string | null) => (feed ? `${server.url}/f/${feed}` : server.url);

const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`ci:${key}`).toString('base64')}` });

async function pushTo(feed: string | null, key: string, id: string, version: string, description?: string): Promise<Response> {
  return pushRaw(at(feed), await buildNupkg({ id, version, ...(description ? { description } : {}) }), key);
}

function search(feed: string | null, q: string, key = TEST_KEY) {
  return fetch(`${at(feed)}/v3/search?q=${encodeURIComponent(q)}`, { headers: basic(key) });
}

/** Search is indexed in the background: waits until it finds the id, then answers its result. */
async function searched(feed: string | null, id: string): Promise<{ id: string; verified: boolean }> {
  for (let i = 0; i < 100; i++) {
    const body = (await (await search(feed, id)).json()) as { data: Array<{ id: string; verified: boolean }> };
    const hit = body.data.find((d) => d.id === id);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id} never showed in search of ${feed ?? 'the default feed'}`);
}

beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0 });
  devId = await makeFeed('dev', { deleteMode: 'delete' });
  releaseId = await makeFeed('release', { private: true });
  keys.alpha = await createKey(server, { owner: 'alpha', scopes: WRITE, feeds: [devId] });
  keys.beta = await createKey(server, { owner: 'beta', scopes: WRITE, feeds: [releaseId] });
  keys.gamma = await createKey(server, { owner: 'gamma', scopes: WRITE, feeds: null });
  keys.betaEverywhere = await createKey(server, { owner: 'beta', scopes: WRITE, feeds: null });
  keys.devAdmin = await createKey(server, { owner: 'ops', scopes: ['admin'], feeds: [devId] });
  keys.readRelease = await createKey(server, { owner: 'readers', scopes: ['read'], feeds: [releaseId] });
});
afterAll(async () => {
  await server?.close();
});

describe('a key valid on some feeds', () => {
  it('pushes to its feed and is refused elsewhere with a 403 naming where it is valid', async () => {
    expect((await pushTo('dev', keys.alpha!, 'Alpha.Only', '1.0.0')).status).toBe(201);
    for (const [feed, name] of [['release', 'release'], [null, 'default'], ['default', 'default']] as const) {
      const refused = await pushTo(feed, keys.alpha!, 'Alpha.Only', '1.0.0');
      expect(refused.status, `push to ${name}`).toBe(403);
      expect(refused.statusText).toBe(`This API key is not valid on feed '${name}' (it is valid on: dev).`);
    }
    expect((await fetch(`${at(null)}/v3/flatcontainer/alpha.only/index.json`)).status).toBe(404);
    expect((await fetch(`${at('release')}/v3/flatcontainer/alpha.only/index.json`, { headers: basic(TEST_KEY) })).status).toBe(404);
  });

  it('audits the refusal in the feed it was refused in', async () => {
    await pushTo('release', keys.alpha!, 'Alpha.Audited', '1.0.0');
    const entries = await server.feed.audit.list({ limit: 50, action: 'push.denied' });
    const entry = entries.find((e) => e.feedId === releaseId && /not valid on feed 'release'/.test(e.detail ?? ''));
    expect(entry, JSON.stringify(entries)).toMatchObject({ owner: 'alpha', target: '(any package)' });
  });

  it('may not unlist, relist, deprecate, push symbols or use the upload form of another feed', async () => {
    expect((await pushTo('release', keys.beta!, 'Beta.Kept', '1.0.0')).status).toBe(201);
    const headers = { 'x-nuget-apikey': keys.alpha! };
    const attempts: Array<[string, Promise<Response>]> = [
      ['unlist', fetch(`${at('release')}/api/v2/package/Beta.Kept/1.0.0`, { method: 'DELETE', headers })],
      ['relist', fetch(`${at('release')}/api/v2/package/Beta.Kept/1.0.0`, { method: 'POST', headers })],
      // An id that does not exist there: the answer is the same 403, never a 404 that would tell.
      ['unlist unknown', fetch(`${at('release')}/api/v2/package/No.Such/1.0.0`, { method: 'DELETE', headers })],
      [
        'deprecate',
        fetch(`${at('release')}/api/packages/Beta.Kept/deprecation`, {
          method: 'PUT',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ versions: '*', reasons: 'Legacy' }),
        }),
      ],
      ['symbols', fetch(`${at('release')}/api/v2/symbolpackage`, { method: 'PUT', headers, body: new Uint8Array(100) })],
    ];
    for (const [what, attempt] of attempts) {
      const res = await attempt;
      expect(res.status, what).toBe(403);
      expect(res.statusText, what).toMatch(/not valid on feed 'release'/);
    }
    const form = new FormData();
    form.append('apikey', keys.alpha!);
    form.append('package', new Blob([new Uint8Array(await buildNupkg({ id: 'Form.Push', version: '1.0.0' }))]), 'p.nupkg');
    const page = await fetch(`${at('release')}/upload`, { method: 'POST', body: form });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('not valid on feed');
    const index = await fetch(`${at('release')}/v3/registration/beta.kept/index.json`, { headers: basic(TEST_KEY) });
    expect(JSON.stringify(await index.json())).toContain('"listed":true');
  });

  it("a key for every feed ('*') pushes to each", async () => {
    for (const feed of ['dev', 'release', null]) expect((await pushTo(feed, keys.gamma!, 'Gamma.Everywhere', '1.0.0')).status).toBe(201);
  });
});

describe('a private feed', () => {
  const path = '/v3/flatcontainer/beta.private/index.json';
  beforeAll(async () => {
    expect((await pushTo('release', keys.beta!, 'Beta.Private', '1.0.0')).status).toBe(201);
  });

  it("reads with a key valid on it, and answers another feed's key as a missing one: 401 with the Basic challenge", async () => {
    expect((await fetch(`${at('release')}${path}`, { headers: basic(keys.beta!) })).status).toBe(200);
    expect((await fetch(`${at('release')}${path}`, { headers: basic(keys.readRelease!) })).status).toBe(200);
    for (const key of [keys.alpha!, keys.devAdmin!]) {
      const refused = await fetch(`${at('release')}${path}`, { headers: basic(key) });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Basic realm="Pawket"');
      expect(refused.statusText).toMatch(/^This feed is private and this API key is not valid on feed 'release' \(it is valid on: dev\)/);
    }
    const search = await fetch(`${at('release')}/v3/search?q=beta`, { headers: { 'x-nuget-apikey': keys.alpha! } });
    expect(search.status).toBe(401);
    // The service index stays anonymous, as on any private feed.
    expect((await fetch(`${at('release')}/v3/index.json`)).status).toBe(200);
  });

  it('is not reached through a public feed: the same path on dev has nothing', async () => {
    expect((await fetch(`${at('dev')}${path}`)).status).toBe(404);
  });
});

describe('owners and prefix reservations', () => {
  it('are per feed: an id owned in dev can be created by another owner in release', async () => {
    expect((await pushTo('dev', keys.alpha!, 'Shared.Name', '1.0.0')).status).toBe(201);
    expect((await pushTo('release', keys.beta!, 'Shared.Name', '1.0.0')).status).toBe(201);
    // In dev the id is alpha's: beta's key for every feed is refused there, and accepted in release where beta owns it.
    const refused = await pushTo('dev', keys.betaEverywhere!, 'Shared.Name', '2.0.0');
    expect(refused.status).toBe(403);
    expect(refused.statusText).toMatch(/owned by alpha/);
    expect((await pushTo('release', keys.betaEverywhere!, 'Shared.Name', '2.0.0')).status).toBe(201);
    const devFeed = (await server.feed.hub.feed('dev'))!;
    const releaseFeed = (await server.feed.hub.feed('release'))!;
    expect(await devFeed.ownership.owners('Shared.Name')).toEqual(['alpha']);
    expect(await releaseFeed.ownership.owners('Shared.Name')).toEqual(['beta']);
    expect(await server.feed.ownership.owners('Shared.Name')).toEqual([]);
  });

  it('a prefix reserved in dev binds only dev; its ids show as verified in dev only', async () => {
    const reserve = await fetch(`${at('dev')}/api/admin/prefixes`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': keys.devAdmin!, 'content-type': 'application/json' },
      body: JSON.stringify({ pattern: 'Alpha.*', owner: 'alpha' }),
    });
    expect(reserve.status).toBe(201);
    expect((await pushTo('dev', keys.alpha!, 'Alpha.Verified', '1.0.0')).status).toBe(201);
    const taken = await pushTo('dev', keys.betaEverywhere!, 'Alpha.Squat', '1.0.0');
    expect(taken.status).toBe(403);
    expect(taken.statusText).toMatch(/reserved for alpha/);
    expect((await pushTo('release', keys.beta!, 'Alpha.Squat', '1.0.0')).status).toBe(201);
    expect((await pushTo('release', keys.beta!, 'Alpha.Verified', '1.0.0')).status).toBe(201);

    expect((await searched('dev', 'Alpha.Verified')).verified).toBe(true);
    expect((await searched('release', 'Alpha.Verified')).verified).toBe(false);
    const release = (await server.feed.hub.feed('release'))!;
    expect(await release.ownership.listPrefixes()).toEqual([]);
    expect(release.ownership.isVerifiedId('alpha.verified')).toBe(false);
  });

  it("a prefix reserved in release (another process's change) reloads release, not dev", async () => {
    const release = (await server.feed.hub.feed('release'))!;
    const dev = (await server.feed.hub.feed('dev'))!;
    expect((await pushTo('release', keys.beta!, 'Beta.Reserved', '1.0.0')).status).toBe(201);
    expect((await pushTo('dev', keys.alpha!, 'Beta.Reserved', '1.0.0')).status).toBe(201);
    // Written straight to the database, as `pawket prefix reserve` or another node would: the change row carries the
    // feed, and only that feed's verified ids change once the change feed is polled.
    const store = new KyselyAccessDatabase(server.feed.hub.shared.kysely, releaseId);
    expect(await store.reservePrefix({ pattern: 'beta.*', owner: 'beta', created: new Date().toISOString() })).toBe(true);
    for (let i = 0; i < 100 && !release.ownership.isVerifiedId('beta.reserved'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(release.ownership.isVerifiedId('beta.reserved')).toBe(true);
    expect(dev.ownership.isVerifiedId('beta.reserved')).toBe(false);
    expect((await pushTo('dev', keys.alpha!, 'Beta.Other', '1.0.0')).status).toBe(201);
  });

  it("an admin key for dev manages dev's owners and nothing of release's or the default feed's", async () => {
    const headers = { 'x-nuget-apikey': keys.devAdmin! };
    const added = await fetch(`${at('dev')}/api/admin/owners/Shared.Name/carol`, { method: 'PUT', headers });
    expect(added.status).toBe(200);
    expect(await added.json()).toMatchObject({ owners: ['alpha', 'carol'] });
    for (const feed of ['release', null]) {
      const refused = await fetch(`${at(feed)}/api/admin/owners/Shared.Name/carol`, { method: 'PUT', headers });
      expect(refused.status).toBe(403);
      expect(refused.statusText).toMatch(/not valid on feed/);
      expect((await fetch(`${at(feed)}/api/admin/prefixes`, { headers })).status).toBe(403);
    }
    expect(await (await server.feed.hub.feed('release'))!.ownership.owners('Shared.Name')).toEqual(['beta']);
    // Admin rights (any id, any owner's) hold only where the key is valid.
    const pushed = await pushTo('release', keys.devAdmin!, 'Shared.Name', '3.0.0');
    expect(pushed.status).toBe(403);
    expect(pushed.statusText).toMatch(/not valid on feed 'release'/);
  });
});

describe('the same id and version in two feeds', () => {
  const sha512 = (bytes: Buffer) => createHash('sha512').update(bytes).digest('base64');

  it('each feed serves its own bytes, and deleting in one leaves the other', async () => {
    const devBytes = await buildNupkg({ id: 'Twin.Lib', version: '1.0.0', description: 'the dev build' });
    const releaseBytes = await buildNupkg({ id: 'Twin.Lib', version: '1.0.0', description: 'the release build' });
    expect(sha512(devBytes)).not.toBe(sha512(releaseBytes));
    expect((await pushRaw(at('dev'), devBytes, keys.gamma!)).status).toBe(201);
    expect((await pushRaw(at('release'), releaseBytes, keys.gamma!)).status).toBe(201);

    const served = async (feed: string) => {
      const headers = basic(TEST_KEY);
      const file = await fetch(`${at(feed)}/v3/flatcontainer/twin.lib/1.0.0/twin.lib.1.0.0.nupkg`, { headers });
      const leaf = (await (await fetch(`${at(feed)}/v3/registration/twin.lib/index.json`, { headers })).json()) as {
        items: Array<{ items: Array<{ catalogEntry: { packageHash: string; description: string; packageContent: string; listed: boolean } }> }>;
      };
      return { status: file.status, bytes: Buffer.from(await file.arrayBuffer()), entry: leaf.items[0]!.items[0]!.catalogEntry };
    };
    const dev = await served('dev');
    const release = await served('release');
    expect(sha512(dev.bytes)).toBe(sha512(devBytes));
    expect(sha512(release.bytes)).toBe(sha512(releaseBytes));
    expect(dev.entry).toMatchObject({ packageHash: sha512(devBytes), description: 'the dev build' });
    expect(release.entry).toMatchObject({ packageHash: sha512(releaseBytes), description: 'the release build' });
    expect(dev.entry.packageContent).toContain('/f/dev/v3/flatcontainer/');
    expect(release.entry.packageContent).toContain('/f/release/v3/flatcontainer/');

    // Unlisted in release (its delete mode is the default, unlist): dev's stays listed.
    const unlisted = await fetch(`${at('release')}/api/v2/package/Twin.Lib/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': keys.gamma! } });
    expect(unlisted.status).toBe(200);
    expect(await unlisted.text()).toMatch(/was unlisted/);
    expect((await served('release')).entry.listed).toBe(false);
    expect((await served('dev')).entry.listed).toBe(true);

    // Deleted from dev for good (dev deletes): release keeps its own bytes.
    const deleted = await fetch(`${at('dev')}/api/v2/package/Twin.Lib/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': keys.gamma! } });
    expect(deleted.status).toBe(200);
    expect(await deleted.text()).toMatch(/was deleted/);
    expect((await fetch(`${at('dev')}/v3/flatcontainer/twin.lib/1.0.0/twin.lib.1.0.0.nupkg`)).status).toBe(404);
    const kept = await served('release');
    expect(kept.status).toBe(200);
    expect(sha512(kept.bytes)).toBe(sha512(releaseBytes));
  });
});
