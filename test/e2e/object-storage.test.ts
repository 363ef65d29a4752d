/**
 * Object storage / CDN mode (docs/DEPLOYMENT.md): a node on S3 storage (s3rver) with `materialize` and `readBaseUrl`
 * pointing at the bucket's public URL. Each materialized object, fetched from the bucket as a CDN would, answers the
 * bytes and headers the node's own route sends; `dotnet restore` through the node's service index reads everything
 * else from the bucket: the node sees only service index requests.
 *
 * The bucket is reached through a counting proxy, and so is the node (its public `baseUrl`): the proxies' logs say
 * who answered what. The suite runs its own s3rver, so it does not depend on the suite's backend.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingProxy, type CountingProxy } from '../support/counting-proxy.js';
import { buildNupkg } from '../support/nupkg.js';
import { freePort } from '../support/postgres.js';
import { S3RVER_KEY, startTempS3, TEST_BUCKET, type TempS3 } from '../support/s3.js';
import { createNuGetSandbox, describeRun, hasDotnet, requireClients, run, writePawketOnlyConfig } from './support/dotnet.js';
import { startPawket, type PawketServer } from './support/server.js';

const KEY = 'object-storage-key';
const PREFIX = 'cdn';
const APP = 'Contoso.Cdn.App';
const CORE = 'Contoso.Cdn.Core';
/** A SemVer 2.0.0 version: only the semver2 hive lists it. */
const CORE_SEMVER2 = '1.2.0-beta.1+build.7';

/** Bytes that start as a PNG does (the server recognises icons by their signature). */
const ICON = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 1)]);

