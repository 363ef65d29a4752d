/**
 * Promotion of staged packages through the staging API (both backends): a group becomes visible all at once with one
 * published time and goes; one package (with its symbols) alone; blockers and rights refuse with nothing changed;
 * promotion by API is off unless the feed allows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { createKey, TEST_ADMIN } from '../auth/support.js';
import { corePackage, expected, ID as CORE_ID, pdb, symbolsPackage } from '../symbols/fixtures.js';
import { createFeed } from '../ui/people-support.js';

let s: TestServer;
const keys: Record<string, string> = {};
/** A webhook whose queued deliveries the test reads (sending them is test/e2e/webhooks.test.ts's). */
let webhookId: number;

beforeAll(async () => {
  s = await startTestServer({ stagingApiPromotion: true, webhookAllowPrivateAddresses: true });
  webhookId = (await s.feed.webhooks.create(TEST_ADMIN, { url: 'http://127.0.0.1:9/hook', events: ['package.pushed', 'group.promoted'] })).webhook.webhookId;
  keys.alpha = await createKey(s, { owner: 'alpha', scopes: ['push-new', 'push', 'unlist'] });
  keys.alphaStage = await createKey(s, { owner: 'alpha', scopes: ['stage'] });
  keys.beta = await createKey(s, { owner: 'beta', scopes: ['push-new', 'push'] });
  await createFeed(s, 'locked', { stagingApiPromotion: false });
});
afterAll(() => s.close());

type Json = Record<string, unknown>;

