/** `pawket import` and `export` act on one feed (`--feed`): packages go into that feed only and come out of it only. */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorPrincipal } from '../../../src/feed/auth.js';
import type { Feed } from '../../../src/feed/feed.js';
import { exportPackages, importPackages } from '../../../src/feed/import.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

describe('import and export of one feed', () => {
  let server: TestServer;
  let dev: Feed;
  let work: string;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-import-feed-'));
    server = await startTestServer();
    await server.feed.hub.feedDb.createFeed({ name: 'dev', description: '', settings: {}, members: null, created: new Date().toISOString() });
    await server.feed.hub.reloadDefinitions();
    dev = (await server.feed.hub.feed('dev'))!;
    await mkdir(join(work, 'in'));
    for (const id of ['Import.A', 'Import.B']) {
      const bytes = await buildNupkg({ id, version: '1.0.0' });
      files.set(id.toLowerCase(), bytes);
      await writeFile(join(work, 'in', `${id}.1.0.0.nupkg`), bytes);
    }
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Default.Only', version: '1.0.0' }))).status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('imports into the feed it is given, and exports only that feed', async () => {
    const result = await importPackages(dev, join(work, 'in'), operatorPrincipal('pawket import (test)'), { maxPackageSize: dev.config.maxPackageSize });
    expect(result).toMatchObject({ imported: 2, rejected: 0 });
    const status = async (path: string) => {
      const res = await fetch(`${server.url}${path}`);
      await res.arrayBuffer();
      return res.status;
    };
    expect(await status('/f/dev/v3/flatcontainer/import.a/index.json')).toBe(200);
    expect(await status('/v3/flatcontainer/import.a/index.json')).toBe(404);

    expect(await exportPackages(dev, join(work, 'out'))).toBe(2);
    expect((await readdir(join(work, 'out'))).sort()).toEqual(['import.a', 'import.b']);
    for (const [id, bytes] of files) expect((await readFile(join(work, 'out', id, '1.0.0', `${id}.1.0.0.nupkg`))).equals(bytes)).toBe(true);
  });
});
