/**
 * `pawket feeds ...` (the built binary) on a data dir, then a server on it: the feeds it made are served under
 * /f/{name}/ with their settings, and changes made beside the running server reach it without a restart.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBackendEnv } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { describeRun, run } from './support/dotnet.js';
import { pawketMain, startPawket, type PawketServer } from './support/server.js';

const KEY = 'feeds-cli-secret-key-7d2e41';

let work: string;
let dataDir: string;
let env: Record<string, string>;
let server: PawketServer | undefined;

function pawket(...args: string[]) {
  return run(process.execPath, [pawketMain, ...args, '--data-dir', dataDir], { env, timeoutMs: 60_000 });
}

async function ok(...args: string[]) {
  const r = await pawket(...args);
  expect(r.code, describeRun(r)).toBe(0);
  return r.stdout;
}

async function push(feedPath: string, id: string, version: string, description: string): Promise<number> {
  const body = new Uint8Array(await buildNupkg({ id, version, description }));
  const res = await fetch(`${server!.baseUrl}${feedPath}/api/v2/package`, { method: 'PUT', body, headers: { 'x-nuget-apikey': KEY } });
  return res.status;
}

const status = async (path: string, headers: Record<string, string> = {}) => (await fetch(`${server!.baseUrl}${path}`, { headers })).status;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pawket-feeds-cli-'));
  dataDir = join(work, 'data');
  env = { PAWKET_API_KEY: KEY, ...(await freshBackendEnv()) };
});
afterAll(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

// Each command is a process of its own (a few seconds on a busy machine).
describe('pawket feeds', { timeout: 180_000 }, () => {
  it('creates feeds and virtual feeds on a data dir, refusing taken names and bad settings with exit code 1', async () => {
    expect(await ok('feeds', 'create', 'dev', '--description', 'CI builds', '--allow-overwrite', '--keep-prerelease', '5')).toMatch(
      /Created feed 'dev' with allowOverwrite=true retentionKeepPrerelease=5\.\nService index: <server>\/f\/dev\/v3\/index\.json/,
    );
    await ok('feeds', 'create', 'release', '--private');
    expect(await ok('feeds', 'create', 'all', '--virtual', 'release,dev')).toMatch(/Created virtual feed 'all'/);

    const taken = await pawket('feeds', 'create', 'DEV');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/A feed named 'dev' exists already/);
    const unknown = await pawket('feeds', 'create', 'bad', '--set', 'colour=blue');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown feed setting 'colour'/);
    const badValue = await pawket('feeds', 'create', 'bad', '--max-package-size', 'lots');
    expect(badValue.code).toBe(1);
    expect(badValue.stderr).toMatch(/Feed setting 'maxPackageSize'/);
    expect(badValue.stderr).not.toMatch(/\n\s+at /);
    const storing = await pawket('feeds', 'create', 'bad', '--virtual', 'dev', '--quota-bytes', '100');
    expect(storing.code).toBe(1);
    expect(storing.stderr).toMatch(/'quotaBytes'.*virtual/);

    const list = JSON.parse(await ok('feeds', 'list', '--json')) as Array<{ name: string; kind: string; members: string[] | null; settings: object }>;
    expect(list.map((f) => [f.name, f.kind, f.members])).toEqual([
      ['default', 'feed', null],
      ['dev', 'feed', null],
      ['release', 'feed', null],
      ['all', 'virtual', ['release', 'dev']],
    ]);
    expect(await ok('feeds', 'list')).toMatch(/release +feed +0 +0 B +private=true/);
    const shown = await ok('feeds', 'show', 'dev');
    expect(shown).toMatch(/\* allowOverwrite +true/);
    expect(shown).toMatch(/ {3}deleteMode +unlist/);
    expect(shown).toContain('Service index: <server>/f/dev/v3/index.json');
    expect(shown).toContain('Symbols:       <server>/f/dev/download/symbols/');
  });

  it('serves them with their settings once a server runs on the data dir', async () => {
    server = await startPawket({ dataDir, env });
    expect(server.output()).toContain(`Feed 'dev': ${server.baseUrl}/f/dev/v3/index.json`);
    expect(server.output()).toContain(`Feed 'all' (virtual): ${server.baseUrl}/f/all/v3/index.json`);

    expect(await push('/f/dev', 'Dev.Pkg', '1.0.0', 'one')).toBe(201);
    expect(await push('/f/dev', 'Dev.Pkg', '1.0.0', 'two')).toBe(201);
    expect(await status('/v3/flatcontainer/dev.pkg/index.json')).toBe(404);
    expect(await push('/f/release', 'Rel.Pkg', '1.0.0', 'one')).toBe(201);
    expect(await status('/f/release/v3/flatcontainer/rel.pkg/index.json')).toBe(401);
    expect(await status('/f/release/v3/flatcontainer/rel.pkg/index.json', { 'x-nuget-apikey': KEY })).toBe(200);
  });

  it('reaches the running server without a restart: a changed setting, a new feed, one made over the admin API', async () => {
    expect(await ok('feeds', 'update', 'dev', '--unset', 'allowOverwrite')).toMatch(/own settings: retentionKeepPrerelease=5/);
    await expect.poll(() => push('/f/dev', 'Dev.Pkg', '1.0.0', 'three'), { timeout: 10_000 }).toBe(409);

    await ok('feeds', 'create', 'late');
    await expect.poll(() => status('/f/late/v3/index.json'), { timeout: 10_000 }).toBe(200);

    const created = await fetch(`${server!.baseUrl}/api/admin/feeds`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'by-api', settings: { allowOverwrite: true } }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { urls: { serviceIndex: string } }).urls.serviceIndex).toBe(`${server!.baseUrl}/f/by-api/v3/index.json`);
    expect(await status('/f/by-api/v3/index.json')).toBe(200);
    expect(await push('/f/by-api', 'Api.Pkg', '1.0.0', 'one')).toBe(201);
    expect(await push('/f/by-api', 'Api.Pkg', '1.0.0', 'two')).toBe(201);
    expect(await ok('feeds', 'show', 'by-api')).toMatch(/\* allowOverwrite +true/);
  });

  it('acts on one feed with --feed: owners, prefixes, export, audit; an unknown feed is exit code 1', async () => {
    expect((await ok('owners', 'list', 'Dev.Pkg', '--feed', 'dev')).trim()).toBe('admin');
    expect((await ok('owners', 'list', 'Dev.Pkg')).trim()).toBe('Dev.Pkg has no owners.');
    await ok('prefix', 'reserve', 'Dev.*', 'team', '--feed', 'dev');
    expect(await ok('prefix', 'list', '--feed', 'dev')).toMatch(/dev\.\* +team/);
    expect(await ok('prefix', 'list')).toMatch(/No reserved prefixes/);

    await ok('advisory', 'add', 'Dev.Pkg', '--feed', 'dev', '--versions', '[1.0.0, )', '--severity', 'high', '--url', 'https://advisories.example/dev-pkg');
    expect(await ok('advisory', 'list', '--feed', 'dev')).toMatch(/dev\.pkg +\[1\.0\.0, \) +high/);
    expect(await ok('advisory', 'list')).toMatch(/No advisories in force/);
    expect(await ok('deprecate', 'Dev.Pkg', '1.0.0', '--reason', 'legacy', '--feed', 'dev')).toMatch(/Deprecated Dev\.Pkg 1\.0\.0/);
    expect((await pawket('deprecate', 'Dev.Pkg', '1.0.0', '--reason', 'legacy')).code).toBe(1);

    const exported = join(work, 'export');
    expect(await ok('export', exported, '--feed', 'dev')).toMatch(/Exported 1 packages of 'dev'/);
    expect(await readdir(exported)).toEqual(['dev.pkg']);
    expect(await ok('import', exported, '--feed', 'late')).toMatch(/Imported 1 files into 'late'/);
    expect(await status('/f/late/v3/flatcontainer/dev.pkg/index.json')).toBe(200);

    expect(await ok('audit', '--feed', 'dev')).toMatch(/prefix\.reserve +dev\.\*/);
    expect(await ok('audit', '--feed', 'release')).not.toMatch(/Dev\.Pkg/);
    expect(await ok('audit', '--action', 'feed.create')).toMatch(/FEED .*\n.*default .*feed\.create +by-api/);

    for (const args of [['owners', 'list', 'X', '--feed', 'nope'], ['gc', '--dry-run', '--feed', 'nope'], ['export', exported, '--feed', 'nope']]) {
      const r = await pawket(...args);
      expect(r.code, describeRun(r)).toBe(1);
      expect(r.stderr).toMatch(/There is no feed 'nope'/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const virtual = await pawket('prefix', 'list', '--feed', 'all');
    expect(virtual.code).toBe(1);
    expect(virtual.stderr).toMatch(/'all' is virtual/);
  });

  it('deletes a feed only when nothing needs it: not a member of a virtual feed, not with packages unless --force', async () => {
    const member = await pawket('feeds', 'delete', 'dev');
    expect(member.code).toBe(1);
    expect(member.stderr).toMatch(/member of the virtual feed 'all'/);
    await ok('feeds', 'update', 'all', '--members', 'release');
    const full = await pawket('feeds', 'delete', 'dev');
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/holds 1 package: pass --force/);
    expect(await status('/f/dev/v3/flatcontainer/dev.pkg/index.json')).toBe(200);

    expect(await ok('feeds', 'delete', 'dev', '--force')).toMatch(/Deleted feed 'dev' with its 1 packages/);
    await expect.poll(() => status('/f/dev/v3/index.json'), { timeout: 10_000 }).toBe(404);
    expect(await status('/f/release/v3/flatcontainer/rel.pkg/index.json', { 'x-nuget-apikey': KEY })).toBe(200);
    const names = (JSON.parse(await ok('feeds', 'list', '--json')) as Array<{ name: string }>).map((f) => f.name);
    expect(names).toEqual(['default', 'release', 'all', 'late', 'by-api']);
    expect((await pawket('feeds', 'delete', 'default')).code).toBe(1);
  });
});
