/**
 * nginx with the configuration `pawket nginx-config` prints, in front of two nodes on one data dir (materialize on):
 * `dotnet restore` through it is answered from the materialized files without reaching a node (its access log names no
 * upstream) and the downloads are counted; an unlist, a push, a delete and an overwrite are each seen through nginx
 * within the change-propagation time; a private feed's files are refused without a key, served with one, and refused
 * again once the key is revoked, within the auth cache time the configuration was made with.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, freshBackendEnv } from '../support/backend.js';
import { FILE_REVALIDATE_S } from '../../src/cli/nginx-config.js';
import { nginxBinary } from '../support/nginx.js';
import { buildNupkg } from '../support/nupkg.js';
import { freePort } from '../support/postgres.js';
import { createNuGetSandbox, describeRun, hasDotnet, requireClients, run, runOk, writePawketOnlyConfig, xmlAttr } from './support/dotnet.js';
import { repoRoot } from './support/paths.js';
import { pawketMain, startPawket, type PawketServer } from './support/server.js';

const KEY = 'nginx-front-admin-key';
/** What the configuration is generated with: how long nginx reuses an answer about a private feed's credentials. */
const AUTH_CACHE_S = 2;
/** A change is seen through nginx within this long (change polling, the open-file cache's 1 s, slack for CI). */
const PROPAGATION_MS = 5_000;
/** The same for an overwritten or deleted package file, which nginx checks again less often. */
const FILE_PROPAGATION_MS = (FILE_REVALIDATE_S + 3) * 1000;
// nginx serves the files from the filesystem store: the SQLite pass (its data dir) is where this runs.
const missing = [...(nginxBinary ? [] : ['nginx']), ...(hasDotnet ? [] : ['dotnet'])];
const { skip } = backend === 'sqlite' ? requireClients('nginx in front (pawket nginx-config, two nodes)', missing) : { skip: true };

