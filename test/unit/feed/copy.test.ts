/**
 * `pawket copy` carries a whole server, not only packages (both backends): every feed with its id, settings and
 * members; in each feed its packages, symbols, owners, prefix reservations, download counts and signer policies; keys (with the feeds
 * they are valid on) that keep working; the audit log; and a second run changes nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/cli/storage.js';
import { configSchema, type Config } from '../../../src/config/schema.js';
import type { AccessDatabase } from '../../../src/db/access-database.js';
import type { FeedRecord } from '../../../src/db/feed-database.js';
import { KyselyAccessDatabase } from '../../../src/db/kysely-access-database.js';
import { KyselyAdvisoryDatabase } from '../../../src/db/kysely-advisory-database.js';
import { KyselySymbolDatabase } from '../../../src/db/kysely-symbol-database.js';
import { KyselySignerPolicyDatabase } from '../../../src/db/kysely-signer-policy-database.js';
import { copyServer, type FeedStorage, type ServerCopyResult, type ServerStorage } from '../../../src/feed/copy.js';
import { openFeed, type Feed } from '../../../src/feed/feed.js';
import type { FeedHub } from '../../../src/feed/hub.js';
import { buildApp } from '../../../src/http/app.js';
import { freshBackendSettings } from '../../support/backend.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { corePackage, expected, pdb, symbolsPackage } from '../symbols/fixtures.js';

const cli = { name: 'cli (test)', keyId: null, owner: null, address: null };

/** A running server's stores, as `openStorage` gives them for a config. */
function storageOf(hub: FeedHub): ServerStorage {
  const { db, kysely, blobs } = hub.shared;
  return {
    feedDb: hub.feedDb,
    accessDb: new KyselyAccessDatabase(kysely),
    blobs,
    feed: (id): Required<FeedStorage> => ({
      db: db.forFeed(id),
      blobs,
      advisoryDb: new KyselyAdvisoryDatabase(kysely, id),
      accessDb: new KyselyAccessDatabase(kysely, id),
      symbolDb: new KyselySymbolDatabase(kysely, id),
      signerDb: new KyselySignerPolicyDatabase(kysely, id),
    }),
  };
}

const auditLog = async (db: AccessDatabase) => (await db.listAudit({ limit: 1000 })).map(({ seq: _seq, ...entry }) => entry);
const sortedCounts = async (s: FeedStorage) =>
  (await s.db.listDownloadCounts()).sort((a, b) => `${a.lowerId} ${a.lowerVersion}`.localeCompare(`${b.lowerId} ${b.lowerVersion}`));

async function pushSymbols(feedUrl: string): Promise<void> {
  const res = await fetch(`${feedUrl}/api/v2/symbolpackage`, {
    method: 'PUT',
    body: new Uint8Array(await symbolsPackage()),
    headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/octet-stream' },
  });
  expect(res.status).toBe(201);
}

