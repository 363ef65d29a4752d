/**
 * Preview feeds of staging groups over HTTP (both backends): a group's service index and everything under its folder
 * serve the feed's published packages plus the group's staged ones, to keys acting for the group's owner and admins;
 * no key is a 401 with a Basic challenge (before any query), another owner's key a 404 indistinguishable from a group
 * that does not exist, a deleted or promoted group a 404; nothing is cacheable, and the feed's own documents never see
 * staged versions through the shared response cache.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { signedInPerson } from '../../support/signed-in-people.js';
import { createKey } from '../auth/support.js';

type Json = Record<string, unknown>;

const CORE = 'Preview.Core';
const APP = 'Preview.App';
const UTIL = 'Preview.Util';

let s: TestServer;
const keys: Record<string, string> = {};
let staging: string;
/** Staged bytes by `id version`. */
const staged = new Map<string, Buffer>();

async function stage(id: string, version: string, key: string, groupId: string, dependencies?: Record<string, Array<[string, string]>>): Promise<void> {
  const bytes = await buildNupkg({ id, version, ...(dependencies ? { dependencies } : {}) });
  const form = new FormData();
  form.append('package', new Blob([new Uint8Array(bytes)]), 'x.nupkg');
  form.append('groupId', groupId);
  const res = await fetch(`${staging}/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': key } });
  expect(res.status, await res.clone().text()).toBe(201);
  staged.set(`${id} ${version}`, bytes);
}

const preview = (owner: string, group: string) => `${staging}/preview/${owner}/${group}/`;

function get(url: string, key: string | null, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers: { ...(key ? { 'x-nuget-apikey': key } : {}), ...headers } });
}

async function json(res: Response): Promise<Json> {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Json;
}

beforeAll(async () => {
  s = await startTestServer({ stagingApiPromotion: true });
  keys.alphaStage = await createKey(s, { owner: 'alpha', scopes: ['stage'] });
  keys.alphaPush = await createKey(s, { owner: 'alpha', scopes: ['push-new', 'push'] });
  keys.beta = await createKey(s, { owner: 'beta', scopes: ['push-new', 'push', 'stage'] });
  const index = (await (await fetch(`${s.url}/v3/index.json`)).json()) as { resources: Array<{ '@id': string; '@type': string }> };
  staging = index.resources.find((r) => r['@type'] === 'PackageStaging/1.0.0')!['@id'];

  // Published: Core 1.0.0 and Util 1.0.0. Staged in alpha's group "release-1": Core 2.0.0 and App 1.0.0 (needs Core 2).
  expect((await pushRaw(s.url, await buildNupkg({ id: CORE, version: '1.0.0' }), keys.alphaPush)).status).toBe(201);
  expect((await pushRaw(s.url, await buildNupkg({ id: UTIL, version: '1.0.0' }), keys.alphaPush)).status).toBe(201);
  await stage(CORE, '2.0.0', keys.alphaStage!, 'Release-1');
  await stage(APP, '1.0.0', keys.alphaStage!, 'Release-1', { '': [[CORE, '2.0.0']] });
  // beta's own group of the same name, with a package of its own.
  await stage('Beta.Only', '1.0.0', keys.beta!, 'release-1');
});
afterAll(() => s.close());

describe('a staging group preview feed', () => {
  it('asks for credentials with a Basic challenge, before looking anything up, and is never cacheable', async () => {
    const open = vi.spyOn(s.feed.stagingPreviews, 'open');
    try {
      for (const url of [`${preview('alpha', 'release-1')}index.json`, `${preview('alpha', 'release-1')}flatcontainer/preview.core/index.json`]) {
        const res = await get(url, null);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
        expect(res.headers.get('cache-control')).toBe('private, no-store');
        expect(await res.text()).toMatch(/needs an API key acting for the group's owner/);
      }
      const bad = await get(`${preview('alpha', 'release-1')}index.json`, 'pwk_not-a-key');
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(open).not.toHaveBeenCalled();
    } finally {
      open.mockRestore();
    }
  });

  it("serves a service index whose resources all sit under the preview's folder, to the owner's stage-only key", async () => {
    const folder = preview('alpha', 'release-1');
    const res = await get(`${folder}index.json`, keys.alphaStage!);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const index = await json(res);
    const resources = index.resources as Array<{ '@id': string; '@type': string }>;
    const types = resources.map((r) => r['@type']);
    for (const type of ['PackageBaseAddress/3.0.0', 'RegistrationsBaseUrl', 'RegistrationsBaseUrl/3.4.0', 'RegistrationsBaseUrl/3.6.0']) expect(types).toContain(type);
    for (const r of resources) expect(r['@id'].startsWith(folder), r['@id']).toBe(true);
    // Nothing that writes, and no search over the feed.
    expect(types.some((t) => /Publish|Staging|Search/.test(t))).toBe(false);
  });

  it('lays the staged versions over the published ones, with the staged bytes and nuspec', async () => {
    const folder = preview('alpha', 'release-1');
    const flat = await json(await get(`${folder}flatcontainer/preview.core/index.json`, keys.alphaStage!));
    expect(flat.versions).toEqual(['1.0.0', '2.0.0']);
    expect((await json(await get(`${folder}flatcontainer/preview.app/index.json`, keys.alphaStage!))).versions).toEqual(['1.0.0']);
    // A published package only: visible through the preview too.
    expect((await json(await get(`${folder}flatcontainer/preview.util/index.json`, keys.alphaStage!))).versions).toEqual(['1.0.0']);

    const nupkg = await get(`${folder}flatcontainer/preview.app/1.0.0/preview.app.1.0.0.nupkg`, keys.alphaStage!);
    expect(nupkg.status).toBe(200);
    expect(nupkg.headers.get('cache-control')).toBe('private, no-store');
    const bytes = Buffer.from(await nupkg.arrayBuffer());
    expect(createHash('sha512').update(bytes).digest('hex')).toBe(createHash('sha512').update(staged.get(`${APP} 1.0.0`)!).digest('hex'));
    const nuspec = await get(`${folder}flatcontainer/preview.app/1.0.0/preview.app.nuspec`, keys.alphaStage!);
    expect(nuspec.status).toBe(200);
    expect(await nuspec.text()).toContain(`<id>${APP}</id>`);
    expect((await get(`${folder}flatcontainer/preview.core/1.0.0/preview.core.1.0.0.nupkg`, keys.alphaStage!)).status).toBe(200);
    expect((await get(`${folder}flatcontainer/preview.core/3.0.0/preview.core.3.0.0.nupkg`, keys.alphaStage!)).status).toBe(404);
  });

  it('answers registration in every hive, linking dependencies and content inside the preview', async () => {
    const folder = preview('alpha', 'release-1');
    const index = (await (await get(`${folder}index.json`, keys.alphaStage!)).json()) as { resources: Array<{ '@id': string; '@type': string }> };
    const hive = index.resources.find((r) => r['@type'] === 'RegistrationsBaseUrl/3.6.0')!['@id'];
    const res = await get(`${hive}preview.app/index.json`, keys.alphaStage!, { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    const reg = (await res.json()) as { items: Array<{ items: Array<{ catalogEntry: Json; packageContent: string }> }> };
    const leaf = reg.items[0]!.items[0]!;
    expect(leaf.catalogEntry.version).toBe('1.0.0');
    expect(leaf.packageContent).toBe(`${folder}flatcontainer/preview.app/1.0.0/preview.app.1.0.0.nupkg`);
    const groups = leaf.catalogEntry.dependencyGroups as Array<{ dependencies: Array<{ id: string; registration: string }> }>;
    expect(groups[0]!.dependencies[0]).toMatchObject({ id: CORE, registration: `${hive}preview.core/index.json` });
    const core = JSON.stringify(await json(await get(`${folder}registration/preview.core/index.json`, keys.alphaStage!)));
    expect(core).toContain('"version":"1.0.0"');
    expect(core).toContain('"version":"2.0.0"');
    const leafDoc = await json(await get(`${folder}registration/preview.core/2.0.0.json`, keys.alphaStage!));
    expect(leafDoc.packageContent).toBe(`${folder}flatcontainer/preview.core/2.0.0/preview.core.2.0.0.nupkg`);
  });

  it("owner and group are case-insensitive; Basic credentials with any user name work; an admin's key reads it", async () => {
    const basic = `Basic ${Buffer.from(`anyone:${keys.alphaPush}`).toString('base64')}`;
    expect((await get(`${preview('ALPHA', 'RELEASE-1')}index.json`, null, { authorization: basic })).status).toBe(200);
    expect((await get(`${preview('alpha', 'release-1')}flatcontainer/preview.app/index.json`, null, { authorization: `Bearer ${keys.alphaStage}` })).status).toBe(200);
    expect((await json(await get(`${preview('alpha', 'release-1')}flatcontainer/preview.core/index.json`, TEST_KEY))).versions).toEqual(['1.0.0', '2.0.0']);
  });

  it("serves a signed-in member of the owning organisation without a key, and no other person", async () => {
    const url = `${preview('alpha', 'release-1')}flatcontainer/preview.core/index.json`;
    const member = await signedInPerson(s, 'ann', { role: 'reader', orgs: ['alpha'] });
    expect((await json(await get(url, null, { cookie: member.cookie }))).versions).toEqual(['1.0.0', '2.0.0']);
    const outsider = await signedInPerson(s, 'bob', { role: 'reader', orgs: ['beta'] });
    expect((await get(url, null, { cookie: outsider.cookie })).status).toBe(404);
  });

  it("is a 404 to another owner's key, saying no more than for a group that does not exist", async () => {
    const folder = preview('alpha', 'release-1');
    const other = await get(`${folder}index.json`, keys.beta!);
    const none = await get(`${preview('alpha', 'no-such-group')}index.json`, keys.alphaStage!);
    expect(other.status).toBe(404);
    expect(none.status).toBe(404);
    expect(other.headers.get('cache-control')).toBe('private, no-store');
    const otherText = await other.text();
    expect(otherText.replace('release-1', 'X')).toBe((await none.text()).replace('no-such-group', 'X'));
    for (const path of ['flatcontainer/preview.app/index.json', 'flatcontainer/preview.app/1.0.0/preview.app.1.0.0.nupkg', 'registration/preview.app/index.json', 'registration-gz-semver2/preview.app/1.0.0.json']) {
      expect((await get(`${folder}${path}`, keys.beta!)).status, path).toBe(404);
    }
    // beta's group of the same id shows beta's package, never alpha's.
    const betaFolder = preview('beta', 'release-1');
    expect((await get(`${betaFolder}flatcontainer/preview.app/index.json`, keys.beta!)).status).toBe(404);
    expect((await json(await get(`${betaFolder}flatcontainer/beta.only/index.json`, keys.beta!))).versions).toEqual(['1.0.0']);
    expect((await get(`${betaFolder}index.json`, keys.alphaStage!)).status).toBe(404);
  });

  it("leaves the feed's own documents without the staged versions (no shared cache entry)", async () => {
    const flat = (await (await fetch(`${s.url}/v3/flatcontainer/preview.core/index.json`)).json()) as Json;
    expect(flat.versions).toEqual(['1.0.0']);
    expect((await fetch(`${s.url}/v3/flatcontainer/preview.app/index.json`)).status).toBe(404);
    expect((await fetch(`${s.url}/v3/registration/preview.app/index.json`)).status).toBe(404);
    expect(JSON.stringify(await (await fetch(`${s.url}/v3/registration/preview.core/index.json`)).json())).not.toContain('2.0.0');
  });

  it('shows a version published after it was staged as the published one', async () => {
    await stage('Preview.Late', '1.0.0', keys.alphaStage!, 'release-1');
    const published = await buildNupkg({ id: 'Preview.Late', version: '1.0.0', description: 'the published build' });
    expect((await pushRaw(s.url, published, keys.alphaPush)).status).toBe(201);
    const folder = preview('alpha', 'release-1');
    expect((await json(await get(`${folder}flatcontainer/preview.late/index.json`, keys.alphaStage!))).versions).toEqual(['1.0.0']);
    const bytes = Buffer.from(await (await get(`${folder}flatcontainer/preview.late/1.0.0/preview.late.1.0.0.nupkg`, keys.alphaStage!)).arrayBuffer());
    expect(bytes.equals(published)).toBe(true);
  });

  it('is gone (404) once the group is deleted', async () => {
    await stage('Preview.Gone', '1.0.0', keys.alphaStage!, 'short-lived');
    const folder = preview('alpha', 'short-lived');
    expect((await get(`${folder}index.json`, keys.alphaStage!)).status).toBe(200);
    const deleted = await fetch(`${staging}/groups/short-lived`, { method: 'DELETE', headers: { 'x-nuget-apikey': keys.alphaStage! } });
    expect(deleted.status).toBe(204);
    expect((await get(`${folder}index.json`, keys.alphaStage!)).status).toBe(404);
    expect((await get(`${folder}flatcontainer/preview.gone/index.json`, keys.alphaStage!)).status).toBe(404);
  });

  it('is gone (404) once the group is promoted, and the feed serves what the preview did', async () => {
    await stage('Preview.Promoted', '1.0.0', keys.alphaStage!, 'to-promote');
    const folder = preview('alpha', 'to-promote');
    const previewed = Buffer.from(await (await get(`${folder}flatcontainer/preview.promoted/1.0.0/preview.promoted.1.0.0.nupkg`, keys.alphaStage!)).arrayBuffer());
    const promoted = await fetch(`${staging}/groups/to-promote/promote`, { method: 'POST', headers: { 'x-nuget-apikey': keys.alphaPush! } });
    expect(promoted.status, await promoted.clone().text()).toBe(200);
    expect((await get(`${folder}index.json`, keys.alphaStage!)).status).toBe(404);
    expect((await get(`${folder}flatcontainer/preview.promoted/index.json`, keys.alphaStage!)).status).toBe(404);
    const published = Buffer.from(await (await fetch(`${s.url}/v3/flatcontainer/preview.promoted/1.0.0/preview.promoted.1.0.0.nupkg`)).arrayBuffer());
    expect(published.equals(previewed)).toBe(true);
    expect(previewed.equals(staged.get('Preview.Promoted 1.0.0')!)).toBe(true);
  });
});

describe('a preview feed of a private feed', () => {
  let p: TestServer;
  beforeAll(async () => {
    p = await startTestServer({ private: true });
  });
  afterAll(() => p?.close());

  it("needs the owner's key, checked once per request (the private feed's own check stands aside)", async () => {
    const key = await createKey(p, { owner: 'alpha', scopes: ['stage'] });
    const read = await createKey(p, { owner: 'gamma', scopes: ['read'] });
    const base = `${p.url}/v3/staging`;
    const form = new FormData();
    form.append('package', new Blob([new Uint8Array(await buildNupkg({ id: 'Private.Core', version: '1.0.0' }))]), 'x.nupkg');
    form.append('groupId', 'g');
    expect((await fetch(`${base}/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': key } })).status).toBe(201);
    const url = `${base}/preview/alpha/g/flatcontainer/private.core/index.json`;
    const anonymous = await get(url, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
    // A key that may read the private feed, of another owner: the group stays hidden.
    expect((await get(url, read)).status).toBe(404);
    const authenticate = vi.spyOn(p.feed.auth, 'authenticate');
    try {
      expect((await json(await get(url, key))).versions).toEqual(['1.0.0']);
      expect(authenticate).toHaveBeenCalledTimes(1);
    } finally {
      authenticate.mockRestore();
    }
  });
});
