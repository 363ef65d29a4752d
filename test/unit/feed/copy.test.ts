/**
 * `pawket copy` carries a whole feed, not only its packages (both backends): keys that keep working, owners, prefix
 * reservations, the audit log, symbols and download counts; and a second run changes nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/cli/storage.js';
import { configSchema, type Config } from '../../../src/config/schema.js';
import type { AccessDatabase } from '../../../src/db/access-database.js';
import type { KyselyPackageDatabase } from '../../../src/db/kysely-database.js';
import { KyselySymbolDatabase } from '../../../src/db/kysely-symbol-database.js';
import { copyFeed, type CopyResult, type FeedStorage } from '../../../src/feed/copy.js';
import { openFeed } from '../../../src/feed/feed.js';
import { buildApp } from '../../../src/http/app.js';
import { freshBackendSettings } from '../../support/backend.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { corePackage, expected, pdb, symbolsPackage } from '../symbols/fixtures.js';

const cli = { name: 'cli (test)', keyId: null, owner: null, address: null };

const auditLog = async (db: AccessDatabase) => (await db.listAudit({ limit: 1000 })).map(({ seq: _seq, ...entry }) => entry);
const sortedCounts = async (s: FeedStorage) =>
  (await s.db.listDownloadCounts()).sort((a, b) => `${a.lowerId} ${a.lowerVersion}`.localeCompare(`${b.lowerId} ${b.lowerVersion}`));

describe('pawket copy of everything but packages', () => {
  let source: TestServer;
  let sourceStorage: FeedStorage & { accessDb: AccessDatabase };
  let targetDir: string;
  let targetConfig: Config;
  let teamKey: string;
  let revokedKey: string;
  const results: CopyResult[] = [];

  beforeAll(async () => {
    source = await startTestServer();
    expect((await pushRaw(source.url, await corePackage())).status).toBe(201);
    const symbols = await fetch(`${source.url}/api/v2/symbolpackage`, {
      method: 'PUT',
      body: new Uint8Array(await symbolsPackage()),
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/octet-stream' },
    });
    expect(symbols.status).toBe(201);

    const feed = source.feed;
    teamKey = (await feed.keys.create(cli, { name: 'team-ci', owner: 'team', scopes: ['push-new', 'push'], patterns: [], expires: null })).key;
    const revoked = await feed.keys.create(cli, { name: 'old-ci', owner: 'team', scopes: ['push-new', 'push'], patterns: [], expires: null });
    await feed.keys.revoke(cli, revoked.record.keyId);
    revokedKey = revoked.key;
    expect((await pushRaw(source.url, await buildNupkg({ id: 'Team.Lib', version: '1.0.0' }), teamKey)).status).toBe(201);
    await feed.ownership.addOwner(cli, 'Team.Lib', 'other-team');
    await feed.ownership.reservePrefix(cli, 'Team.*', 'team');
    await feed.db.addDownloadCounts([
      { lowerId: 'team.lib', lowerVersion: '1.0.0', count: 5 },
      { lowerId: 'pawket.e2e.core', lowerVersion: '1.0.0', count: 2 },
    ]);

    sourceStorage = {
      db: feed.db,
      blobs: feed.blobs,
      accessDb: feed.accessDb,
      symbolDb: new KyselySymbolDatabase((feed.db as KyselyPackageDatabase).kysely),
    };
    targetDir = await mkdtemp(join(tmpdir(), 'pawket-copy-target-'));
    targetConfig = configSchema.parse({ dataDir: targetDir, logLevel: 'silent', ...(await freshBackendSettings()) });
    const target = await openStorage(targetConfig);
    try {
      for (let run = 0; run < 2; run++) results.push(await copyFeed(sourceStorage, target, join(targetDir, 'tmp', 'copy')));
    } finally {
      await target.close();
    }
  });
  afterAll(async () => {
    await source?.close();
    if (targetDir) await rm(targetDir, { recursive: true, force: true });
  });

  it('copies everything once, and finds it all there the second time', () => {
    const [first, second] = results;
    expect(first).toMatchObject({ copied: 2, failed: [], symbols: { copied: 1, skipped: 0, failed: [] } });
    expect(first!.access).toEqual({ keys: 2, registrations: 2, prefixes: 1, auditEntries: expect.any(Number) });
    expect(first!.access.auditEntries).toBeGreaterThan(5);
    expect(first!.downloadCounts).toBe(2);
    expect(second).toMatchObject({ copied: 0, skipped: 2, failed: [], symbols: { copied: 0, skipped: 1, failed: [] } });
    expect(second!.access).toEqual({ keys: 2, registrations: 0, prefixes: 0, auditEntries: 0 });
  });

  it('leaves keys, owners, prefixes, the audit log (once) and download counts as at the source', async () => {
    const target = await openStorage(targetConfig);
    try {
      const from = sourceStorage.accessDb;
      expect(await target.accessDb.listKeys()).toEqual(await from.listKeys());
      // Compared as one boolean, so a failure never prints a hash.
      const hashes = async (db: AccessDatabase) => (await db.listStoredKeys()).map((k) => k.hash).join();
      expect((await hashes(target.accessDb)) === (await hashes(from))).toBe(true);
      expect(await target.accessDb.listRegistrations()).toEqual(await from.listRegistrations());
      expect((await target.accessDb.registration('team.lib')).owners).toEqual(['other-team', 'team']);
      expect(await target.accessDb.listPrefixes()).toEqual(await from.listPrefixes());
      const log = await auditLog(from);
      expect(log.map((e) => e.action)).toEqual(expect.arrayContaining(['push', 'symbols.push', 'key.create', 'key.revoke', 'owner.add', 'prefix.reserve']));
      expect(await auditLog(target.accessDb)).toEqual(log);
      expect(await sortedCounts(target)).toEqual(await sortedCounts(sourceStorage));
    } finally {
      await target.close();
    }
  });

  it('serves the copied symbols and takes pushes with the copied keys', async () => {
    const feed = await openFeed(targetConfig);
    const app = await buildApp(feed, targetConfig);
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const key = expected('anycpu').ssqpKey;
      const served = async (base: string) => {
        const res = await fetch(`${base}/download/symbols/${key}`);
        expect(res.status).toBe(200);
        return Buffer.from(await res.arrayBuffer());
      };
      const atTarget = await served(url);
      expect(atTarget.equals(pdb('anycpu'))).toBe(true);
      expect(atTarget.equals(await served(source.url))).toBe(true);

      // The key's owner owns Team.Lib at the target too; a key revoked at the source stays revoked.
      expect((await pushRaw(url, await buildNupkg({ id: 'Team.Lib', version: '2.0.0' }), teamKey)).status).toBe(201);
      const refused = await pushRaw(url, await buildNupkg({ id: 'Team.Lib', version: '3.0.0' }), revokedKey);
      await refused.arrayBuffer();
      expect(refused.status).toBe(401);
    } finally {
      await app.close();
      await feed.close();
    }
  });
});