describe('pawket copy of a server with several feeds', () => {
  let source: TestServer;
  let sourceStorage: ServerStorage;
  let dev: Feed;
  let targetDir: string;
  let targetConfig: Config;
  let teamKey: string;
  let revokedKey: string;
  let devKey: string;
  const results: ServerCopyResult[] = [];

  beforeAll(async () => {
    source = await startTestServer();
    const hub = source.feed.hub;
    // A gap in the ids (a deleted feed) and a virtual feed naming others by id: the ids must be kept.
    const gone = (await hub.feedDb.createFeed({ name: 'gone', description: '', settings: {}, members: null, created: new Date().toISOString() }))!;
    const devRecord = (await hub.feedDb.createFeed({
      name: 'Dev',
      description: 'every CI build',
      settings: { allowOverwrite: true, retentionKeepPrerelease: 5 },
      members: null,
      created: new Date().toISOString(),
    }))!;
    expect(await hub.feedDb.deleteFeed(gone.id)).toEqual([]);
    await hub.feedDb.createFeed({ name: 'all', description: 'what we use', settings: {}, members: [devRecord.id, 1], created: new Date().toISOString() });
    const defaultRecord = (await hub.feedDb.listFeeds())[0]!;
    await hub.feedDb.updateFeed({ ...defaultRecord, description: 'released packages' });
    await hub.reloadDefinitions();
    dev = (await hub.feed('dev'))!;
    const devUrl = `${source.url}/f/dev`;

    for (const url of [source.url, devUrl]) {
      expect((await pushRaw(url, await corePackage())).status).toBe(201);
      await pushSymbols(url);
    }
    // The same id and version in both feeds, with different bytes.
    expect((await pushRaw(source.url, await buildNupkg({ id: 'Same.Lib', version: '1.0.0', description: 'the release build' }))).status).toBe(201);
    expect((await pushRaw(devUrl, await buildNupkg({ id: 'Same.Lib', version: '1.0.0', description: 'a CI build' }))).status).toBe(201);

    const feed = source.feed;
    teamKey = (await feed.keys.create(cli, { name: 'team-ci', owner: 'team', scopes: ['push-new', 'push'], patterns: [], expires: null })).key;
    const revoked = await feed.keys.create(cli, { name: 'old-ci', owner: 'team', scopes: ['push-new', 'push'], patterns: [], expires: null });
    await feed.keys.revoke(cli, revoked.record.keyId);
    revokedKey = revoked.key;
    devKey = (await dev.keys.create(cli, { name: 'dev-ci', owner: 'dev-team', scopes: ['push-new', 'push'], patterns: [], expires: null, feeds: [dev.scope.id] })).key;
    expect((await pushRaw(source.url, await buildNupkg({ id: 'Team.Lib', version: '1.0.0' }), teamKey)).status).toBe(201);
    expect((await pushRaw(devUrl, await buildNupkg({ id: 'Dev.Lib', version: '1.0.0' }), devKey)).status).toBe(201);
    await feed.ownership.addOwner(cli, 'Team.Lib', 'other-team');
    await feed.ownership.reservePrefix(cli, 'Team.*', 'team');
    await dev.ownership.addOwner(cli, 'Same.Lib', 'dev-team');
    await dev.ownership.reservePrefix(cli, 'Dev.*', 'dev-team');
    await feed.db.addDownloadCounts([
      { lowerId: 'team.lib', lowerVersion: '1.0.0', count: 5 },
      { lowerId: 'same.lib', lowerVersion: '1.0.0', count: 2 },
    ]);
    await dev.db.addDownloadCounts([{ lowerId: 'same.lib', lowerVersion: '1.0.0', count: 40 }]);
    await dev.signers.add(cli, { name: 'dev-signed', pattern: 'Dev.Signed.*', mode: 'require', fingerprints: ['E5'.repeat(32)] });

    sourceStorage = storageOf(hub);
    targetDir = await mkdtemp(join(tmpdir(), 'pawket-copy-target-'));
    targetConfig = configSchema.parse({ dataDir: targetDir, logLevel: 'silent', ...(await freshBackendSettings()) });
    const target = await openStorage(targetConfig);
    try {
      for (let run = 0; run < 2; run++) results.push(await copyServer(sourceStorage, target, join(targetDir, 'tmp', 'copy')));
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
    expect(first!.definitions).toEqual({ created: 2, updated: 1, unchanged: 0 });
    expect(first!.feeds.map((f) => f.name)).toEqual(['default', 'Dev']);
    for (const { result } of first!.feeds) {
      expect(result).toMatchObject({ copied: 3, failed: [], symbols: { copied: 1, skipped: 0, failed: [] } });
      expect(result.ownership).toEqual({ registrations: 3, prefixes: 1 });
    }
    expect(first!.feeds.map((f) => f.result.downloadCounts)).toEqual([2, 1]);
    expect(first!.feeds.map((f) => f.result.signerPolicies)).toEqual([0, 1]);
    expect(first!.keys).toBe(3);
    expect(first!.auditEntries).toBeGreaterThan(10);
    expect(first!.complete).toBe(true);

    expect(second!.definitions).toEqual({ created: 0, updated: 0, unchanged: 3 });
    for (const { result } of second!.feeds) {
      expect(result).toMatchObject({ copied: 0, skipped: 3, failed: [], symbols: { copied: 0, skipped: 1, failed: [] } });
      expect(result.ownership).toEqual({ registrations: 0, prefixes: 0 });
      expect(result.signerPolicies).toBe(0);
    }
    expect(second).toMatchObject({ keys: 3, auditEntries: 0, complete: true });
  });

  it('keeps every feed with its id, name, settings and members', async () => {
    const target = await openStorage(targetConfig);
    try {
      const feeds = await target.feedDb.listFeeds();
      // The default feed's row is the target's own (its migration made it), with the source's description and settings.
      const withoutCreated = (list: FeedRecord[]) => list.map((f) => (f.id === 1 ? { ...f, created: '' } : f));
      expect(withoutCreated(feeds)).toEqual(withoutCreated(await sourceStorage.feedDb.listFeeds()));
      expect(feeds.map((f) => [f.id, f.name, f.members])).toEqual([
        [1, 'default', null],
        [dev.scope.id, 'Dev', null],
        [dev.scope.id + 1, 'all', [dev.scope.id, 1]],
      ]);
    } finally {
      await target.close();
    }
  });

  it('leaves keys (with their feeds), owners and prefixes per feed, the audit log (once) and download counts as at the source', async () => {
    const target = await openStorage(targetConfig);
    try {
      const from = sourceStorage.accessDb;
      const keys = await target.accessDb.listKeys();
      expect(keys).toEqual(await from.listKeys());
      expect(keys.find((k) => k.name === 'dev-ci')!.feeds).toEqual([dev.scope.id]);
      // Compared as one boolean, so a failure never prints a hash.
      const hashes = async (db: AccessDatabase) => (await db.listStoredKeys()).map((k) => k.hash).join();
      expect((await hashes(target.accessDb)) === (await hashes(from))).toBe(true);

      for (const id of [1, dev.scope.id]) {
        const [there, here] = [target.feed(id), sourceStorage.feed(id)];
        expect(await there.accessDb.listRegistrations()).toEqual(await here.accessDb!.listRegistrations());
        expect(await there.accessDb.listPrefixes()).toEqual(await here.accessDb!.listPrefixes());
        expect(await sortedCounts(there)).toEqual(await sortedCounts(here));
      }
      expect((await target.feed(1).accessDb.registration('team.lib')).owners).toEqual(['other-team', 'team']);
      expect((await target.feed(dev.scope.id).accessDb.registration('same.lib')).owners).toEqual(['admin', 'dev-team']);
      expect((await target.feed(dev.scope.id).accessDb.registration('team.lib')).registered).toBe(false);
      expect((await target.feed(dev.scope.id).accessDb.listPrefixes()).map((p) => p.pattern)).toEqual(['dev.*']);
      const policies = async (s: FeedStorage) => (await s.signerDb!.listPolicies()).map(({ policyId: _id, ...p }) => p);
      expect(await policies(target.feed(dev.scope.id))).toEqual(await policies(sourceStorage.feed(dev.scope.id)));
      expect((await policies(target.feed(dev.scope.id))).map((p) => p.name)).toEqual(['dev-signed']);

      const log = await auditLog(from);
      expect(new Set(log.map((e) => e.feedId))).toEqual(new Set([1, dev.scope.id]));
      expect(log.map((e) => e.action)).toEqual(expect.arrayContaining(['push', 'symbols.push', 'key.create', 'key.revoke', 'owner.add', 'prefix.reserve']));
      expect(await auditLog(target.accessDb)).toEqual(log);
    } finally {
      await target.close();
    }
  });

  it('serves each feed at the same URLs with the same bytes, and takes pushes with the copied keys', async () => {
    const feed = await openFeed(targetConfig);
    const app = await buildApp(feed, targetConfig);
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const bytes = async (base: string, path: string) => {
        const res = await fetch(`${base}${path}`);
        expect(res.status, `${base}${path}`).toBe(200);
        return Buffer.from(await res.arrayBuffer());
      };
      const same = '/v3/flatcontainer/same.lib/1.0.0/same.lib.1.0.0.nupkg';
      const symbols = `/download/symbols/${expected('anycpu').ssqpKey}`;
      for (const path of [same, `/f/dev${same}`, `/f/dev/v3/flatcontainer/dev.lib/1.0.0/dev.lib.1.0.0.nupkg`, symbols, `/f/dev${symbols}`]) {
        expect((await bytes(url, path)).equals(await bytes(source.url, path)), path).toBe(true);
      }
      expect((await bytes(url, same)).equals(await bytes(url, `/f/dev${same}`))).toBe(false);
      expect((await bytes(url, `/f/dev${symbols}`)).equals(pdb('anycpu'))).toBe(true);
      const elsewhere = await fetch(`${url}/v3/flatcontainer/dev.lib/index.json`);
      await elsewhere.arrayBuffer();
      expect(elsewhere.status).toBe(404);

      // The key's owner owns Team.Lib at the target too; a key revoked at the source stays revoked; dev's key pushes to dev.
      expect((await pushRaw(url, await buildNupkg({ id: 'Team.Lib', version: '2.0.0' }), teamKey)).status).toBe(201);
      const refused = await pushRaw(url, await buildNupkg({ id: 'Team.Lib', version: '3.0.0' }), revokedKey);
      await refused.arrayBuffer();
      expect(refused.status).toBe(401);
      expect((await pushRaw(`${url}/f/dev`, await buildNupkg({ id: 'Dev.Lib', version: '2.0.0' }), devKey)).status).toBe(201);
      // The copied signer policy holds there too.
      const unsigned = await pushRaw(`${url}/f/dev`, await buildNupkg({ id: 'Dev.Signed.Core', version: '1.0.0' }), devKey);
      expect([unsigned.status, await unsigned.text()]).toEqual([403, expect.stringContaining("signature policy 'dev-signed'")]);

      // Feeds made at the target afterwards get new ids (PostgreSQL's sequence moved past the copied ones).
      const made = await feed.hub.feedDb.createFeed({ name: 'later', description: '', settings: {}, members: null, created: new Date().toISOString() });
      expect(made!.id).toBe(dev.scope.id + 2);
    } finally {
      await app.close();
      await feed.close();
    }
  });

  it('refuses a target whose feeds have other ids, before copying anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pawket-copy-clash-'));
    const target = await openStorage(configSchema.parse({ dataDir: dir, logLevel: 'silent', ...(await freshBackendSettings()) }));
    try {
      await target.feedDb.createFeed({ name: 'dev', description: '', settings: {}, members: null, created: new Date().toISOString() });
      await expect(copyServer(sourceStorage, target, join(dir, 'tmp'))).rejects.toThrow(/target has feed 'dev' \(id 2\) where the source has 'Dev' \(id 3\)/);
      expect(await target.db.countPackages()).toBe(0);
      expect(await target.accessDb.listKeys()).toEqual([]);
    } finally {
      await target.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
