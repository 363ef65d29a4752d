/**
 * The incremental orphan sweep: every file a row will point to is noted in a journal before it is written, and the
 * sweep looks only at journal entries older than the grace time, never at a listing of the store. A file left by a
 * crash (written, row not) goes once old enough; a push in flight keeps its file; materialized documents are left alone.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobListing, BlobStore } from '../../../src/blobs/blob-store.js';
import { KyselyPendingBlobDatabase } from '../../../src/db/kysely-pending-blob-database.js';
import type { FeedHub } from '../../../src/feed/hub.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

/** Past the grace time: entries this old cannot be a write in flight. */
const LATER = () => Date.now() + 3600_000;

describe('the journal of blob writes', () => {
  let server: TestServer;
  let hub: FeedHub;
  let store: BlobStore;
  let journal: KyselyPendingBlobDatabase;

  beforeAll(async () => {
    server = await startTestServer();
    hub = server.feed.hub;
    store = hub.shared.blobs.unjournaled;
    journal = new KyselyPendingBlobDatabase(hub.shared.kysely);
    // The sweep must never list the store: a listing fails the test.
    store.list = (): AsyncIterable<BlobListing> => {
      throw new Error('the incremental sweep listed the store');
    };
  });
  afterAll(async () => {
    await server?.close();
  });

  async function crashedWrite(key: string): Promise<void> {
    const file = join(server.dataDir, `crash-${Math.random()}.tmp`);
    await writeFile(file, 'left by a crash between the file and its row');
    await hub.shared.blobs.putFile(key, file);
  }

  it('removes a file whose row was never written, once its entry is older than the grace time', async () => {
    const orphan = 'packages/contoso.crashed/1.0.0/deadbeefdeadbeef.nupkg';
    await crashedWrite(orphan);
    expect(await journal.count()).toBe(1);

    // Young: it could still be a push about to commit its row.
    expect(await hub.sweepPendingBlobs()).toEqual([]);
    expect(await store.open(orphan)).not.toBeNull();

    expect(await hub.sweepPendingBlobs(LATER())).toEqual([orphan]);
    expect(await store.open(orphan)).toBeNull();
    expect(await journal.count()).toBe(0);
  });

  it("keeps a push in flight's file, and a committed push's once its entry is cleared", async () => {
    // The push stops right after its file is stored, before its row is written.
    const putFile = store.putFile.bind(store);
    let stored!: () => void;
    const fileStored = new Promise<void>((resolve) => (stored = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    store.putFile = async (key, file) => {
      await putFile(key, file);
      stored();
      await released;
    };
    const push = pushRaw(server.url, await buildNupkg({ id: 'Contoso.InFlight', version: '1.0.0' }));
    await fileStored;
    store.putFile = putFile;

    expect(await hub.sweepPendingBlobs()).toEqual([]);
    release();
    expect((await push).status).toBe(201);

    // Once the grace time has passed the entry goes, the file stays: a row points to it.
    expect(await hub.sweepPendingBlobs(LATER())).toEqual([]);
    expect(await journal.count()).toBe(0);
    const res = await fetch(`${server.url}/v3/flatcontainer/contoso.inflight/1.0.0/contoso.inflight.1.0.0.nupkg`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  });

  it('leaves an entry written again after the sweep read it (the same bytes pushed again)', async () => {
    const key = 'packages/contoso.again/1.0.0/deadbeefdeadbeef.nupkg';
    await crashedWrite(key);
    const [read] = await journal.olderThan(new Date(LATER()).toISOString(), 10);
    await journal.record(key, new Date(Date.now() + 1000).toISOString());
    expect(await journal.forget(read!)).toBe(false);
    expect(await hub.sweepPendingBlobs()).toEqual([]);
    expect(await store.open(key)).not.toBeNull();
    expect(await hub.sweepPendingBlobs(LATER())).toEqual([key]);
  });

  it('does not journal materialized documents', async () => {
    const file = join(server.dataDir, 'index.json.tmp');
    await writeFile(file, '{"versions":[]}');
    await hub.shared.blobs.putFile('static/v3/flatcontainer/contoso.static/index.json', file);
    expect(await journal.count()).toBe(0);
  });
});
