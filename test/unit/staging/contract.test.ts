/**
 * Package staging over HTTP (both backends), checked against NuGet's PackageStaging API contract: every route, its
 * statuses and JSON shapes (`Artifact`, `Group`, `Blocker`, paged lists), failures as `{"error":{"code","message"}}`;
 * staged packages invisible to every reader; the `stage` key scope; owners; hostile uploads; the sweeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepStaging } from '../../../src/feed/staging-sweep.js';
import { pushMultipart, pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { createKey } from '../auth/support.js';
import { personKey } from '../people/support.js';
import { addMember, addUser, grant } from '../ui/people-support.js';
import { corePackage, dll, ID as CORE_ID, symbolsPackage } from '../symbols/fixtures.js';

const MiB = 1024 * 1024;
let s: TestServer;
const keys: Record<string, string> = {};
let base: string;

beforeAll(async () => {
  s = await startTestServer({ maxPackageSize: 2 * MiB, webhookAllowPrivateAddresses: true });
  keys.alpha = await createKey(s, { owner: 'alpha', scopes: ['push-new', 'push', 'unlist'] });
  keys.alphaStage = await createKey(s, { owner: 'alpha', scopes: ['stage'] });
  keys.beta = await createKey(s, { owner: 'beta', scopes: ['push-new', 'push'] });
  keys.reader = await createKey(s, { owner: 'alpha', scopes: ['read'] });
  const index = (await (await fetch(`${s.url}/v3/index.json`)).json()) as { resources: Array<{ '@id': string; '@type': string }> };
  base = index.resources.find((r) => r['@type'] === 'PackageStaging/1.0.0')!['@id'];
});
afterAll(() => s.close());

type Json = Record<string, unknown>;

async function stage(kind: 'package' | 'symbols', body: Buffer, key: string | null, groupId?: string, part: string = kind): Promise<{ status: number; body: Json }> {
  const form = new FormData();
  // The contract's CLI sends the file first and groupId after it; any order must work.
  form.append(part, new Blob([new Uint8Array(body)]), kind === 'package' ? 'x.nupkg' : 'x.snupkg');
  if (groupId !== undefined) form.append('groupId', groupId);
  const res = await fetch(`${base}/${kind}`, { method: 'PUT', body: form, headers: key ? { 'x-nuget-apikey': key } : {} });
  return { status: res.status, body: (await res.json()) as Json };
}

async function call(method: string, path: string, key: string | null, body?: unknown): Promise<{ status: number; body: Json | null; type: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(key ? { 'x-nuget-apikey': key } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : null, type: res.headers.get('content-type') ?? '' };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const STATUSES = ['waitingForParent', 'validating', 'ready', 'validationFailed', 'promoting', 'succeeded', 'promotionFailed'];

function expectBlockers(blockers: unknown): void {
  expect(Array.isArray(blockers)).toBe(true);
  for (const b of blockers as Json[]) {
    expect(typeof b.code).toBe('string');
    expect(typeof b.message).toBe('string');
  }
}

/** The contract's `Group`: required fields with their types, optional ones with theirs when present. */
function expectGroup(g: unknown): Json {
  const group = g as Json;
  expect(typeof group.id).toBe('string');
  expect(typeof group.name).toBe('string');
  expect(typeof group.canPromote).toBe('boolean');
  if ('itemCount' in group) expect(typeof group.itemCount).toBe('number');
  if ('blockers' in group) expectBlockers(group.blockers);
  if ('owner' in group) expect(typeof group.owner).toBe('string');
  if ('created' in group) expect(group.created).toMatch(ISO);
  if ('expires' in group) expect(group.expires).toMatch(ISO);
  return group;
}

/** The contract's `Artifact`. */
function expectArtifact(a: unknown): Json {
  const artifact = a as Json;
  expect(typeof artifact.id).toBe('string');
  expect(typeof artifact.version).toBe('string');
  expect(['package', 'symbols']).toContain(artifact.kind);
  expect(STATUSES).toContain(artifact.status);
  expect('group' in artifact).toBe(true);
  if (artifact.group !== null) expectGroup(artifact.group);
  if ('listed' in artifact) expect(typeof artifact.listed).toBe('boolean');
  expect(typeof artifact.canPromote).toBe('boolean');
  if ('blockers' in artifact) expectBlockers(artifact.blockers);
  if ('owner' in artifact) expect(typeof artifact.owner).toBe('string');
  if ('uploaded' in artifact) expect(artifact.uploaded).toMatch(ISO);
  if ('validated' in artifact && artifact.validated !== null) expect(artifact.validated).toMatch(ISO);
  if ('expires' in artifact) expect(artifact.expires).toMatch(ISO);
  return artifact;
}

