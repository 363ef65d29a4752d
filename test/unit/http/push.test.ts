import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { buildNupkg } from '../../support/nupkg.js';
import { pushMultipart, pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function storedFiles(s: TestServer): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of s.feed.blobs.list()) keys.push(blob.key);
  return keys;
}

async function tempFiles(s: TestServer): Promise<string[]> {
  return readdir(s.feed.tempDir);
}

describe('push', () => {
  it('takes a raw body and serves the same bytes back', async () => {
    server = await startTestServer();
    const pkg = await buildNupkg({ id: 'Contoso.Raw', version: '1.0.0' });
    const res = await pushRaw(server.url, pkg);
    expect(res.status).toBe(201);
    const download = await fetch(`${server.url}/v3/flatcontainer/contoso.raw/1.0.0/contoso.raw.1.0.0.nupkg`);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(pkg)).toBe(true);
  });

  it('takes POST as well as PUT', async () => {
    server = await startTestServer();
    const res = await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Post', version: '1.0.0' }), TEST_KEY, 'POST');
    expect(res.status).toBe(201);
  });

  it('takes multipart/form-data and ignores the parts after the package', async () => {
    server = await startTestServer();
    const pkg = await buildNupkg({ id: 'Contoso.Multi', version: '2.0.0' });
    const res = await pushMultipart(server.url, pkg, { ignored: 'a later part' });
    expect(res.status).toBe(201);
    const download = await fetch(`${server.url}/v3/flatcontainer/contoso.multi/2.0.0/contoso.multi.2.0.0.nupkg`);
    expect(Buffer.from(await download.arrayBuffer()).equals(pkg)).toBe(true);
  });

  it('takes the identity from the nuspec and normalizes the version (1.0 and 1.0.0.0 are one package)', async () => {
    server = await startTestServer();
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Norm', version: '1.0' }))).status).toBe(201);
    const again = await pushRaw(server.url, await buildNupkg({ id: 'contoso.norm', version: '1.0.0.0' }));
    expect(again.status).toBe(409);
    const index = await (await fetch(`${server.url}/v3/flatcontainer/contoso.norm/index.json`)).json();
    expect(index).toEqual({ versions: ['1.0.0'] });
  });

  it('answers 409 with the reason in the status line when the version exists', async () => {
    server = await startTestServer();
    const pkg = await buildNupkg({ id: 'Contoso.Dup', version: '1.0.0' });
    await pushRaw(server.url, pkg);
    const res = await pushRaw(server.url, pkg);
    expect(res.status).toBe(409);
    expect(res.statusText).toMatch(/Contoso\.Dup 1\.0\.0 already exists/);
    expect(await res.text()).toMatch(/already exists/);
  });

  it('refuses a missing or wrong key with 401 and stores nothing', async () => {
    server = await startTestServer();
    const pkg = await buildNupkg({ id: 'Contoso.Key', version: '1.0.0' });
    const missing = await pushRaw(server.url, pkg, null);
    expect(missing.status).toBe(401);
    expect(missing.statusText).toMatch(/API key is required/);
    const wrong = await pushRaw(server.url, pkg, 'not-the-key');
    expect(wrong.status).toBe(401);
    expect(wrong.statusText).toMatch(/invalid/);
    expect(await storedFiles(server)).toEqual([]);
  });

  it('with no key configured, refuses pushes and says how to set one', async () => {
    server = await startTestServer({ apiKeys: [] });
    const res = await pushRaw(server.url, await buildNupkg({ id: 'Contoso.NoKeys', version: '1.0.0' }), 'anything');
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/PAWKET_API_KEY/);
  });

  it('answers 413 for a body over the size limit and leaves no file behind', async () => {
    server = await startTestServer({ maxPackageSize: 4096 });
    const big = await buildNupkg({
      id: 'Contoso.Big',
      version: '1.0.0',
      files: [{ name: 'lib/netstandard2.0/big.bin', data: Buffer.from(Buffer.alloc(64 * 1024).map((_, i) => (i * 7919) % 251)), compress: false }],
    });
    const res = await pushRaw(server.url, big);
    expect(res.status).toBe(413);
    expect(await res.text()).toMatch(/larger than this feed accepts/);
    expect(await storedFiles(server)).toEqual([]);
    expect(await tempFiles(server)).toEqual([]);
    // the server is still up and takes a good package
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Small', version: '1.0.0' }))).status).toBe(201);
  });

  it('answers 413 for a multipart file part over the size limit (once hung waiting for the parser)', async () => {
    server = await startTestServer({ maxPackageSize: 64 * 1024 });
    // Declared within the early check's margin, so the limit is found while spooling.
    const res = await pushMultipart(server.url, Buffer.alloc(100 * 1024, 7));
    expect(res.status).toBe(413);
    expect(await res.text()).toMatch(/larger than this feed accepts/);
    expect(await tempFiles(server)).toEqual([]);
    expect((await pushMultipart(server.url, await buildNupkg({ id: 'Contoso.Small', version: '1.0.0' }))).status).toBe(201);
  });

  it('answers 400 for a body that is not a package and leaves no file behind', async () => {
    server = await startTestServer();
    const res = await pushRaw(server.url, Buffer.from('this is not a zip file at all'));
    expect(res.status).toBe(400);
    expect(res.statusText.length).toBeGreaterThan(10);
    expect(await storedFiles(server)).toEqual([]);
    expect(await tempFiles(server)).toEqual([]);
  });

  it('answers 400 for an empty body', async () => {
    server = await startTestServer();
    const res = await pushRaw(server.url, Buffer.alloc(0));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/empty/);
  });

  it('lets exactly one of 20 concurrent pushes of one id+version win', async () => {
    server = await startTestServer();
    const packages = await Promise.all(
      Array.from({ length: 20 }, (_, i) => buildNupkg({ id: 'Contoso.Race', version: '1.0.0', description: `variant ${i}` })),
    );
    const statuses = await Promise.all(packages.map((p) => pushRaw(server!.url, p).then((r) => r.status)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(await storedFiles(server)).toHaveLength(1);
    const winner = packages[statuses.indexOf(201)]!;
    const download = await fetch(`${server.url}/v3/flatcontainer/contoso.race/1.0.0/contoso.race.1.0.0.nupkg`);
    expect(Buffer.from(await download.arrayBuffer()).equals(winner)).toBe(true);
  });

  it('replaces an existing version when allowOverwrite is on, and drops the old file', async () => {
    server = await startTestServer({ allowOverwrite: true });
    await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Over', version: '1.0.0', description: 'first' }));
    const second = await buildNupkg({ id: 'Contoso.Over', version: '1.0.0', description: 'second' });
    expect((await pushRaw(server.url, second)).status).toBe(201);
    const download = await fetch(`${server.url}/v3/flatcontainer/contoso.over/1.0.0/contoso.over.1.0.0.nupkg`);
    expect(Buffer.from(await download.arrayBuffer()).equals(second)).toBe(true);
    expect(await storedFiles(server)).toHaveLength(1);
  });
});

