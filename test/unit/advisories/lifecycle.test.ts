/**
 * Deprecations and advisories through the JSON API on a real in-process server (both backends): which versions a
 * spec names, what registration and VulnerabilityInfo then say, and what a hard delete or a re-push does to them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../../src/cli/storage.js';
import { configSchema } from '../../../src/config/schema.js';
import { KyselyAdvisoryDatabase } from '../../../src/db/kysely-advisory-database.js';
import type { KyselyPackageDatabase } from '../../../src/db/kysely-database.js';
import { copyFeed } from '../../../src/feed/copy.js';
import { freshBackendSettings } from '../../support/backend.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

const ID = 'Advisory.Lib';

type Entry = { version: string; deprecation?: { reasons: string[]; message?: string; alternatePackage?: { id: string; range: string } }; vulnerabilities?: { advisoryUrl: string; severity: string }[] };

describe('deprecations and advisories', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ deleteMode: 'delete' });
    for (const version of ['1.0.0', '1.1.0', '2.0.0-beta', '2.0.0']) {
      const r = await pushRaw(server.url, await buildNupkg({ id: ID, version }));
      expect(r.status).toBe(201);
    }
  });
  afterAll(() => server?.close());

  const call = (method: string, path: string, body?: unknown, key: string = TEST_KEY) =>
    fetch(`${server.url}/api/packages/${ID}/${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'x-nuget-apikey': key },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function entries(): Promise<Map<string, Entry>> {
    const doc = (await (await fetch(`${server.url}/v3/registration-gz-semver2/${ID.toLowerCase()}/index.json`)).json()) as {
      items: { items: { catalogEntry: Entry }[] }[];
    };
    return new Map(doc.items.flatMap((p) => p.items).map((i) => [i.catalogEntry.version, i.catalogEntry]));
  }

  async function vulnerabilityFiles() {
    const index = (await (await fetch(`${server.url}/v3/vulnerabilities/index.json`)).json()) as { '@id': string; '@updated': string }[];
    const data = (await (await fetch(index[0]!['@id'])).json()) as Record<string, { url: string; severity: number; versions: string }[]>;
    return { updated: index[0]!['@updated'], data };
  }

  it('deprecates the versions a range names, and registration shows it on those only', async () => {
    const r = await call('PUT', 'deprecation', { versions: '[1.0.0, 2.0.0)', reasons: ['Legacy', 'CriticalBugs'], message: 'Use 2.x', alternatePackage: 'Other.Lib' });
    expect(r.status).toBe(200);
    // A range takes in the prereleases within it, as NuGet's Satisfies does.
    expect(((await r.json()) as { deprecated: string[] }).deprecated).toEqual(['1.0.0', '1.1.0', '2.0.0-beta']);
    const e = await entries();
    expect(e.get('1.0.0')!.deprecation).toMatchObject({ reasons: ['Legacy', 'CriticalBugs'], message: 'Use 2.x', alternatePackage: { id: 'Other.Lib', range: '*' } });
    expect(e.get('2.0.0')!.deprecation).toBeUndefined();
  });

  it('takes a deprecation back for exact versions', async () => {
    const r = await call('DELETE', 'deprecation', { versions: ['2.0.0-BETA'] });
    expect(((await r.json()) as { undeprecated: string[] }).undeprecated).toEqual(['2.0.0-beta']);
    expect((await entries()).get('2.0.0-beta')!.deprecation).toBeUndefined();
  });

  it('publishes advisories in VulnerabilityInfo and registration, and moves @updated on withdrawal', async () => {
    const before = await vulnerabilityFiles();
    expect(before.data).toEqual({});
    const url = 'https://advisories.example.com/1';
    expect((await call('PUT', 'vulnerabilities', { url, severity: 'critical', versions: '(, 1.1.0]' })).status).toBe(200);
    const filed = await vulnerabilityFiles();
    expect(filed.data).toEqual({ 'advisory.lib': [{ url, severity: 3, versions: '(, 1.1.0]' }] });
    const e = await entries();
    expect(e.get('1.1.0')!.vulnerabilities).toEqual([expect.objectContaining({ advisoryUrl: url, severity: '3' })]);
    expect(e.get('2.0.0')!.vulnerabilities).toBeUndefined();

    await new Promise((r) => setTimeout(r, 5));
    expect((await call('DELETE', `vulnerabilities?url=${encodeURIComponent(url)}`)).status).toBe(200);
    const withdrawn = await vulnerabilityFiles();
    expect(withdrawn.data).toEqual({});
    expect(withdrawn.updated > filed.updated).toBe(true);
  });

  it('lets only admins file advisories for ids that have no version here', async () => {
    const created = await server.feed.keys.create(
      { name: 'test', keyId: null, owner: null, address: null },
      { name: 'owner-key', owner: 'someone', scopes: ['push-new', 'unlist'], patterns: [], expires: null },
    );
    const body = { url: 'https://advisories.example.com/upstream', severity: 'high', versions: '[1.0.0]' };
    const path = (id: string) => `${server.url}/api/packages/${id}/vulnerabilities`;
    const put = (key: string) =>
      fetch(path('Upstream.Only'), { method: 'PUT', headers: { 'content-type': 'application/json', 'x-nuget-apikey': key }, body: JSON.stringify(body) });
    const denied = await put(created.key);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('only an admin');
    expect((await put(TEST_KEY)).status).toBe(200);
    expect((await vulnerabilityFiles()).data['upstream.only']).toHaveLength(1);
  });

  it('go along with `pawket copy` to another backend', async () => {
    const targetDir = await mkdtemp(join(tmpdir(), 'pawket-copy-target-'));
    const target = await openStorage(configSchema.parse({ dataDir: targetDir, ...(await freshBackendSettings()) }));
    try {
      const source = { db: server.feed.db, blobs: server.feed.blobs, advisoryDb: new KyselyAdvisoryDatabase((server.feed.db as KyselyPackageDatabase).kysely) };
      const result = await copyFeed(source, target, join(targetDir, 'tmp'));
      expect(result.failed).toEqual([]);
      expect(await target.advisoryDb.deprecations('advisory.lib')).toEqual(await source.advisoryDb.deprecations('advisory.lib'));
      expect((await target.advisoryDb.vulnerabilities()).map((v) => [v.lowerId, v.url, v.severity, v.versions])).toEqual(
        (await source.advisoryDb.vulnerabilities()).map((v) => [v.lowerId, v.url, v.severity, v.versions]),
      );
      expect((await target.advisoryDb.deprecations('advisory.lib')).size).toBe(2);
    } finally {
      await target.close();
      await rm(targetDir, { recursive: true, force: true });
    }
  });

  it('drops the deprecation of a version with its hard delete; a re-push starts clean', async () => {
    expect((await entries()).get('1.0.0')!.deprecation).toBeDefined();
    const del = await fetch(`${server.url}/api/v2/package/${ID}/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(del.status).toBe(200);
    expect((await pushRaw(server.url, await buildNupkg({ id: ID, version: '1.0.0' }))).status).toBe(201);
    expect((await entries()).get('1.0.0')!.deprecation).toBeUndefined();
    expect((await entries()).get('1.1.0')!.deprecation).toBeDefined();
  });
});
