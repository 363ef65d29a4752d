/**
 * `pawket backup` / `restore` of an embedded server carry every feed: definitions, rows and files under
 * `feeds/{id}/`; a row whose file went away before the backup read it is left out in every feed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteFile } from '../../../src/db/open.js';
import { backupEmbeddedFeed, restoreEmbeddedFeed } from '../../../src/feed/backup.js';
import { backend } from '../../support/backend.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

const nupkg = (base: string, id: string) => `${base}/v3/flatcontainer/${id}/1.0.0/${id}.1.0.0.nupkg`;

describe.skipIf(backend !== 'sqlite')('backup and restore of a server with several feeds', () => {
  let source: TestServer;
  let restored: TestServer | undefined;
  let work: string;
  const pushed = new Map<string, Buffer>();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-backup-feeds-'));
    source = await startTestServer();
    const hub = source.feed.hub;
    await hub.feedDb.createFeed({ name: 'dev', description: 'CI builds', settings: { allowOverwrite: true }, members: null, created: new Date().toISOString() });
    await hub.reloadDefinitions();
    for (const [base, id, description] of [
      [source.url, 'same.lib', 'release build'],
      [`${source.url}/f/dev`, 'same.lib', 'CI build'],
      [`${source.url}/f/dev`, 'dev.lib', 'CI build'],
      [`${source.url}/f/dev`, 'dev.gone', 'file lost'],
    ] as const) {
      const bytes = await buildNupkg({ id, version: '1.0.0', description });
      expect((await pushRaw(base, bytes)).status).toBe(201);
      pushed.set(nupkg(base.slice(source.url.length), id), bytes);
    }
    // A file that went away after the snapshot (a delete racing the backup): its row must not come back.
    const dev = (await hub.feed('dev'))!;
    const gone = (await dev.db.getPackage('dev.gone', '1.0.0'))!;
    expect(gone.blobKey).toMatch(new RegExp(`^feeds/${dev.scope.id}/packages/`));
    await dev.blobs.delete(gone.blobKey);

    const backupFile = join(work, 'server.tar');
    const result = await backupEmbeddedFeed(source.dataDir, sqliteFile('', source.dataDir)!, backupFile);
    expect(result).toMatchObject({ packages: 3, files: 3 });
    const dataDir = join(work, 'restored');
    await restoreEmbeddedFeed(backupFile, dataDir);
    restored = await startTestServer({ dataDir });
  });
  afterAll(async () => {
    await Promise.all([source?.close(), restored?.close()]);
    await rm(work, { recursive: true, force: true });
  });

  it('restores the second feed with its settings, and every feed serves its own bytes', async () => {
    const dev = restored!.feed.hub.definition('dev')!;
    expect(dev).toMatchObject({ description: 'CI builds', settings: { allowOverwrite: true } });
    for (const path of [nupkg('', 'same.lib'), nupkg('/f/dev', 'same.lib'), nupkg('/f/dev', 'dev.lib')]) {
      const res = await fetch(`${restored!.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(pushed.get(path)!), path).toBe(true);
    }
    const gone = await fetch(`${restored!.url}/f/dev/v3/flatcontainer/dev.gone/index.json`);
    await gone.arrayBuffer();
    expect(gone.status).toBe(404);
  });
});
