/**
 * Staging settings over HTTP and the command line (both backends): a feed's `requireStaging` refuses plain pushes of the
 * ids it names and lets them be staged; `stagingMaxGroupSize` and `stagingMaxPerOwner` bound what an owner stages.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedCommands } from '../../../src/cli/feeds.js';
import { configSchema, type ConfigInput } from '../../../src/config/schema.js';
import { operatorPrincipal } from '../../../src/feed/auth.js';
import { importPackages } from '../../../src/feed/import.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { freshBackendSettings } from '../../support/backend.js';
import { runPawket } from '../../support/cli.js';
import { buildNupkg } from '../../support/nupkg.js';
import { createKey } from '../auth/support.js';
import { browse, signedInPerson, submit } from '../people/support.js';
import { corePackage, ID as CORE_ID, symbolsPackage } from '../symbols/fixtures.js';

type Json = Record<string, unknown>;

const pkg = (id: string, version = '1.0.0', description?: string) => buildNupkg({ id, version, ...(description ? { description } : {}) });

async function stage(url: string, kind: 'package' | 'symbols', body: Buffer, key: string, groupId?: string): Promise<{ status: number; body: Json }> {
  const form = new FormData();
  form.append(kind, new Blob([new Uint8Array(body)]), kind === 'package' ? 'x.nupkg' : 'x.snupkg');
  if (groupId !== undefined) form.append('groupId', groupId);
  const res = await fetch(`${url}/v3/staging/${kind}`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': key } });
  return { status: res.status, body: (await res.json()) as Json };
}

function expectError(res: { status: number; body: Json }, status: number, code: string): string {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const error = res.body.error as { code: string; message: string };
  expect(error.code).toBe(code);
  return error.message;
}

/** Pushes until `done` says the answer's status is the awaited one (or 10 s went by); that status. */
async function pushUntil(feedUrl: string, body: Buffer, done: (status: number) => boolean): Promise<number> {
  const until = Date.now() + 10_000;
  for (;;) {
    const status = (await pushRaw(feedUrl, body)).status;
    if (done(status) || Date.now() > until) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('requireStaging', () => {
  let s: TestServer;
  let settings: Partial<ConfigInput>;

  beforeAll(async () => {
    settings = { ...(await freshBackendSettings()), badKeyLimit: 0 };
    s = await startTestServer(settings);
  });
  afterAll(() => s.close());

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${s.url}/api/admin/feeds${path}`, {
      method,
      headers: { 'x-nuget-apikey': TEST_KEY, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  /** Runs `pawket ARGS` against the server's database. */
  const pawket = (...args: string[]) => {
    const configOf = (flags: { dataDir?: string }) => configSchema.parse({ ...settings, dataDir: flags.dataDir ?? s.dataDir, logLevel: 'silent' });
    return runPawket((program) => feedCommands(program, configOf), s.dataDir, args);
  };

  it('is a feed setting of the admin API: a list of id patterns, or one comma-separated text; bad patterns are named', async () => {
    const created = await admin('POST', '', { name: 'rel', settings: { requireStaging: ['Contoso.*', 'Fabrikam.Core'] } });
    expect(created.status, await created.clone().text()).toBe(201);
    expect(((await created.json()) as { settings: Json }).settings).toEqual({ requireStaging: ['Contoso.*', 'Fabrikam.Core'] });

    const bad = await admin('PATCH', '/rel', { settings: { requireStaging: ['Contoso.*', 'Contoso/Core'] } });
    expect(bad.status).toBe(400);
    const message = await bad.text();
    expect(message).toContain('requireStaging');
    expect(message).toContain("'Contoso/Core' is not an id pattern");

    const text = await admin('PATCH', '/rel', { settings: { requireStaging: ' Contoso.* , Fabrikam.Core,' } });
    expect(text.status).toBe(200);
    const shown = (await (await admin('GET', '/rel')).json()) as { settings: Json; effective: Json };
    expect(shown.settings.requireStaging).toEqual(['Contoso.*', 'Fabrikam.Core']);
    expect(shown.effective.requireStaging).toEqual(['Contoso.*', 'Fabrikam.Core']);
    // The server's own value (none) is what other feeds run with.
    expect(((await (await admin('GET', '/default')).json()) as { effective: Json }).effective.requireStaging).toEqual([]);
  });

  it('refuses a plain push of a matching id (V3 and V2 push, the upload form, admins too) with 403 naming the staging endpoint', async () => {
    const feedUrl = `${s.url}/f/rel`;
    const contoso = await pkg('Contoso.Core', '1.0.0');
    for (const path of ['/v3/package', '/api/v2/package', '/api/v2/']) {
      const res = await fetch(`${feedUrl}${path}`, { method: 'PUT', body: new Uint8Array(contoso), headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/octet-stream' } });
      expect(res.status, path).toBe(403);
      const text = await res.text();
      expect(text).toContain("Feed 'rel' requires staging for Contoso.Core (requireStaging: Contoso.*)");
      expect(text).toContain(`stage the package at ${feedUrl}/v3/staging`);
    }
    const pusher = await createKey(s, { owner: 'contoso', scopes: ['push-new', 'push'] });
    const exact = await pushRaw(feedUrl, await pkg('fabrikam.core', '2.0.0'), pusher);
    expect(exact.status).toBe(403);
    expect(await exact.text()).toContain('requires staging for fabrikam.core (requireStaging: Fabrikam.Core)');

    const form = new FormData();
    form.append('apikey', TEST_KEY);
    form.append('package', new Blob([new Uint8Array(contoso)]), 'package.nupkg');
    const upload = await fetch(`${feedUrl}/upload`, { method: 'POST', body: form });
    expect(upload.status).toBe(403);
    expect((await upload.text()).replace(/&#39;/g, "'")).toContain("Feed 'rel' requires staging for Contoso.Core");

    // Nothing was stored or claimed: the id is not there, and no owner holds it.
    expect((await fetch(`${feedUrl}/v3/flatcontainer/contoso.core/index.json`)).status).toBe(404);
    const rel = (await s.feed.hub.feed('rel'))!;
    expect((await rel.accessDb.registration('contoso.core')).registered).toBe(false);
    const audit = await rel.audit.list({ limit: 20, feedId: rel.scope.id, action: 'push.denied' });
    expect(audit.some((e) => e.action === 'push.denied' && e.target === 'Contoso.Core' && /requires staging/.test(e.detail ?? ''))).toBe(true);
  });

  it('pushes ids no pattern covers, and stages covered ones as usual', async () => {
    const feedUrl = `${s.url}/f/rel`;
    expect((await pushRaw(feedUrl, await pkg('Other.Lib', '1.0.0'))).status).toBe(201);
    expect((await pushRaw(feedUrl, await pkg('Contoso', '1.0.0'))).status).toBe(201);
    expect((await pushRaw(feedUrl, await pkg('Fabrikam.Core.Extras', '1.0.0'))).status).toBe(201);
    const staged = await stage(feedUrl, 'package', await pkg('Contoso.Core', '1.0.0'), TEST_KEY);
    expect(staged.status, JSON.stringify(staged.body)).toBe(201);
    expect(staged.body).toMatchObject({ id: 'Contoso.Core', version: '1.0.0', status: 'ready' });
    // Other feeds do not require it.
    expect((await pushRaw(s.url, await pkg('Contoso.Core', '1.0.0'))).status).toBe(201);

    // Promotion is how the staged version reaches the feed.
    expect((await admin('PATCH', '/rel', { settings: { stagingApiPromotion: true } })).status).toBe(200);
    const promoted = await fetch(`${feedUrl}/v3/staging/package/Contoso.Core/1.0.0/promote`, { method: 'POST', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(promoted.status, await promoted.clone().text()).toBe(200);
    const index = await fetch(`${feedUrl}/v3/flatcontainer/contoso.core/index.json`);
    expect(((await index.json()) as { versions: string[] }).versions).toEqual(['1.0.0']);
  });

  it('refuses an import (a push by the command line) of a matching id, naming the feed\'s staging path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pawket-import-'));
    try {
      await mkdir(join(dir, 'pkgs'));
      await writeFile(join(dir, 'pkgs', 'contoso.tools.1.0.0.nupkg'), await pkg('Contoso.Tools', '1.0.0'));
      await writeFile(join(dir, 'pkgs', 'plain.tools.1.0.0.nupkg'), await pkg('Plain.Tools', '1.0.0'));
      const rel = (await s.feed.hub.feed('rel'))!;
      const result = await importPackages(rel, dir, operatorPrincipal('pawket import (test)'), { maxPackageSize: 1024 * 1024 });
      expect(result).toMatchObject({ imported: 1, rejected: 1 });
      expect(result.rejections[0]!.reason).toContain("Feed 'rel' requires staging for Contoso.Tools (requireStaging: Contoso.*): stage the package at /f/rel/v3/staging");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("is set by a feed's owner on the feeds page, as comma-separated text", async () => {
    const owner = await signedInPerson(s, 'erin');
    expect((await admin('POST', '', { name: 'owned' })).status).toBe(201);
    const role = await fetch(`${s.url}/api/admin/feeds/owned/roles`, {
      method: 'PUT',
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'user', grantee: 'erin', role: 'owner' }),
    });
    expect(role.status).toBe(200);
    const page = await (await browse(s, owner, '/admin/feeds')).text();
    expect(page).toContain('<option value="requireStaging">');

    const bad = await submit(s, owner, '/admin/feeds/owned/settings', { setting: 'requireStaging', value: 'Contoso.*, Bad Pattern' });
    expect(bad.status).toBe(400);
    expect((await bad.text()).replace(/&#39;/g, "'")).toContain("'Bad Pattern' is not an id pattern");
    expect((await submit(s, owner, '/admin/feeds/owned/settings', { setting: 'requireStaging', value: 'Contoso.*, Fabrikam.Core' })).status).toBe(303);
    expect(s.feed.hub.definition('owned')!.settings.requireStaging).toEqual(['Contoso.*', 'Fabrikam.Core']);
    expect((await pushRaw(`${s.url}/f/owned`, await pkg('Fabrikam.Core', '3.0.0'))).status).toBe(403);
  });

  it('is set with pawket feeds create|update --require-staging, shown by feeds show, and seen by the running server', async () => {
    const created = await pawket('feeds', 'create', 'cli-rel', '--require-staging', 'Contoso.*,Northwind.*', '--require-staging', 'Fabrikam.Core');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('requireStaging=Contoso.*, Northwind.*, Fabrikam.Core');
    const shown = await pawket('feeds', 'show', 'cli-rel');
    expect(shown.stdout).toMatch(/\* requireStaging\s+Contoso\.\*, Northwind\.\*, Fabrikam\.Core/);

    // The running server sees feeds and their changes made by the command line within its change poll.
    const feedUrl = `${s.url}/f/cli-rel`;
    const northwind = await pkg('Northwind.Data', '1.0.0');
    expect(await pushUntil(feedUrl, northwind, (status) => status !== 404)).toBe(403);

    const bad = await pawket('feeds', 'update', 'cli-rel', '--require-staging', 'Contoso.*,Bad Pattern');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("'Bad Pattern' is not an id pattern");

    const updated = await pawket('feeds', 'update', 'cli-rel', '--require-staging', 'Contoso.*');
    expect(updated.code, updated.stderr).toBe(0);
    expect(await pushUntil(feedUrl, northwind, (status) => status !== 403)).toBe(201);
    expect((await pushRaw(feedUrl, await pkg('Contoso.Data', '1.0.0'))).status).toBe(403);

    const cleared = await pawket('feeds', 'update', 'cli-rel', '--unset', 'requireStaging');
    expect(cleared.code, cleared.stderr).toBe(0);
    expect((await pawket('feeds', 'show', 'cli-rel')).stdout).toMatch(/ {3}requireStaging\s+\(none\)/);
  });
});

describe('staging limits per owner', () => {
  let s: TestServer;
  let other: string;

  beforeAll(async () => {
    s = await startTestServer({ stagingMaxGroupSize: 2, stagingMaxPerOwner: 4 });
    other = await createKey(s, { owner: 'beta', scopes: ['push-new', 'push'] });
  });
  afterAll(() => s.close());

  const addToGroup = (groupId: string, id: string) =>
    fetch(`${s.url}/v3/staging/groups/${groupId}/items/${id}/1.0.0`, { method: 'PUT', headers: { 'x-nuget-apikey': TEST_KEY } });

  it('refuse the package beyond stagingMaxGroupSize in a group (GroupFull); what is in it already may be staged again', async () => {
    expect((await stage(s.url, 'package', await pkg('Lim.A'), TEST_KEY, 'full')).status).toBe(201);
    expect((await stage(s.url, 'package', await pkg('Lim.B'), TEST_KEY, 'full')).status).toBe(201);
    const message = expectError(await stage(s.url, 'package', await pkg('Lim.C'), TEST_KEY, 'full'), 403, 'GroupFull');
    expect(message).toContain("Group 'full'");
    expect(message).toContain('stagingMaxGroupSize');
    expect((await s.feed.staging.getArtifact(operatorPrincipal('test'), 'package', 'Lim.C', '1.0.0').catch(() => null))).toBeNull();

    // The same bytes again, and another build of a member: nothing joins the group.
    const again = await stage(s.url, 'package', await pkg('Lim.A'), TEST_KEY, 'full');
    expect(again.status).toBe(201);
    const rebuilt = await stage(s.url, 'package', await pkg('Lim.A', '1.0.0', 'another build'), TEST_KEY, 'full');
    expect(rebuilt.status).toBe(201);
    expect((rebuilt.body.group as Json).itemCount).toBe(2);
  });

  it('refuse adding a package to a full group, by the group route or by its symbols (GroupFull)', async () => {
    expect((await stage(s.url, 'package', await pkg('Lim.C'), TEST_KEY)).status).toBe(201);
    const add = await addToGroup('full', 'Lim.C');
    expectError({ status: add.status, body: (await add.json()) as Json }, 403, 'GroupFull');
    // A member is there already: adding it again changes nothing.
    expect((await addToGroup('full', 'Lim.A')).status).toBe(204);

    expect((await stage(s.url, 'package', await corePackage('1.0.0'), TEST_KEY)).status).toBe(201);
    expectError(await stage(s.url, 'symbols', await symbolsPackage({ id: CORE_ID, version: '1.0.0' }), TEST_KEY, 'full'), 403, 'GroupFull');
  });

  it('refuse a new package beyond stagingMaxPerOwner staged by the owner (TooManyStaged); replacing one is fine', async () => {
    // Lim.A, Lim.B, Lim.C and the core package: four.
    const message = expectError(await stage(s.url, 'package', await pkg('Lim.D'), TEST_KEY), 403, 'TooManyStaged');
    expect(message).toContain('stagingMaxPerOwner');
    expectError(await stage(s.url, 'package', await pkg('Lim.D'), TEST_KEY, 'other'), 403, 'TooManyStaged');
    expect((await stage(s.url, 'package', await pkg('Lim.C'), TEST_KEY)).status).toBe(201);
    expect((await stage(s.url, 'package', await pkg('Lim.C', '1.0.0', 'another build'), TEST_KEY)).status).toBe(201);
    // Another owner has its own count.
    expect((await stage(s.url, 'package', await pkg('Beta.E'), other)).status).toBe(201);
    // Unstaging one makes room.
    expect((await fetch(`${s.url}/v3/staging/package/Lim.C/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } })).status).toBe(204);
    expect((await stage(s.url, 'package', await pkg('Lim.D'), TEST_KEY)).status).toBe(201);
  });
});