describe('delete and relist', () => {
  const leaf = (s: TestServer, id: string, v: string) => fetch(`${s.url}/v3/registration/${id}/${v}.json`).then((r) => r.json());
  const del = (s: TestServer, id: string, v: string, key: string | null = TEST_KEY) =>
    fetch(`${s.url}/api/v2/package/${id}/${v}`, { method: 'DELETE', headers: key ? { 'x-nuget-apikey': key } : {} });

  it('unlists by default: hidden as listed=false, still downloadable, and relist brings it back', async () => {
    server = await startTestServer();
    await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Unlist', version: '1.0.0' }));
    expect((await del(server, 'Contoso.Unlist', '1.0.0')).status).toBe(200);
    expect((await leaf(server, 'contoso.unlist', '1.0.0')).listed).toBe(false);
    const download = await fetch(`${server.url}/v3/flatcontainer/contoso.unlist/1.0.0/contoso.unlist.1.0.0.nupkg`);
    expect(download.status).toBe(200);
    const relist = await fetch(`${server.url}/api/v2/package/Contoso.Unlist/1.0.0`, { method: 'POST', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(relist.status).toBe(200);
    expect((await leaf(server, 'contoso.unlist', '1.0.0')).listed).toBe(true);
  });

  it('hard deletes when configured: row and file are gone', async () => {
    server = await startTestServer({ deleteMode: 'delete' });
    await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Gone', version: '1.0.0' }));
    expect((await del(server, 'Contoso.Gone', '1.0.0')).status).toBe(200);
    expect((await fetch(`${server.url}/v3/flatcontainer/contoso.gone/index.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/v3/flatcontainer/contoso.gone/1.0.0/contoso.gone.1.0.0.nupkg`)).status).toBe(404);
    expect(await storedFiles(server)).toEqual([]);
  });

  it('answers 404 for an unknown package and 401 without a key', async () => {
    server = await startTestServer();
    const unknown = await del(server, 'Contoso.Nothing', '1.0.0');
    expect(unknown.status).toBe(404);
    expect(unknown.statusText).toMatch(/Contoso\.Nothing 1\.0\.0 was not found/);
    expect((await del(server, 'Contoso.Nothing', '1.0.0', null)).status).toBe(401);
  });
});