const clients = requireClients('object storage / CDN mode', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

describe.skipIf(clients.skip)('restore from object storage with readBaseUrl', () => {
  let work: string;
  let s3: TempS3;
  /** In front of the bucket, as a CDN would be. */
  let bucket: CountingProxy;
  /** In front of the node: its public URL. */
  let front: CountingProxy;
  let server: PawketServer | undefined;
  let readBase: string;
  const pushed: Record<string, Buffer> = {};

  /** The same path from the bucket and from the node. */
  async function both(path: string, headers: Record<string, string> = {}) {
    const [fromBucket, fromNode] = await Promise.all([fetch(readBase + path, { headers }), fetch(front.url + path, { headers })]);
    return { fromBucket, fromNode };
  }

  async function push(id: string, version: string, dependencies?: Record<string, ReadonlyArray<readonly [string, string]>>) {
    // Each with its own icon and readme, which only the nodes serve (read from inside the package).
    const body = await buildNupkg({
      id,
      version,
      description: `${id} ${version}`,
      ...(dependencies ? { dependencies } : {}),
      extraMetadata: '<icon>icon.png</icon><readme>README.md</readme>',
      files: [
        { name: 'icon.png', data: ICON },
        { name: 'README.md', data: `# ${id}\n` },
      ],
    });
    pushed[`${id}/${version}`] = body;
    const res = await fetch(`${front.url}/api/v2/package`, { method: 'PUT', body: new Uint8Array(body), headers: { 'x-nuget-apikey': KEY } });
    expect(res.status, `${await res.text()}\n--- Pawket ---\n${server?.output().slice(-3000)}`).toBe(201);
  }

  /** Waits until the bucket lists `version` of `id`: materializing may finish just after the push answers. */
  async function materialized(id: string, version: string): Promise<void> {
    const url = `${readBase}/v3/flatcontainer/${id.toLowerCase()}/index.json`;
    const normalized = version.toLowerCase().split('+')[0]!;
    const until = Date.now() + 10_000;
    for (;;) {
      const res = await fetch(url);
      if (res.status === 200 && ((await res.json()) as { versions: string[] }).versions.includes(normalized)) return;
      if (Date.now() > until) throw new Error(`${url} does not list ${normalized} 10 s after the push (status ${res.status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-cdn-'));
    s3 = await startTempS3();
    bucket = await startCountingProxy(s3.endpoint);
    front = await startCountingProxy();
    // s3rver answers anonymous reads of any object: the bucket is public, as the documented policy makes `static/`.
    readBase = `${bucket.url}/${TEST_BUCKET}/${PREFIX}/static`;
    // The node's own port is chosen here: it prints its public URL (the front proxy's), not where it listens.
    const port = await freePort();
    front.target = `http://127.0.0.1:${port}`;
    server = await startPawket({
      args: ['--port', String(port)],
      env: {
        PAWKET_API_KEY: KEY,
        PAWKET_DATABASE: 'sqlite',
        PAWKET_STORAGE: 's3',
        PAWKET_S3_BUCKET: TEST_BUCKET,
        PAWKET_S3_PREFIX: PREFIX,
        PAWKET_S3_ENDPOINT: s3.endpoint,
        PAWKET_S3_FORCE_PATH_STYLE: 'true',
        PAWKET_S3_ACCESS_KEY_ID: S3RVER_KEY,
        PAWKET_S3_SECRET_ACCESS_KEY: S3RVER_KEY,
        PAWKET_MATERIALIZE: 'true',
        PAWKET_BASE_URL: front.url,
        PAWKET_READ_BASE_URL: readBase,
      },
    });

    await push(CORE, '1.0.0');
    await push(CORE, '1.1.0');
    await push(CORE, CORE_SEMVER2);
    await push(APP, '2.0.0', { '': [[CORE, '[1.0.0, )']] });
    await materialized(CORE, CORE_SEMVER2);
    await materialized(APP, '2.0.0');
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await Promise.all([front?.stop(), bucket?.stop()]);
    await s3?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('serves each restore file from the bucket with the bytes and headers the node sends', async () => {
    const core = CORE.toLowerCase();
    const json = [
      `/v3/flatcontainer/${core}/index.json`,
      `/v3/registration/${core}/index.json`,
      `/v3/registration-gz/${core}/index.json`,
      `/v3/registration-gz-semver2/${core}/index.json`,
      `/v3/registration-gz-semver2/${core}/1.1.0.json`,
    ];
    for (const path of json) {
      // Identity: the node gzips for clients that ask; the plain object is what the bucket holds under this name.
      const { fromBucket, fromNode } = await both(path, { 'accept-encoding': 'identity' });
      expect([fromBucket.status, fromNode.status], path).toEqual([200, 200]);
      // The same document, linking to the bucket where the node's links to itself: a client that came from the
      // bucket stays there, but for icons and readmes, which only the nodes serve.
      const bucketText = await fromBucket.text();
      expect(bucketText.replaceAll(readBase, front.url), path).toBe(await fromNode.text());
      const toNode = bucketText.match(new RegExp(`${front.url}[^"]*`, 'g')) ?? [];
      expect(toNode.filter((url) => !/\/(icon|readme)$/.test(url)), path).toEqual([]);
      for (const h of ['content-type', 'cache-control']) expect(fromBucket.headers.get(h), `${h} of ${path}`).toBe(fromNode.headers.get(h));
      expect(fromBucket.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(fromBucket.headers.get('content-encoding'), path).toBeNull();

      // Its gzip twin (nginx's gzip_static reads it; a CDN may too): the same document, marked as gzip.
      const gz = await fetch(`${readBase}${path}.gz`, { headers: { 'accept-encoding': 'identity' } });
      expect(gz.status, `${path}.gz`).toBe(200);
      expect(gz.headers.get('content-encoding')).toBe('gzip');
      expect(gz.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(gz.headers.get('cache-control')).toBe(fromBucket.headers.get('cache-control'));
    }
    const raw = await rawGet(`${readBase}/v3/flatcontainer/${core}/index.json.gz`);
    expect(JSON.parse(gunzipSync(raw).toString('utf8'))).toEqual({ versions: ['1.0.0', '1.1.0', '1.2.0-beta.1'] });

    for (const [file, type] of [
      [`${core}.1.1.0.nupkg`, 'application/octet-stream'],
      [`${core}.nuspec`, 'application/xml; charset=utf-8'],
    ] as const) {
      const path = `/v3/flatcontainer/${core}/1.1.0/${file}`;
      const { fromBucket, fromNode } = await both(path);
      expect([fromBucket.status, fromNode.status], path).toEqual([200, 200]);
      expect(Buffer.from(await fromBucket.arrayBuffer()).equals(Buffer.from(await fromNode.arrayBuffer())), path).toBe(true);
      expect(fromBucket.headers.get('content-type'), path).toBe(type);
      expect(fromBucket.headers.get('cache-control'), path).toBe(fromNode.headers.get('cache-control'));
      expect(fromBucket.headers.get('cache-control'), path).toMatch(/immutable/);
      expect(fromBucket.headers.get('content-disposition'), path).toBe(fromNode.headers.get('content-disposition'));
    }
    // Icons and readmes are not static files: the bucket's documents send clients to the nodes for them.
    const index = (await (await fetch(`${readBase}/v3/registration-gz-semver2/${core}/index.json`)).json()) as {
      items: Array<{ items: Array<{ catalogEntry: { version: string; iconUrl: string; readmeUrl: string } }> }>;
    };
    const entry = index.items[0]!.items.map((i) => i.catalogEntry).find((e) => e.version === '1.1.0')!;
    expect(entry.iconUrl).toBe(`${front.url}/v3/flatcontainer/${core}/1.1.0/icon`);
    expect(entry.readmeUrl).toBe(`${front.url}/v3/flatcontainer/${core}/1.1.0/readme`);
    expect(Buffer.from(await (await fetch(entry.iconUrl)).arrayBuffer()).equals(ICON)).toBe(true);
    expect(await (await fetch(entry.readmeUrl)).text()).toBe(`# ${CORE}\n`);

    const nupkg = await fetch(`${readBase}/v3/flatcontainer/${core}/1.1.0/${core}.1.1.0.nupkg`);
    expect(nupkg.headers.get('content-disposition')).toBe(`attachment; filename="${core}.1.1.0.nupkg"`);
    expect(Buffer.from(await nupkg.arrayBuffer()).equals(pushed[`${CORE}/1.1.0`]!)).toBe(true);

    // A missing file is a 404, which NuGet takes for "not on this source".
    expect((await fetch(`${readBase}/v3/flatcontainer/contoso.cdn.nothing/index.json`)).status).toBe(404);
  });

  it('restores with dotnet reading everything but the service index from the bucket', async () => {
    const project = join(work, 'consumer');
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, 'Consumer.csproj'),
      `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><NuGetAudit>false</NuGetAudit></PropertyGroup>
  <ItemGroup><PackageReference Include="${APP}" Version="2.0.0" /></ItemGroup>
</Project>
`,
    );
    const config = await writePawketOnlyConfig(join(work, 'config'), `${front.url}/v3/index.json`);
    const sandbox = await createNuGetSandbox(join(work, 'nuget'));
    const atNode = front.requests.length;
    const atBucket = bucket.requests.length;

    const r = await run('dotnet', ['restore', project, '--configfile', config], { env: sandbox.env, timeoutMs: 240_000 });
    expect(r.code, `${describeRun(r)}\n--- Pawket ---\n${server!.output().slice(-3000)}`).toBe(0);

    // The dependency resolved to its lowest version in range, and both packages came byte for byte.
    for (const [id, version] of [[APP, '2.0.0'], [CORE, '1.0.0']] as const) {
      const lower = id.toLowerCase();
      const restored = await readFile(join(sandbox.packagesDir, lower, version, `${lower}.${version}.nupkg`));
      expect(restored.equals(pushed[`${id}/${version}`]!), `${id} ${version}`).toBe(true);
    }
    const nodeRequests = front.requests.slice(atNode);
    expect(nodeRequests.length).toBeGreaterThan(0);
    expect(nodeRequests.filter((q) => !q.startsWith('GET /v3/index.json'))).toEqual([]);
    const bucketRequests = bucket.requests.slice(atBucket).map((q) => q.replace(`/${TEST_BUCKET}/${PREFIX}/static`, ''));
    expect(bucketRequests).toEqual(
      expect.arrayContaining([
        `GET /v3/flatcontainer/${APP.toLowerCase()}/index.json`,
        `GET /v3/flatcontainer/${CORE.toLowerCase()}/index.json`,
        `GET /v3/flatcontainer/${APP.toLowerCase()}/2.0.0/${APP.toLowerCase()}.2.0.0.nupkg`,
        `GET /v3/flatcontainer/${CORE.toLowerCase()}/1.0.0/${CORE.toLowerCase()}.1.0.0.nupkg`,
      ]),
    );
  }, 300_000);
});

/** A body as sent, without the automatic decompression fetch does. */
async function rawGet(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
