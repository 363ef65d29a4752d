import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyPackageDatabase } from '../../../src/db/kysely-database.js';
import { copyFeed } from '../../../src/feed/copy.js';
import { UpstreamStore } from '../../../src/feed/upstream/store.js';
import { buildNupkg } from '../../support/nupkg.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';

const UPSTREAM = 'https://upstream.example/v3/index.json';

// The mirrored mark lives and dies with its package row (PackageDatabase), so it travels with `pawket copy`.
describe('mirrored marks', () => {
  let feed: TestServer;

  beforeAll(async () => {
    feed = await startTestServer({ allowOverwrite: true });
  });
  afterAll(() => feed?.close());

  const marks = (lowerId: string) => new UpstreamStore((feed.feed.db as KyselyPackageDatabase).kysely as never, 1).mirrored(lowerId);

  it('are written with the row, cleared with a delete, and dropped when a push overwrites the version', async () => {
    expect((await pushRaw(feed.url, await buildNupkg({ id: 'Mark.Lib', version: '1.0.0' }))).status).toBe(201);
    const db = feed.feed.db;
    const pushed = (await db.scanPackages(0, 100)).records.find((r) => r.lowerId === 'mark.lib')!;
    expect(pushed.mirroredFrom).toBeUndefined();

    expect(await db.deletePackage('mark.lib', '1.0.0')).toBe(pushed.blobKey);
    expect(await db.insertPackage({ ...pushed, mirroredFrom: UPSTREAM })).toBe(true);
    expect((await db.getPackage('mark.lib', '1.0.0'))?.mirroredFrom).toBe(UPSTREAM);
    expect((await db.listVersions('mark.lib')).map((r) => r.mirroredFrom)).toEqual([UPSTREAM]);
    expect((await db.scanByIdentity(null, 100)).find((r) => r.lowerId === 'mark.lib')?.mirroredFrom).toBe(UPSTREAM);
    expect([...(await marks('mark.lib'))]).toEqual([['1.0.0', UPSTREAM]]);

    // A losing insert changes nothing, whatever mark it carries.
    expect(await db.insertPackage({ ...pushed, mirroredFrom: 'https://other.example/v3/index.json' })).toBe(false);
    expect((await db.getPackage('mark.lib', '1.0.0'))?.mirroredFrom).toBe(UPSTREAM);

    await db.deletePackage('mark.lib', '1.0.0');
    expect((await marks('mark.lib')).size).toBe(0);

    await db.insertPackage({ ...pushed, mirroredFrom: UPSTREAM });
    expect((await pushRaw(feed.url, await buildNupkg({ id: 'Mark.Lib', version: '1.0.0', description: 'pushed over it' }))).status).toBe(201);
    expect((await db.getPackage('mark.lib', '1.0.0'))?.mirroredFrom).toBeUndefined();
    expect((await marks('mark.lib')).size).toBe(0);
  });
});

describe('pawket copy of a feed with mirrored packages', () => {
  let origin: TestServer;
  let source: TestServer;
  let target: TestServer;
  let temp: string;

  beforeAll(async () => {
    temp = await mkdtemp(join(tmpdir(), 'pawket-copy-marks-'));
    origin = await startTestServer();
    expect((await pushRaw(origin.url, await buildNupkg({ id: 'Copy.Up', version: '1.0.0' }))).status).toBe(201);
    source = await startTestServer({ upstreams: [{ url: `${origin.url}/v3/index.json`, timeoutMs: 2_000 }] });
    expect((await fetch(`${source.url}/v3/flatcontainer/copy.up/1.0.0/copy.up.1.0.0.nupkg`)).status).toBe(200);
    expect((await pushRaw(source.url, await buildNupkg({ id: 'Copy.Local', version: '1.0.0' }))).status).toBe(201);
    target = await startTestServer();
  });
  afterAll(async () => {
    await Promise.all([origin?.close(), source?.close(), target?.close()]);
    await rm(temp, { recursive: true, force: true });
  });

  it('keeps the mark: the copied mirrored package is still shown as mirrored, the pushed one not', async () => {
    const upstream = `${origin.url}/v3/index.json`;
    const result = await copyFeed(source.feed, target.feed, temp);
    expect(result).toMatchObject({ total: 2, copied: 2, failed: [] });

    // The target has no upstreams configured: the mark comes from its own database.
    const leaf = async (id: string) =>
      (await (await fetch(`${target.url}/v3/registration-gz-semver2/${id}/index.json`)).json()) as {
        items: { items: { catalogEntry: { mirroredFrom?: string } }[] }[];
      };
    expect((await leaf('copy.up')).items[0]!.items[0]!.catalogEntry.mirroredFrom).toBe(upstream);
    expect((await leaf('copy.local')).items[0]!.items[0]!.catalogEntry).not.toHaveProperty('mirroredFrom');
    expect(await (await fetch(`${target.url}/packages/Copy.Up/1.0.0`)).text()).toContain(`Mirrored from ${new URL(origin.url).host}`);
  });
});