/** A paged list: `items`, `page`, `pageSize`, `totalCount`. */
function expectPage(body: Json | null, page: number, pageSize: number): Json[] {
  expect(body).not.toBeNull();
  expect(Array.isArray(body!.items)).toBe(true);
  expect(body!.page).toBe(page);
  expect(body!.pageSize).toBe(pageSize);
  expect(typeof body!.totalCount).toBe('number');
  return body!.items as Json[];
}

/** A failure: JSON with `error.code` and `error.message`. */
function expectError(res: { status: number; body: Json | null }, status: number, code?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const error = res.body?.error as Json | undefined;
  expect(typeof error?.code).toBe('string');
  expect(typeof error?.message).toBe('string');
  if (code) expect(error!.code).toBe(code);
}

async function storedKeys(): Promise<string[]> {
  const out: string[] = [];
  for await (const blob of s.feed.blobs.list()) out.push(blob.key);
  return out.sort();
}

const pkg = (id: string, version = '1.0.0', description?: string) => buildNupkg({ id, version, ...(description ? { description } : {}) });

describe('staging contract', () => {
  it('lists PackageStaging/1.0.0 under the service index folder', () => {
    expect(base).toBe(`${s.url}/v3/staging`);
  });

  it('stages a package and returns an Artifact; view and list show it', async () => {
    const res = await stage('package', await pkg('Stage.One', '1.0.0-beta.1'), keys.alpha!);
    expect(res.status).toBe(201);
    const a = expectArtifact(res.body);
    expect(a).toMatchObject({ id: 'Stage.One', version: '1.0.0-beta.1', kind: 'package', status: 'ready', group: null, listed: true, canPromote: true, blockers: [], owner: 'alpha' });
    expect(a.validated).toBe(a.uploaded);
    expect(Date.parse(a.expires as string) - Date.parse(a.uploaded as string)).toBe(30 * 86_400_000);

    const view = await call('GET', '/package/stage.one/1.0.0-BETA.1', keys.alpha!);
    expect(view.status).toBe(200);
    expect(expectArtifact(view.body)).toEqual(a);

    const list = await call('GET', '/package', keys.alpha!);
    expect(list.status).toBe(200);
    const items = expectPage(list.body, 1, 100);
    expect(items.map((i) => i.id)).toContain('Stage.One');
    items.forEach(expectArtifact);
  });

  it('pages lists: echoes page and pageSize, counts every item, refuses bad values with a code', async () => {
    for (const v of ['1.0.0', '2.0.0', '3.0.0']) expect((await stage('package', await pkg('Paged.Key', v), keys.beta!)).status).toBe(201);
    const first = await call('GET', '/package?page=1&pageSize=2', keys.beta!);
    expect(expectPage(first.body, 1, 2)).toHaveLength(2);
    expect(first.body!.totalCount).toBe(3);
    const second = await call('GET', '/package?page=2&pageSize=2', keys.beta!);
    expect(expectPage(second.body, 2, 2).map((i) => i.version)).toEqual(['3.0.0']);
    expect(second.body!.totalCount).toBe(3);
    const beyond = await call('GET', '/package?page=9&pageSize=2', keys.beta!);
    expect(expectPage(beyond.body, 9, 2)).toEqual([]);
    for (const q of ['page=0', 'pageSize=0', 'pageSize=101', 'page=abc', 'pageSize=-1']) {
      expectError(await call('GET', `/package?${q}`, keys.beta!), 400, 'InvalidPaging');
      expectError(await call('GET', `/groups?${q}`, keys.beta!), 400, 'InvalidPaging');
    }
  });

  it('a groupId part puts the package in that group, creating it when missing', async () => {
    const res = await stage('package', await pkg('Grouped.A'), keys.alpha!, 'release-7');
    expect(res.status).toBe(201);
    const group = expectGroup(expectArtifact(res.body).group);
    expect(group).toMatchObject({ id: 'release-7', itemCount: 1, canPromote: true, owner: 'alpha' });

    const groups = await call('GET', '/groups', keys.alpha!);
    const items = expectPage(groups.body, 1, 100);
    items.forEach(expectGroup);
    expect(items.find((g) => g.id === 'release-7')).toMatchObject({ itemCount: 1 });

    // Group ids are case-insensitive.
    const got = await call('GET', '/groups/RELEASE-7', keys.alpha!);
    expect(got.status).toBe(200);
    expectGroup(got.body!.group);
    expect(expectPage(got.body, 1, 100).map((m) => m.id)).toEqual(['Grouped.A']);
    expect(got.body!.totalCount).toBe(1);

    // groupId before the file part works as well; the group is found whatever the case.
    const form = new FormData();
    form.append('groupId', 'Release-7');
    form.append('package', new Blob([new Uint8Array(await pkg('Grouped.B'))]), 'b.nupkg');
    const before = await fetch(`${base}/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': keys.alpha! } });
    expect(before.status).toBe(201);
    expect((((await before.json()) as Json).group as Json).id).toBe('release-7');
    expect((await call('GET', '/groups/release-7', keys.alpha!)).body!.totalCount).toBe(2);
  });

  it('creates, renames, moves between, removes from and deletes groups', async () => {
    const created = await call('POST', '/groups', keys.alpha!, { id: 'Train-1', name: 'Release train 1' });
    expect(created.status).toBeGreaterThanOrEqual(200);
    expect(created.status).toBeLessThan(300);
    expectError(await call('POST', '/groups', keys.alpha!, { id: 'train-1', name: 'again' }), 409, 'GroupExists');
    expectError(await call('POST', '/groups', keys.alpha!, { id: 'bad id/', name: 'x' }), 400, 'InvalidGroupId');
    expectError(await call('POST', '/groups', keys.alpha!, { id: 'no-name' }), 400, 'InvalidGroupName');
    expect((await call('POST', '/groups', keys.alpha!, { id: 'Train-2', name: 'Release train 2' })).status).toBe(201);

    const empty = await call('GET', '/groups/train-1', keys.alpha!);
    expect(expectGroup(empty.body!.group)).toMatchObject({ id: 'Train-1', name: 'Release train 1', itemCount: 0, canPromote: false });
    expect(expectPage(empty.body, 1, 100)).toEqual([]);

    expect((await call('PATCH', '/groups/train-1', keys.alpha!, { name: 'Renamed' })).status).toBe(204);
    expect(((await call('GET', '/groups/train-1', keys.alpha!)).body!.group as Json).name).toBe('Renamed');

    expect((await stage('package', await pkg('Mover'), keys.alpha!)).status).toBe(201);
    expect((await call('PUT', '/groups/train-1/items/Mover/1.0.0', keys.alpha!)).status).toBe(204);
    expect(((await call('GET', '/package/Mover/1.0.0', keys.alpha!)).body!.group as Json).id).toBe('Train-1');
    // Moving: into the other group, out of the first.
    expect((await call('PUT', '/groups/Train-2/items/mover/1.0.0', keys.alpha!)).status).toBe(204);
    expect(((await call('GET', '/package/Mover/1.0.0', keys.alpha!)).body!.group as Json).id).toBe('Train-2');
    expect((await call('GET', '/groups/train-1', keys.alpha!)).body!.totalCount).toBe(0);
    expect((await call('GET', '/groups/train-2', keys.alpha!)).body!.totalCount).toBe(1);
    expectError(await call('PUT', '/groups/train-2/items/Not.Staged/1.0.0', keys.alpha!), 404);
    expectError(await call('PUT', '/groups/no-such-group/items/Mover/1.0.0', keys.alpha!), 404, 'GroupNotFound');

    // Removing keeps the package staged, ungrouped.
    expect((await call('DELETE', '/groups/train-2/items/Mover/1.0.0', keys.alpha!)).status).toBe(204);
    const removed = await call('GET', '/package/Mover/1.0.0', keys.alpha!);
    expect(removed.status).toBe(200);
    expect(removed.body!.group).toBeNull();

    // Deleting a group deletes its members and their files.
    expect((await call('PUT', '/groups/train-2/items/Mover/1.0.0', keys.alpha!)).status).toBe(204);
    const before = await storedKeys();
    expect((await call('DELETE', '/groups/train-2', keys.alpha!)).status).toBe(204);
    expectError(await call('GET', '/package/Mover/1.0.0', keys.alpha!), 404);
    expectError(await call('GET', '/groups/train-2', keys.alpha!), 404, 'GroupNotFound');
    expect((await storedKeys()).length).toBe(before.length - 1);
  });

  it('deleting what is already gone succeeds', async () => {
    expect((await call('DELETE', '/package/Never.Staged/1.0.0', keys.alpha!)).status).toBe(204);
    expect((await call('DELETE', '/symbols/Never.Staged/1.0.0', keys.alpha!)).status).toBe(204);
    expect((await call('DELETE', '/groups/never-made', keys.alpha!)).status).toBe(204);
    expect((await stage('package', await pkg('Deleted.Twice'), keys.alpha!)).status).toBe(201);
    expect((await call('DELETE', '/package/Deleted.Twice/1.0.0', keys.alpha!)).status).toBe(204);
    expect((await call('DELETE', '/package/Deleted.Twice/1.0.0', keys.alpha!)).status).toBe(204);
    expectError(await call('GET', '/package/Deleted.Twice/1.0.0', keys.alpha!), 404, 'PackageNotFound');
  });

  it('re-staging identical bytes changes nothing; different bytes replace the package, keep its group, reset its expiry', async () => {
    const bytes = await pkg('Restaged', '1.0.0', 'first build');
    const first = expectArtifact((await stage('package', bytes, keys.alpha!, 'restage-group')).body);
    const files = await storedKeys();
    await new Promise((r) => setTimeout(r, 20));
    const again = await stage('package', bytes, keys.alpha!);
    expect(again.status).toBeLessThan(300);
    expect(again.body).toEqual(first);
    expect(await storedKeys()).toEqual(files);

    const replaced = expectArtifact((await stage('package', await pkg('Restaged', '1.0.0', 'second build'), keys.alpha!)).body);
    expect((replaced.group as Json).id).toBe('restage-group');
    expect(Date.parse(replaced.uploaded as string)).toBeGreaterThan(Date.parse(first.uploaded as string));
    expect(Date.parse(replaced.expires as string)).toBeGreaterThan(Date.parse(first.expires as string));
    // The old file went; one file for the package still.
    expect((await storedKeys()).filter((k) => k.includes('/restaged/')).length).toBe(1);
  });

  it('symbols need their package staged; they follow it and say so when it goes', async () => {
    const snupkg = await symbolsPackage();
    expectError(await stage('symbols', snupkg, keys.alpha!), 404, 'ParentNotStaged');
    expect((await stage('package', await corePackage(), keys.alpha!, 'with-symbols')).status).toBe(201);
    const res = await stage('symbols', snupkg, keys.alpha!);
    expect(res.status).toBe(201);
    const sym = expectArtifact(res.body);
    expect(sym).toMatchObject({ id: CORE_ID, version: '1.0.0', kind: 'symbols', status: 'ready', canPromote: true });
    expect((sym.group as Json).id).toBe('with-symbols');
    expect('listed' in sym).toBe(false);
    expect(expectPage((await call('GET', '/symbols', keys.alpha!)).body, 1, 100).map((i) => i.id)).toEqual([CORE_ID]);
    expect((await call('GET', `/symbols/${CORE_ID}/1.0.0`, keys.alpha!)).status).toBe(200);
    expect((await call('GET', '/groups/with-symbols', keys.alpha!)).body!.totalCount).toBe(2);

    // Symbols that do not match the package's assemblies are refused, and nothing is stored.
    const files = await storedKeys();
    const foreign = await symbolsPackage({ files: [{ name: `lib/net10.0/${CORE_ID}.pdb`, data: Buffer.from('not a pdb') }] });
    expectError(await stage('symbols', foreign, keys.alpha!), 400, 'InvalidSymbolsPackage');
    expect(await storedKeys()).toEqual(files);

    expect((await call('DELETE', `/package/${CORE_ID}/1.0.0`, keys.alpha!)).status).toBe(204);
    const orphaned = expectArtifact((await call('GET', `/symbols/${CORE_ID}/1.0.0`, keys.alpha!)).body);
    expect(orphaned.status).toBe('waitingForParent');
    expect(orphaned.canPromote).toBe(false);
    expect((orphaned.blockers as Json[]).map((b) => b.code)).toEqual(['ParentMissing']);
    expect(expectGroup((await call('GET', '/groups/with-symbols', keys.alpha!)).body!.group).canPromote).toBe(false);
    expect((await call('DELETE', `/symbols/${CORE_ID}/1.0.0`, keys.alpha!)).status).toBe(204);

    // A package replaced by another build drops the symbols staged for the old one.
    expect((await stage('package', await corePackage('2.0.0'), keys.alpha!)).status).toBe(201);
    expect((await stage('symbols', await symbolsPackage({ version: '2.0.0' }), keys.alpha!)).status).toBe(201);
    expect((await stage('package', await corePackage('2.0.0', dll('x64')), keys.alpha!)).status).toBe(201);
    expectError(await call('GET', `/symbols/${CORE_ID}/2.0.0`, keys.alpha!), 404, 'SymbolsNotFound');
    expect((await storedKeys()).filter((k) => k.includes('symbols/'))).toEqual([]);
  });

  it('refuses a version already published, and blocks one published after it was staged', async () => {
    expect((await pushRaw(s.url, await pkg('Published.Already'), keys.alpha!)).status).toBe(201);
    expectError(await stage('package', await pkg('Published.Already'), keys.alpha!), 409, 'AlreadyPublished');

    expect((await stage('package', await pkg('Published.Later', '2.0.0'), keys.alpha!, 'later')).status).toBe(201);
    expect((await pushRaw(s.url, await pkg('Published.Later', '2.0.0'), keys.alpha!)).status).toBe(201);
    const a = expectArtifact((await call('GET', '/package/Published.Later/2.0.0', keys.alpha!)).body);
    expect(a.canPromote).toBe(false);
    expect((a.blockers as Json[]).map((b) => b.code)).toEqual(['AlreadyPublished']);
    const g = expectGroup((await call('GET', '/groups/later', keys.alpha!)).body!.group);
    expect(g.canPromote).toBe(false);
    expect((g.blockers as Json[]).length).toBeGreaterThan(0);
  });

  it('staged packages are invisible to every reader of the feed', async () => {
    expect((await pushRaw(s.url, await pkg('Visible.Control'), keys.alpha!)).status).toBe(201);
    expect((await stage('package', await pkg('Hidden.Staged'), keys.alpha!)).status).toBe(201);
    const status = async (path: string) => {
      const res = await fetch(`${s.url}${path}`);
      await res.arrayBuffer();
      return res.status;
    };
    expect(await status('/v3/flatcontainer/hidden.staged/index.json')).toBe(404);
    expect(await status('/v3/flatcontainer/hidden.staged/1.0.0/hidden.staged.1.0.0.nupkg')).toBe(404);
    expect(await status('/v3/registration/hidden.staged/index.json')).toBe(404);
    expect(await status('/v3/registration-gz-semver2/hidden.staged/index.json')).toBe(404);
    expect(await status('/packages/Hidden.Staged/1.0.0')).toBe(404);
    expect(await status('/packages/Hidden.Staged')).toBe(404);
    // Search loads in the background: wait for the published control, then the staged one must be absent.
    let ids: string[] = [];
    for (let i = 0; i < 100 && !ids.includes('Visible.Control'); i++) {
      const body = (await (await fetch(`${s.url}/v3/search?q=&take=1000`)).json()) as { data: Array<{ id: string }> };
      ids = body.data.map((d) => d.id);
      if (!ids.includes('Visible.Control')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ids).toContain('Visible.Control');
    expect(ids).not.toContain('Hidden.Staged');
    const auto = (await (await fetch(`${s.url}/v3/autocomplete?q=hidden`)).json()) as { data: string[] };
    expect(auto.data).not.toContain('Hidden.Staged');
    expect((await (await fetch(`${s.url}/v3/autocomplete?id=hidden.staged`)).json()) as { data: string[] }).toMatchObject({ data: [] });
    const v2 = await (await fetch(`${s.url}/api/v2/FindPackagesById()?id='Hidden.Staged'`)).text();
    expect(v2).not.toContain('Hidden.Staged');
    const v2Search = await (await fetch(`${s.url}/api/v2/Search()?searchTerm='hidden'`)).text();
    expect(v2Search).not.toContain('Hidden.Staged');
  });

  it('a staging-only key stages and does nothing else: plain push refuses it with 403', async () => {
    const body = await pkg('Stage.Only');
    expect((await pushRaw(s.url, body, keys.alphaStage!)).status).toBe(403);
    const form = new FormData();
    form.append('package', new Blob([new Uint8Array(body)]), 'package.nupkg');
    const multipart = await fetch(`${s.url}/api/v2/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': keys.alphaStage! } });
    await multipart.arrayBuffer();
    expect(multipart.status).toBe(403);
    expect((await fetch(`${s.url}/v3/flatcontainer/stage.only/index.json`)).status).toBe(404);

    const staged = await stage('package', body, keys.alphaStage!);
    expect(staged.status).toBe(201);
    expect(staged.body.owner).toBe('alpha');
    expect((await call('GET', '/package/Stage.Only/1.0.0', keys.alphaStage!)).status).toBe(200);
    // A key of the same owner with push scopes sees it too.
    expect((await call('GET', '/package/Stage.Only/1.0.0', keys.alpha!)).status).toBe(200);
    // A read-only key may not stage; no key at all is a 401; both as JSON errors.
    expectError(await stage('package', body, keys.reader!), 403, 'Forbidden');
    expectError(await stage('package', body, null), 401, 'Unauthorized');
    expectError(await call('GET', '/package', null), 401);
  });

  it("another owner's key sees nothing of alpha's staging and cannot touch it", async () => {
    expect((await stage('package', await pkg('Alpha.Secret'), keys.alpha!, 'alpha-release')).status).toBe(201);
    expectError(await call('GET', '/package/Alpha.Secret/1.0.0', keys.beta!), 404);
    expect(expectPage((await call('GET', '/package', keys.beta!)).body, 1, 100).map((i) => i.id)).not.toContain('Alpha.Secret');
    expect(expectPage((await call('GET', '/groups', keys.beta!)).body, 1, 100).map((g) => g.id)).not.toContain('alpha-release');
    expectError(await call('GET', '/groups/alpha-release', keys.beta!), 404);
    // Delete: success for beta (nothing of theirs was there), and alpha's package is still staged.
    expect((await call('DELETE', '/package/Alpha.Secret/1.0.0', keys.beta!)).status).toBe(204);
    expect((await call('DELETE', '/groups/alpha-release', keys.beta!)).status).toBe(204);
    expect((await call('GET', '/package/Alpha.Secret/1.0.0', keys.alpha!)).status).toBe(200);
    expect((await call('GET', '/groups/alpha-release', keys.alpha!)).body!.totalCount).toBe(1);
    // Beta cannot move alpha's package into a group of its own.
    expect((await call('POST', '/groups', keys.beta!, { id: 'beta-release', name: 'Beta' })).status).toBe(201);
    expectError(await call('PUT', '/groups/beta-release/items/Alpha.Secret/1.0.0', keys.beta!), 404);
    expectError(await call('DELETE', '/groups/alpha-release/items/Alpha.Secret/1.0.0', keys.beta!), 404);
    expect(((await call('GET', '/package/Alpha.Secret/1.0.0', keys.alpha!)).body!.group as Json).id).toBe('alpha-release');
    // An admin sees it.
    expect((await call('GET', '/package/Alpha.Secret/1.0.0', TEST_KEY)).status).toBe(200);
  });

  it('refuses hostile uploads with 400 or 413 and stores nothing', async () => {
    const files = await storedKeys();
    const count = async () => ((await call('GET', '/package', TEST_KEY)).body!.totalCount as number);
    const before = await count();
    expectError(await stage('package', Buffer.from('this is not a zip file at all'), keys.alpha!), 400, 'InvalidPackage');
    expectError(await stage('package', await pkg('Wrong.Part'), keys.alpha!, undefined, 'file'), 400);
    const raw = await fetch(`${base}/package`, { method: 'PUT', body: new Uint8Array(await pkg('Raw.Body')), headers: { 'x-nuget-apikey': keys.alpha!, 'content-type': 'application/octet-stream' } });
    expectError({ status: raw.status, body: (await raw.json()) as Json }, 400);
    const big = Buffer.alloc(3 * MiB, 1);
    const tooBig = await stage('package', big, keys.alpha!).catch(() => ({ status: 413, body: { error: { code: 'x', message: 'closed' } } as Json }));
    expectError(tooBig, 413);
    expectError(await stage('package', await pkg('Bad.Group'), keys.alpha!, 'no spaces allowed'), 400, 'InvalidGroupId');
    expect(await storedKeys()).toEqual(files);
    expect(await count()).toBe(before);
  });

  it('the orphan sweep leaves staged files alone; the expiry sweep removes expired ones with their files', async () => {
    const res = await stage('package', await pkg('Swept.Later'), keys.alpha!, 'swept-group');
    expect(res.status).toBe(201);
    const file = (await storedKeys()).find((k) => k.includes('/swept.later/'))!;
    expect(file).toBeDefined();
    const orphans = await s.feed.hub.sweepOrphans(false, Date.now() + 86_400_000);
    expect(orphans).not.toContain(file);
    expect(await storedKeys()).toContain(file);

    // Not yet expired: nothing of it goes.
    expect(await sweepStaging(s.feed, new Date(Date.now() + 29 * 86_400_000))).not.toContain(file);
    const removed = await sweepStaging(s.feed, new Date(Date.now() + 31 * 86_400_000));
    expect(removed).toContain(file);
    expect(await storedKeys()).not.toContain(file);
    expectError(await call('GET', '/package/Swept.Later/1.0.0', keys.alpha!), 404);
    expectError(await call('GET', '/groups/swept-group', keys.alpha!), 404);
  });

  it('queues a package.staged webhook event', async () => {
    const { webhook } = await s.feed.webhooks.create({ name: 'test', keyId: null, owner: null, address: null }, { url: 'http://127.0.0.1:9/hook', events: ['package.staged'] });
    expect((await stage('package', await pkg('Hooked.Package', '4.0.0'), keys.alpha!, 'hooked')).status).toBe(201);
    const { deliveries } = await s.feed.webhooks.show(webhook.webhookId);
    expect(deliveries.map((d) => d.event)).toEqual(['package.staged']);
    const body = JSON.parse(deliveries[0]!.payload) as { package: Json };
    expect(body.package).toMatchObject({ id: 'Hooked.Package', version: '4.0.0', group: 'hooked' });
  });
});

describe('staging limits', () => {
  it('bounds the groups an owner may have', async () => {
    const g = await startTestServer({ stagingMaxGroups: 2 });
    try {
      const post = async (id: string) => {
        const res = await fetch(`${g.url}/v3/staging/groups`, { method: 'POST', body: JSON.stringify({ id, name: id }), headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' } });
        return { status: res.status, body: (await res.json()) as Json };
      };
      expect((await post('one')).status).toBe(201);
      expect((await post('two')).status).toBe(201);
      expectError(await post('three'), 403, 'TooManyGroups');
      const form = new FormData();
      form.append('package', new Blob([new Uint8Array(await pkg('Limited'))]), 'x.nupkg');
      form.append('groupId', 'three');
      const res = await fetch(`${g.url}/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': TEST_KEY } });
      expectError({ status: res.status, body: (await res.json()) as Json }, 403, 'TooManyGroups');
    } finally {
      await g.close();
    }
  });

  it('counts staged packages against the feed quota', async () => {
    const q = await startTestServer({ quotaPackages: 1 });
    try {
      const form = async (id: string) => {
        const f = new FormData();
        f.append('package', new Blob([new Uint8Array(await pkg(id))]), 'x.nupkg');
        return fetch(`${q.url}/v3/staging/package`, { method: 'PUT', body: f, headers: { 'x-nuget-apikey': TEST_KEY } });
      };
      expect((await form('Quota.One')).status).toBe(201);
      const second = await form('Quota.Two');
      expect(second.status).toBe(403);
      expect(((await second.json()) as { error: Json }).error.message).toMatch(/quota/);
      // A push counts the staged package too.
      expect((await pushMultipart(q.url, await pkg('Quota.Three'))).status).toBe(403);
    } finally {
      await q.close();
    }
  });
});

describe('staging on every feed', () => {
  it("serves the contract under another feed's path, private or not, and keeps feeds apart", async () => {
    const m = await startTestServer();
    try {
      const record = await m.feed.hub.feedDb.createFeed({ name: 'dev', description: '', settings: { private: true }, members: null, created: new Date().toISOString() });
      await m.feed.hub.reloadDefinitions();
      const devKey = await createKey(m, { owner: 'alpha', scopes: ['stage'], feeds: [record!.id] });
      const index = (await (await fetch(`${m.url}/f/dev/v3/index.json`)).json()) as { resources: Array<{ '@id': string; '@type': string }> };
      const devBase = index.resources.find((r) => r['@type'] === 'PackageStaging/1.0.0')!['@id'];
      expect(devBase).toBe(`${m.url}/f/dev/v3/staging`);
      const form = new FormData();
      form.append('package', new Blob([new Uint8Array(await pkg('Dev.Staged'))]), 'x.nupkg');
      form.append('groupId', 'dev-release');
      const res = await fetch(`${devBase}/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': devKey } });
      expect(res.status).toBe(201);
      expect(((await res.json()) as Json).owner).toBe('alpha');
      // The default feed knows nothing of it, and the dev key is not valid there.
      const other = await fetch(`${m.url}/v3/staging/package/Dev.Staged/1.0.0`, { headers: { 'x-nuget-apikey': TEST_KEY } });
      expect(other.status).toBe(404);
      expect(((await other.json()) as { error: Json }).error.code).toBe('PackageNotFound');
      const refused = await fetch(`${m.url}/v3/staging/package`, { headers: { 'x-nuget-apikey': devKey } });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: Json }).error.code).toBe('Forbidden');
      const listed = (await (await fetch(`${devBase}/groups/dev-release`, { headers: { 'x-nuget-apikey': devKey } })).json()) as Json;
      expect(listed.totalCount).toBe(1);
      // A body where none belongs is bounded.
      const big = await fetch(`${devBase}/groups/dev-release`, { method: 'DELETE', body: new Uint8Array(64 * 1024), headers: { 'x-nuget-apikey': devKey, 'content-type': 'application/octet-stream' } });
      expect(big.status).toBe(413);
      expect(((await big.json()) as { error: Json }).error.code).toBe('TooLarge');

      // Deleting the feed takes its staged packages and their files with it.
      const files = async () => {
        const out: string[] = [];
        for await (const blob of m.feed.blobs.list()) out.push(blob.key);
        return out;
      };
      expect((await files()).some((k) => k.includes('dev.staged'))).toBe(true);
      const gone = await fetch(`${m.url}/api/admin/feeds/dev?force=true`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
      expect(gone.status).toBe(200);
      expect((await files()).some((k) => k.includes('dev.staged'))).toBe(false);
    } finally {
      await m.close();
    }
  });

  it('two stagings of one identity at once: one wins, the other is told, one file is kept', async () => {
    const m = await startTestServer();
    try {
      const put = async (description: string) => {
        const form = new FormData();
        form.append('package', new Blob([new Uint8Array(await pkg('Raced', '1.0.0', description))]), 'x.nupkg');
        const res = await fetch(`${m.url}/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': TEST_KEY } });
        await res.arrayBuffer();
        return res.status;
      };
      const statuses = await Promise.all([put('one'), put('two'), put('three')]);
      for (const st of statuses) expect([201, 409]).toContain(st);
      expect(statuses).toContain(201);
      const files: string[] = [];
      for await (const blob of m.feed.blobs.list()) files.push(blob.key);
      expect(files.filter((k) => k.includes('/raced/'))).toHaveLength(1);
    } finally {
      await m.close();
    }
  });
});

describe('staging and organisations', () => {
  it("a member sees and manages their organisation's staging, within their role; others do not", async () => {
    const o = await startTestServer();
    try {
      const aliceId = await addUser(o, 'alice');
      await addMember(o, 'contoso', aliceId);
      await grant(o, 'default', 'alice', 'contributor');
      const ci = await createKey(o, { owner: 'contoso', scopes: ['stage'] });
      const aliceKey = await personKey(o, { userId: aliceId, name: 'alice', cookie: '', csrf: '' }, 'alice', ['read', 'push-new', 'push', 'unlist', 'stage']);
      const other = await createKey(o, { owner: 'fabrikam', scopes: ['stage'] });
      const form = new FormData();
      form.append('package', new Blob([new Uint8Array(await pkg('Contoso.Staged'))]), 'x.nupkg');
      form.append('groupId', 'contoso-release');
      const staged = await fetch(`${o.url}/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': ci } });
      expect(staged.status).toBe(201);
      const get = (key: string, path: string, method = 'GET') => fetch(`${o.url}/v3/staging${path}`, { method, headers: { 'x-nuget-apikey': key } });
      expect((await get(aliceKey, '/package/Contoso.Staged/1.0.0')).status).toBe(200);
      expect((((await (await get(aliceKey, '/groups')).json()) as Json).items as Json[]).map((g) => g.id)).toEqual(['contoso-release']);
      expect((await get(other, '/package/Contoso.Staged/1.0.0')).status).toBe(404);
      expect((await get(aliceKey, '/groups/contoso-release/items/Contoso.Staged/1.0.0', 'DELETE')).status).toBe(204);
      expect(((await (await get(ci, '/package/Contoso.Staged/1.0.0')).json()) as Json).group).toBeNull();
      // With only a reader's role, the person's key may not touch staging on the feed.
      await grant(o, 'default', 'alice', 'reader');
      expect((await get(aliceKey, '/package/Contoso.Staged/1.0.0')).status).toBe(403);
    } finally {
      await o.close();
    }
  });
});