const auth = (key: string) => ({ authorization: `Basic ${Buffer.from(`ci:${key}`).toString('base64')}` });

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, withinMs = PROPAGATION_MS): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() - started > withinMs) throw new Error(`${what}: not seen within ${withinMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(skip)('nginx in front of two nodes, serving restore from the materialized files', () => {
  let work: string;
  let dataDir: string;
  let front: string;
  let frontDir: string;
  let nodes: PawketServer[] = [];
  /** The nodes' own addresses (their printed URL is the public one, nginx's). */
  const nodeUrls: string[] = [];
  let nginx: ChildProcess | undefined;
  let env: Record<string, string>;

  const pawket = (args: readonly string[]) => run(process.execPath, [pawketMain, ...args, '--data-dir', dataDir], { cwd: repoRoot, env, timeoutMs: 60_000 });
  const push = async (feed: string, pkg: Buffer) => {
    const res = await fetch(`${front}${feed}/api/v2/package`, { method: 'PUT', body: new Uint8Array(pkg), headers: { 'x-nuget-apikey': KEY } });
    expect(res.status, await res.text()).toBe(201);
  };
  const versions = async (feed: string, lowerId: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${front}${feed}/v3/flatcontainer/${lowerId}/index.json`, { headers });
    return res.status === 200 ? ((await res.json()) as { versions: string[] }).versions : res.status;
  };
  /** The lines of nginx's access log for a path: `"{upstream}"` at the end is `-` when nginx answered itself. */
  const accessLines = async (path: string) => (await readFile(join(frontDir, 'access.log'), 'utf8')).split('\n').filter((l) => l.includes(` ${path} `));

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-nginx-front-'));
    dataDir = join(work, 'data');
    frontDir = join(work, 'front');
    await mkdir(frontDir, { recursive: true });
    const port = await freePort();
    front = `http://127.0.0.1:${port}`;
    env = { ...(await freshBackendEnv()), PAWKET_API_KEY: KEY, PAWKET_MATERIALIZE: 'true', PAWKET_BASE_URL: front, PAWKET_TRUST_PROXY: '127.0.0.1' };
    // One node reads nginx's download log (one reader per log); both serve and materialize.
    for (const nodeEnv of [{ ...env, PAWKET_NGINX_DOWNLOAD_LOG: join(frontDir, 'downloads.log') }, env]) {
      const nodePort = await freePort();
      nodes.push(await startPawket({ dataDir, env: nodeEnv, args: ['--port', String(nodePort)] }));
      nodeUrls.push(`http://127.0.0.1:${nodePort}`);
    }
    for (const body of [{ name: 'dev', settings: { allowOverwrite: true, deleteMode: 'delete' } }, { name: 'secret', settings: { private: true } }]) {
      const res = await fetch(`${nodeUrls[0]}/api/admin/feeds`, {
        method: 'POST',
        headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, await res.text()).toBe(201);
    }
    const generated = await pawket([
      'nginx-config', '--full', '--workers', '1', '--listen', `127.0.0.1:${port}`,
      ...nodeUrls.flatMap((u) => ['--node', new URL(u).host]),
      '--auth-cache', String(AUTH_CACHE_S), '--download-log', join(frontDir, 'downloads.log'), '--access-log', join(frontDir, 'access.log'),
      ...(userInfo().uid === 0 ? ['--user', 'root'] : []),
    ]);
    expect(generated.code, describeRun(generated)).toBe(0);
    await writeFile(join(frontDir, 'nginx.conf'), generated.stdout);
    nginx = spawn(nginxBinary!, ['-p', frontDir, '-c', join(frontDir, 'nginx.conf'), '-e', join(frontDir, 'error.log')], { stdio: 'ignore' });
    await eventually('nginx answering', () => fetch(`${front}/v3/index.json`).then((r) => r.status, () => 0), (s) => s === 200, 10_000);
  }, 120_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await Promise.all(nodes.map((n) => n.stop()));
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  it('restores with dotnet from the files, without reaching a node, and counts the downloads', async () => {
    await push('', await buildNupkg({ id: 'Contoso.Front', version: '1.0.0' }));
    // Files before indexes: once the versions list is a file, so is the package.
    await eventually('the materialized versions list', () => readFile(join(dataDir, 'blobs/static/v3/flatcontainer/contoso.front/index.json'), 'utf8').catch(() => ''), (t) => t.includes('1.0.0'));
    const sandbox = await createNuGetSandbox(join(work, 'nuget'));
    const project = join(work, 'consumer');
    await writePawketOnlyConfig(project, `${front}/v3/index.json`);
    await writeFile(
      join(project, 'Consumer.csproj'),
      `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><NuGetAudit>false</NuGetAudit></PropertyGroup>
  <ItemGroup><PackageReference Include="Contoso.Front" Version="1.0.0" /></ItemGroup>
</Project>`,
    );
    await runOk('dotnet', ['restore', project], { env: sandbox.env, timeoutMs: 240_000 });
    const assets = JSON.parse(await readFile(join(project, 'obj', 'project.assets.json'), 'utf8'));
    expect(Object.keys(assets.libraries)).toContain('Contoso.Front/1.0.0');

    for (const path of ['/v3/flatcontainer/contoso.front/index.json', '/v3/flatcontainer/contoso.front/1.0.0/contoso.front.1.0.0.nupkg']) {
      const lines = await accessLines(path);
      expect(lines.length, `${path} in nginx's access log`).toBeGreaterThan(0);
      for (const line of lines) expect(line, 'answered by nginx itself').toMatch(/ 200 \d+ "-"$/);
    }
    // The node reading nginx's download log counts the download (written in its next batch).
    const downloads = () =>
      fetch(`${nodeUrls[0]}/v3/search?q=packageid:Contoso.Front`)
        .then((r) => r.json() as Promise<{ data: Array<{ totalDownloads: number }> }>)
        .then((b) => b.data[0]?.totalDownloads ?? 0);
    await eventually('the download counted', downloads, (n) => n >= 1, 20_000);
  }, 300_000);

  it('shows an unlist, a push, a delete and an overwrite through nginx within the propagation time', async () => {
    const registration = async () => {
      const res = await fetch(`${front}/f/dev/v3/registration-gz-semver2/contoso.changes/index.json`);
      if (res.status !== 200) return res.status;
      const body = (await res.json()) as { items: Array<{ items: Array<{ catalogEntry: { version: string; listed?: boolean } }> }> };
      return body.items.flatMap((p) => p.items).map((l) => `${l.catalogEntry.version}:${l.catalogEntry.listed !== false}`);
    };
    const nupkg = (v: string) => fetch(`${front}/f/dev/v3/flatcontainer/contoso.changes/${v}/contoso.changes.${v}.nupkg`).then(async (r) => (r.status === 200 ? Buffer.from(await r.arrayBuffer()) : r.status));
    await push('/f/dev', await buildNupkg({ id: 'Contoso.Changes', version: '1.0.0' }));
    await push('/f/dev', await buildNupkg({ id: 'Contoso.Changes', version: '2.0.0', description: 'first' }));
    await eventually('both versions', () => versions('/f/dev', 'contoso.changes'), (v) => JSON.stringify(v) === '["1.0.0","2.0.0"]');

    // A delete (deleteMode delete on this feed), through the second node directly: nginx serves what it materialized.
    const deleted = await fetch(`${nodeUrls[1]}/f/dev/api/v2/package/Contoso.Changes/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': KEY } });
    expect(deleted.status).toBe(200);
    await eventually('the delete', () => versions('/f/dev', 'contoso.changes'), (v) => JSON.stringify(v) === '["2.0.0"]');
    await eventually('the deleted file gone', () => nupkg('1.0.0'), (b) => b === 404, FILE_PROPAGATION_MS);

    await push('/f/dev', await buildNupkg({ id: 'Contoso.Changes', version: '3.0.0' }));
    await eventually('the new version', () => versions('/f/dev', 'contoso.changes'), (v) => JSON.stringify(v) === '["2.0.0","3.0.0"]');

    const replacement = await buildNupkg({ id: 'Contoso.Changes', version: '2.0.0', description: 'second' });
    await push('/f/dev', replacement);
    await eventually('the overwrite', () => nupkg('2.0.0'), (b) => Buffer.isBuffer(b) && b.equals(replacement), FILE_PROPAGATION_MS);

    // An unlist on the default feed (deleteMode unlist): the registration says listed false.
    await push('', await buildNupkg({ id: 'Contoso.Changes', version: '1.0.0' }));
    const regDefault = async () => {
      const res = await fetch(`${front}/v3/registration-gz-semver2/contoso.changes/index.json`);
      if (res.status !== 200) return res.status;
      const body = (await res.json()) as { items: Array<{ items: Array<{ catalogEntry: { listed?: boolean } }> }> };
      return body.items[0]!.items[0]!.catalogEntry.listed !== false;
    };
    await eventually('the listed version', regDefault, (l) => l === true);
    const unlist = await fetch(`${front}/api/v2/package/Contoso.Changes/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': KEY } });
    expect(unlist.status).toBe(200);
    await eventually('the unlist', regDefault, (l) => l === false);
    expect(await registration()).toEqual(['2.0.0:true', '3.0.0:true']);
  }, 120_000);

  it("refuses a private feed's files without a key, serves them with one, and refuses a revoked key within the cache time", async () => {
    await push('/f/secret', await buildNupkg({ id: 'Contoso.Secret', version: '1.0.0' }));
    await eventually('the private file', () => readFile(join(dataDir, 'blobs/static-private/f/secret/v3/flatcontainer/contoso.secret/index.json'), 'utf8').catch(() => ''), (t) => t.includes('1.0.0'));
    const created = await pawket(['keys', 'create', '--name', 'restore', '--owner', 'ci', '--scopes', 'read', '--feeds', 'secret', '--json']);
    expect(created.code, describeRun(created)).toBe(0);
    const { key, keyId } = JSON.parse(created.stdout) as { key: string; keyId: string };

    // dotnet: refused without credentials, restored with the key in nuget.config.
    const sandbox = await createNuGetSandbox(join(work, 'nuget-secret'));
    const project = join(work, 'secret-consumer');
    const config = await writePawketOnlyConfig(project, `${front}/f/secret/v3/index.json`);
    await writeFile(
      join(project, 'Consumer.csproj'),
      `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><NuGetAudit>false</NuGetAudit></PropertyGroup>
  <ItemGroup><PackageReference Include="Contoso.Secret" Version="1.0.0" /></ItemGroup>
</Project>`,
    );
    const refused = await run('dotnet', ['restore', project], { env: sandbox.env, timeoutMs: 240_000 });
    expect(refused.code, describeRun(refused)).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/401/);
    const text = await readFile(config, 'utf8');
    await writeFile(
      config,
      text.replace(
        '</configuration>',
        `  <packageSourceCredentials>\n    <Pawket>\n      <add key="Username" value="ci" />\n      <add key="ClearTextPassword" value="${xmlAttr(key)}" />\n    </Pawket>\n  </packageSourceCredentials>\n</configuration>`,
      ),
    );
    await runOk('dotnet', ['restore', project], { env: sandbox.env, timeoutMs: 240_000 });
    const file = '/f/secret/v3/flatcontainer/contoso.secret/1.0.0/contoso.secret.1.0.0.nupkg';
    for (const line of await accessLines(file)) if (/ 200 /.test(line)) expect(line, 'answered by nginx itself').toMatch(/"-"$/);
    expect((await accessLines(file)).some((l) => / 200 \d+ "-"$/.test(l))).toBe(true);

    // Private answers are for one client only; a wrong key is refused like a missing one, with the Basic challenge.
    const ok = await fetch(`${front}${file}`, { headers: auth(key) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toMatch(/^private/);
    const wrong = await fetch(`${front}${file}`, { headers: auth('not-a-key') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);

    const revoked = await pawket(['keys', 'revoke', keyId]);
    expect(revoked.code, describeRun(revoked)).toBe(0);
    const revokedAt = Date.now();
    // Nodes drop a revoked key within seconds (their key cache, 5 s); nginx's answer is reused for AUTH_CACHE_S more.
    await eventually('the revoked key refused', () => versions('/f/secret', 'contoso.secret', auth(key)), (v) => v === 401, (AUTH_CACHE_S + 5) * 1000 + 2000);
    expect(Date.now() - revokedAt).toBeLessThan((AUTH_CACHE_S + 7) * 1000);
  }, 600_000);
});
