/**
 * A feed's trusted-signer policies (src/feed/signer-policies.ts) on a real server, on the test backend: stored per feed,
 * bounded and audited; managed by the feed's admins through `/api/admin/signers` and `pawket signers`; a change made by
 * another process (the command line, another node) reaches the server's cache through the change feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signerCommands } from '../../../src/cli/signers.js';
import { configSchema, type ConfigInput } from '../../../src/config/schema.js';
import { KyselySignerPolicyDatabase } from '../../../src/db/kysely-signer-policy-database.js';
import { FeedEvents } from '../../../src/feed/events.js';
import { SignerPolicies } from '../../../src/feed/signer-policies.js';
import { startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { freshBackendSettings } from '../../support/backend.js';
import { runPawket } from '../../support/cli.js';

const FP1 = 'A1'.repeat(32);
const FP2 = 'B2'.repeat(32);
const actor = { name: 'test', keyId: null, owner: null, address: null };

let s: TestServer;
let settings: Partial<ConfigInput>;
let devAdminKey: string;
let pushKey: string;
let devId: number;

beforeAll(async () => {
  settings = { ...(await freshBackendSettings()), badKeyLimit: 0, changePollInterval: 50 };
  s = await startTestServer(settings);
  const res = await fetch(`${s.url}/api/admin/feeds`, {
    method: 'POST',
    headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'dev', settings: { signatures: 'require' } }),
  });
  expect(res.status).toBe(201);
  devId = s.feed.hub.definition('dev')!.id;
  devAdminKey = (await s.feed.keys.create(actor, { name: 'dev admin', owner: 'ops', scopes: ['admin'], feeds: [devId] })).key;
  pushKey = (await s.feed.keys.create(actor, { name: 'contoso ci', owner: 'contoso', scopes: ['push-new', 'push'] })).key;
});
afterAll(async () => {
  await s?.close();
});

function api(method: string, path: string, key: string | null, body?: unknown): Promise<Response> {
  return fetch(`${s.url}${path}`, {
    method,
    headers: { ...(key ? { 'x-nuget-apikey': key } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function pawket(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const configOf = (flags: { dataDir?: string }) => configSchema.parse({ ...settings, dataDir: flags.dataDir ?? s.dataDir, logLevel: 'silent' });
  return runPawket((program) => signerCommands(program, configOf), s.dataDir, args);
}

describe('storage', () => {
  it('keeps policies per feed, names unique per feed in any case, bounded, and audited', async () => {
    const dev = (await s.feed.hub.feed('dev'))!;
    const added = await dev.signers.add(actor, { name: 'Contoso', pattern: 'Contoso.*', owner: 'Contoso', mode: 'require', fingerprints: [FP1, FP2.toLowerCase()] });
    expect(added).toMatchObject({ name: 'Contoso', pattern: 'Contoso.*', owner: 'contoso', mode: 'require', fingerprints: [FP1, FP2], createdBy: 'test' });
    await expect(dev.signers.add(actor, { name: 'contoso', pattern: 'X.*', mode: 'verify' })).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/^name: .*already has a signer policy named contoso/) });
    expect(await s.feed.signers.list()).toEqual([]);
    expect(await dev.signers.policyFor('contoso.core', 'contoso')).toEqual({ name: 'Contoso', mode: 'require', fingerprints: [FP1, FP2] });
    // Elsewhere the feed's signatures setting decides: the server's default on the default feed, dev's own on dev.
    expect(await s.feed.signers.policyFor('contoso.core', 'contoso')).toEqual({ name: 'feed default', mode: 'verify', fingerprints: [] });
    expect(await dev.signers.policyFor('fabrikam.core', 'fabrikam')).toEqual({ name: 'feed default', mode: 'require', fingerprints: [] });

    const bounded = new SignerPolicies(new KyselySignerPolicyDatabase(s.feed.hub.shared.kysely, devId), dev.audit, new FeedEvents(), { feedName: 'dev', feedSetting: undefined, maxPerFeed: 1, onError: () => {} });
    await expect(bounded.add(actor, { name: 'more', owner: 'fabrikam', mode: 'verify' })).rejects.toMatchObject({ status: 409, message: expect.stringContaining('1 signer policies, the most allowed') });

    // A virtual feed takes no packages: its members' policies decide.
    const created = await fetch(`${s.url}/api/admin/feeds`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'all', members: ['dev'] }),
    });
    expect(created.status).toBe(201);
    const all = (await s.feed.hub.feed('all'))!;
    await expect(all.signers.add(actor, { name: 'x', owner: 'x', mode: 'verify' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('is virtual') });

    expect((await dev.signers.remove(actor, 'CONTOSO')).name).toBe('Contoso');
    await expect(dev.signers.remove(actor, 'contoso')).rejects.toMatchObject({ status: 404 });
    expect(await dev.signers.policyFor('contoso.core', 'contoso')).toMatchObject({ name: 'feed default' });
    const audit = await s.feed.accessDb.listAudit({ limit: 10, feedId: devId });
    expect(audit.filter((e) => e.action.startsWith('signers.')).map((e) => [e.action, e.target, e.detail])).toEqual([
      ['signers.remove', 'signer policy Contoso', 'ids Contoso.* of owner contoso: require, 2 certificates'],
      ['signers.add', 'signer policy Contoso', 'ids Contoso.* of owner contoso: require, 2 certificates'],
    ]);
  });
});

describe('the admin API', () => {
  it("is for admin keys valid on the feed, and refuses bad fields with a 400 naming them", async () => {
    expect((await api('GET', '/f/dev/api/admin/signers', null)).status).toBe(401);
    expect((await api('GET', '/f/dev/api/admin/signers', pushKey)).status).toBe(403);
    // An admin of dev only is no admin of the default feed.
    expect((await api('POST', '/api/admin/signers', devAdminKey, { name: 'x', owner: 'x', mode: 'verify' })).status).toBe(403);

    const bad = await api('POST', '/f/dev/api/admin/signers', devAdminKey, { name: 'fab', pattern: 'Fabrikam.*', mode: 'require', fingerprints: ['12:34'] });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('fingerprints: ');
    const unknown = await api('POST', '/f/dev/api/admin/signers', devAdminKey, { name: 'fab', pattern: 'Fabrikam.*', mode: 'require', extra: 1 });
    expect(unknown.status).toBe(400);

    const created = await api('POST', '/f/dev/api/admin/signers', devAdminKey, { name: 'fab', pattern: 'Fabrikam.*', mode: 'require', fingerprints: [FP1] });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'fab', feed: 'dev', pattern: 'Fabrikam.*', owner: null, mode: 'require', fingerprints: [FP1] });
    const listed = (await (await api('GET', '/f/dev/api/admin/signers', devAdminKey)).json()) as { default: unknown; policies: Array<{ name: string }> };
    expect(listed.default).toEqual({ mode: 'require', fingerprints: [] });
    expect(listed.policies.map((p) => p.name)).toEqual(['fab']);
    expect((await api('DELETE', '/f/dev/api/admin/signers/fab', devAdminKey)).status).toBe(200);
    expect((await api('DELETE', '/f/dev/api/admin/signers/fab', devAdminKey)).status).toBe(404);
  });
});

describe('pawket signers', () => {
  it("adds, lists and removes a feed's policies; the running server sees each change", async () => {
    const add = await pawket('signers', 'add', '--feed', 'dev', '--name', 'northwind', '--owner', 'northwind', '--mode', 'require', '--fingerprint', `${FP1},${FP2}`);
    expect(add.stderr).toBe('');
    expect(add.stdout).toContain('Added signer policy northwind on feed dev: owner northwind: require, 2 certificates.');
    const dev = (await s.feed.hub.feed('dev'))!;
    await expect.poll(() => dev.signers.policyFor('northwind.core', 'northwind'), { timeout: 5000 }).toMatchObject({ name: 'northwind', mode: 'require' });

    const list = await pawket('signers', 'list', '--feed', 'dev');
    expect(list.stdout).toContain('Ids no policy covers: require');
    expect(list.stdout).toMatch(/northwind\s+\*\s+northwind\s+require\s+A1A1/);
    const bad = await pawket('signers', 'add', '--feed', 'dev', '--name', 'bad', '--pattern', 'Bad.*', '--mode', 'sometimes');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("mode: 'sometimes' is not a mode");

    expect((await pawket('signers', 'remove', 'northwind', '--feed', 'dev')).stdout).toContain('Removed signer policy northwind from feed dev');
    await expect.poll(() => dev.signers.policyFor('northwind.core', 'northwind'), { timeout: 5000 }).toMatchObject({ name: 'feed default' });
  });
});
