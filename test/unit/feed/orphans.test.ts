/**
 * The full orphan sweep (`pawket gc`) covers every feed: a feed's files under `feeds/{id}/` stay while a row
 * refers to them, and go once none does (a crashed push, a deleted feed whose files were not removed).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Feed } from '../../../src/feed/feed.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { corePackage, symbolsPackage } from '../symbols/fixtures.js';

/** Older than the sweep's minimum age: files that young could be a push in flight. */
const LATER = () => Date.now() + 3600_000;

async function blobKeys(feed: Feed): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of feed.blobs.list()) keys.push(blob.key);
  return keys.sort();
}

describe('the orphan sweep with several feeds', () => {
  let server: TestServer;
  let dev: Feed;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-orphans-'));
    server = await startTestServer();
    const hub = server.feed.hub;
    await hub.feedDb.createFeed({ name: 'dev', description: '', settings: {}, members: null, created: new Date().toISOString() });
    await hub.reloadDefinitions();
    dev = (await hub.feed('dev'))!;
    const devUrl = `${server.url}/f/dev`;
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Kept.Lib', version: '1.0.0' }))).status).toBe(201);
    expect((await pushRaw(devUrl, await corePackage())).status).toBe(201);
    const symbols = await fetch(`${devUrl}/api/v2/symbolpackage`, {
      method: 'PUT',
      body: new Uint8Array(await symbolsPackage()),
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/octet-stream' },
    });
    expect(symbols.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  it("keeps a feed's referenced files and removes its orphans", async () => {
    const prefix = `feeds/${dev.scope.id}/`;
    const before = await blobKeys(dev);
    // The package, the .snupkg and its PDB.
    expect(before.filter((k) => k.startsWith(prefix))).toHaveLength(3);
    const orphan = `${prefix}packages/dev.crashed/1.0.0/deadbeefdeadbeef.nupkg`;
    const file = join(work, 'crashed.nupkg');
    await writeFile(file, 'left by a crash');
    await dev.blobs.putFile(orphan, file);

    expect(await server.feed.hub.sweepOrphans(true, LATER())).toEqual([orphan]);
    expect(await server.feed.hub.sweepOrphans(false, LATER())).toEqual([orphan]);
    expect(await blobKeys(dev)).toEqual(before);
    const res = await fetch(`${server.url}/f/dev/v3/flatcontainer/pawket.e2e.core/1.0.0/pawket.e2e.core.1.0.0.nupkg`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  });

  it('leaves materialized documents alone: no row points to them', async () => {
    const file = join(work, 'index.json');
    const documents = ['static/v3/flatcontainer/kept.lib/index.json', 'static-private/f/dev/v3/flatcontainer/pawket.e2e.core/index.json'];
    for (const key of documents) {
      await writeFile(file, '{"versions":["1.0.0"]}');
      await dev.blobs.putFile(key, file);
    }
    expect(await server.feed.hub.sweepOrphans(false, LATER())).toEqual([]);
    for (const key of documents) await dev.blobs.delete(key);
  });

  it("removes a deleted feed's files, and only those", async () => {
    const before = await blobKeys(dev);
    const left = await server.feed.hub.feedDb.deleteFeed(dev.scope.id);
    expect(left!.sort()).toEqual(before.filter((k) => k.startsWith(`feeds/${dev.scope.id}/`)));
    expect((await server.feed.hub.sweepOrphans(false, LATER())).sort()).toEqual(left);
    expect(await blobKeys(dev)).toEqual(before.filter((k) => !k.startsWith('feeds/')));
    expect((await blobKeys(dev)).some((k) => k.startsWith('packages/kept.lib/'))).toBe(true);
  });
});