async function stage(feedPath: string, body: Buffer, key: string, groupId?: string, kind: 'package' | 'symbols' = 'package'): Promise<number> {
  const form = new FormData();
  form.append(kind, new Blob([new Uint8Array(body)]), `x.${kind === 'package' ? 'nupkg' : 'snupkg'}`);
  if (groupId !== undefined) form.append('groupId', groupId);
  const res = await fetch(`${s.url}${feedPath}/v3/staging/${kind}`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': key } });
  await res.text();
  return res.status;
}

async function promote(path: string, key: string, feedPath = ''): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${s.url}${feedPath}/v3/staging/${path}/promote`, { method: 'POST', headers: { 'x-nuget-apikey': key } });
  return { status: res.status, body: (await res.json()) as Json };
}

async function versions(id: string, feedPath = ''): Promise<string[]> {
  const res = await fetch(`${s.url}${feedPath}/v3/flatcontainer/${id.toLowerCase()}/index.json`);
  if (res.status === 404) return [];
  return ((await res.json()) as { versions: string[] }).versions;
}

async function errorCode(res: { status: number; body: Json }): Promise<string> {
  return (res.body.error as Json | undefined)?.code as string;
}

describe('promotion of staged packages', () => {
  it('promotes a whole group at once: one published time, its symbols, new ids owned by who staged them, and the group goes', async () => {
    const ids = ['Rel.Alpha', 'Rel.Beta', 'Rel.Gamma'];
    for (const [i, id] of ids.entries()) {
      expect(await stage('', await buildNupkg({ id, version: i === 2 ? '2.0.0-rc.1' : '1.0.0', dependencies: i > 0 ? { '': [[ids[0]!, '[1.0.0, )']] } : {} }), keys.alphaStage!, 'release-1')).toBe(201);
    }
    expect(await stage('', await corePackage(), keys.alphaStage!, 'release-1')).toBe(201);
    expect(await stage('', await symbolsPackage(), keys.alphaStage!, undefined, 'symbols')).toBe(201);
    for (const id of [...ids, CORE_ID]) expect(await versions(id)).toEqual([]);

    // A staging-only key may not promote (that is the point of it); another owner does not see the group.
    const denied = await promote('groups/release-1', keys.alphaStage!);
    expect(denied.status).toBe(403);
    expect(await errorCode(await promote('groups/release-1', keys.beta!))).toBe('GroupNotFound');
    for (const id of ids) expect(await versions(id)).toEqual([]);

    const done = await promote('groups/release-1', keys.alpha!);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.group).toEqual({ id: 'release-1', name: 'release-1', owner: 'alpha' });
    expect((done.body.packages as Json[]).map((p) => `${p.id} ${p.version} ${p.symbols}`).sort()).toEqual(
      [`${CORE_ID} 1.0.0 true`, 'Rel.Alpha 1.0.0 false', 'Rel.Beta 1.0.0 false', 'Rel.Gamma 2.0.0-rc.1 false'].sort(),
    );
    expect(await versions('Rel.Alpha')).toEqual(['1.0.0']);
    expect(await versions('Rel.Gamma')).toEqual(['2.0.0-rc.1']);

    // Published at the promotion, all of them the same instant; a prerelease stays one.
    for (const id of ids) {
      const reg = (await (await fetch(`${s.url}/v3/registration-gz-semver2/${id.toLowerCase()}/index.json`)).json()) as { items: Array<{ items: Array<{ catalogEntry: Json }> }> };
      const entry = reg.items[0]!.items[0]!.catalogEntry;
      expect(entry.published).toBe(done.body.published);
    }
    const search = (await (await fetch(`${s.url}/v3/search?q=Rel.Gamma&prerelease=false`)).json()) as { totalHits: number };
    expect(search.totalHits).toBe(0);
    // The staged bytes, and the symbols' PDB on the symbol server.
    const nupkg = Buffer.from(await (await fetch(`${s.url}/v3/flatcontainer/${CORE_ID.toLowerCase()}/1.0.0/${CORE_ID.toLowerCase()}.1.0.0.nupkg`)).arrayBuffer());
    expect(nupkg.equals(await corePackage())).toBe(true);
    const served = await fetch(`${s.url}/download/symbols/${expected('anycpu').ssqpKey}`);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(pdb('anycpu'))).toBe(true);

    // Nothing is staged any more, the group is gone, and the new ids are alpha's.
    const staged = (await (await fetch(`${s.url}/v3/staging/package`, { headers: { 'x-nuget-apikey': keys.alpha! } })).json()) as { totalCount: number };
    expect(staged.totalCount).toBe(0);
    expect((await fetch(`${s.url}/v3/staging/groups/release-1`, { headers: { 'x-nuget-apikey': keys.alpha! } })).status).toBe(404);
    expect((await pushRaw(s.url, await buildNupkg({ id: 'Rel.Alpha', version: '1.0.1' }), keys.beta!)).status).toBe(403);
    expect((await pushRaw(s.url, await buildNupkg({ id: 'Rel.Alpha', version: '1.0.1' }), keys.alpha!)).status).toBe(201);

    // Webhooks hear of each package (as a push that was promoted) and of the group.
    type Body = { event: string; package: Json | null; group?: Json; packages?: Json[] };
    const received = (await s.feed.webhooks.show(webhookId, 100)).deliveries.map((d) => JSON.parse(d.payload) as Body);
    const promotedPushes = received.filter((r) => r.event === 'package.pushed' && r.package?.promoted === true);
    expect(promotedPushes.map((r) => `${r.package!.id} ${r.package!.group}`).sort()).toEqual([...ids, CORE_ID].map((id) => `${id} release-1`).sort());
    const group = received.find((r) => r.event === 'group.promoted')!;
    expect(group.package).toBeNull();
    expect(group.group).toEqual({ id: 'release-1', name: 'release-1', owner: 'alpha' });
    expect(group.packages).toHaveLength(4);
  });

  it('refuses a group with a member published meanwhile, and changes nothing', async () => {
    expect(await stage('', await buildNupkg({ id: 'Blocked.One', version: '1.0.0' }), keys.alpha!, 'blocked')).toBe(201);
    expect(await stage('', await buildNupkg({ id: 'Blocked.Two', version: '1.0.0' }), keys.alpha!, 'blocked')).toBe(201);
    expect((await pushRaw(s.url, await buildNupkg({ id: 'Blocked.Two', version: '1.0.0', description: 'pushed directly' }), keys.alpha!)).status).toBe(201);
    const refused = await promote('groups/blocked', keys.alpha!);
    expect(refused.status).toBe(409);
    expect(await errorCode(refused)).toBe('AlreadyPublished');
    expect((refused.body.error as Json).message).toMatch(/Blocked\.Two 1\.0\.0/);
    expect(await versions('Blocked.One')).toEqual([]);
    const group = (await (await fetch(`${s.url}/v3/staging/groups/blocked`, { headers: { 'x-nuget-apikey': keys.alpha! } })).json()) as { group: Json; totalCount: number };
    expect(group.totalCount).toBe(2);
    expect(group.group.canPromote).toBe(false);
    // Without the blocked member, the rest promotes.
    expect((await fetch(`${s.url}/v3/staging/groups/blocked/items/Blocked.Two/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': keys.alpha! } })).status).toBe(204);
    expect((await promote('groups/blocked', keys.alpha!)).status).toBe(200);
    expect(await versions('Blocked.One')).toEqual(['1.0.0']);
  });

  it('promotes one package by id and version; another owner cannot; an empty group cannot', async () => {
    expect(await stage('', await buildNupkg({ id: 'Single.Pkg', version: '3.1.0' }), keys.alpha!)).toBe(201);
    expect(await errorCode(await promote('package/Single.Pkg/3.1.0', keys.beta!))).toBe('PackageNotFound');
    const done = await promote('package/single.pkg/3.1.0', keys.alpha!);
    expect(done.status).toBe(200);
    expect(done.body.group).toBeNull();
    expect(await versions('Single.Pkg')).toEqual(['3.1.0']);
    expect(await errorCode(await promote('package/Single.Pkg/3.1.0', keys.alpha!))).toBe('PackageNotFound');

    const created = await fetch(`${s.url}/v3/staging/groups`, { method: 'POST', headers: { 'x-nuget-apikey': keys.alpha!, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'empty', name: 'Empty' }) });
    expect(created.status).toBe(201);
    expect(await errorCode(await promote('groups/empty', keys.alpha!))).toBe('EmptyGroup');
  });

  it('refuses promotion by API on a feed that does not allow it', async () => {
    expect(await stage('/f/locked', await buildNupkg({ id: 'Locked.Pkg', version: '1.0.0' }), keys.alpha!, 'g')).toBe(201);
    const refused = await promote('groups/g', keys.alpha!, '/f/locked');
    expect(refused.status).toBe(403);
    expect(await errorCode(refused)).toBe('PromotionByApiDisabled');
    expect((refused.body.error as Json).message).toMatch(/stagingApiPromotion/);
    expect(await versions('Locked.Pkg', '/f/locked')).toEqual([]);
  });
});
