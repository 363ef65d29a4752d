/**
 * `readBaseUrl`: the service index sends restore (versions lists, package files, registration) to static files at a
 * public URL, for the feeds whose documents are materialized; everything else stays on the nodes. Private feeds and
 * `readBaseUrl` are refused together, wherever a feed becomes private.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load.js';
import { configSchema, type ConfigInput } from '../../../src/config/schema.js';
import { serve } from '../../../src/cli/serve.js';
import { freshBackendSettings } from '../../support/backend.js';
import { startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';

const NODE = 'http://nuget.example.com';
const READ = 'https://cdn.example.com/nuget';
const readSettings = { baseUrl: NODE, readBaseUrl: `${READ}/` } satisfies Partial<ConfigInput>;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(readSettings);
});
afterAll(async () => {
  await server?.close();
});

function createFeed(body: unknown) {
  return fetch(`${server.url}/api/admin/feeds`, {
    method: 'POST',
    headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Each resource type's `@id` in a feed's service index. */
async function resources(feedPath: string): Promise<Map<string, string>> {
  const res = await fetch(`${server.url}${feedPath}/v3/index.json`);
  expect(res.status).toBe(200);
  const index = (await res.json()) as { resources: Array<{ '@id': string; '@type': string }> };
  return new Map(index.resources.map((r) => [r['@type'], r['@id']]));
}

const RESTORE_TYPES = ['PackageBaseAddress/3.0.0', 'RegistrationsBaseUrl', 'RegistrationsBaseUrl/3.4.0', 'RegistrationsBaseUrl/3.6.0'];

describe('readBaseUrl', () => {
  it('sends restore to the static files and everything else to the nodes', async () => {
    const r = await resources('');
    expect(RESTORE_TYPES.map((t) => r.get(t))).toEqual([
      `${READ}/v3/flatcontainer/`,
      `${READ}/v3/registration/`,
      `${READ}/v3/registration-gz/`,
      `${READ}/v3/registration-gz-semver2/`,
    ]);
    expect(r.get('RegistrationsBaseUrl/Versioned')).toBe(`${READ}/v3/registration-gz-semver2/`);
    expect(r.get('PackagePublish/2.0.0')).toBe(`${NODE}/api/v2/package`);
    expect(r.get('SearchQueryService/3.5.0')).toBe(`${NODE}/v3/search`);
    // Readmes are read from inside the package: only the nodes serve them.
    expect(r.get('ReadmeUriTemplate/6.13.0')).toBe(`${NODE}/v3/flatcontainer/{lower_id}/{lower_version}/readme`);
  });

  it("sends a feed's restore to its folder, and keeps feeds with upstreams and virtual feeds on the nodes", async () => {
    expect((await createFeed({ name: 'Dev' })).status).toBe(201);
    expect((await createFeed({ name: 'Mirror', settings: { upstreams: [{ url: 'https://upstream.example.com/v3/index.json' }] } })).status).toBe(201);
    expect((await createFeed({ name: 'All', members: ['Dev', 'Mirror'] })).status).toBe(201);

    const dev = await resources('/f/Dev');
    expect(RESTORE_TYPES.map((t) => dev.get(t))).toEqual([
      `${READ}/f/Dev/v3/flatcontainer/`,
      `${READ}/f/Dev/v3/registration/`,
      `${READ}/f/Dev/v3/registration-gz/`,
      `${READ}/f/Dev/v3/registration-gz-semver2/`,
    ]);
    expect(dev.get('SearchQueryService/3.5.0')).toBe(`${NODE}/f/Dev/v3/search`);
    expect((await resources('/f/Mirror')).get('PackageBaseAddress/3.0.0')).toBe(`${NODE}/f/Mirror/v3/flatcontainer/`);
    expect((await resources('/f/All')).get('PackageBaseAddress/3.0.0')).toBe(`${NODE}/f/All/v3/flatcontainer/`);
  });

  it('refuses a private feed that holds packages, naming it; a private virtual feed is served by the nodes only', async () => {
    const created = await createFeed({ name: 'Secret', settings: { private: true } });
    expect(created.status).toBe(400);
    expect(await created.text()).toMatch(/'Secret' cannot be private while readBaseUrl is set/);

    const update = await fetch(`${server.url}/api/admin/feeds/Dev`, {
      method: 'PATCH',
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ settings: { private: true } }),
    });
    expect(update.status).toBe(400);
    expect(await update.text()).toMatch(/'Dev' cannot be private/);
    expect((await resources('/f/Dev')).get('PackageBaseAddress/3.0.0')).toBe(`${READ}/f/Dev/v3/flatcontainer/`);

    expect((await createFeed({ name: 'Inner', members: ['Dev'], settings: { private: true } })).status).toBe(201);
  });

  it('refuses a private server, and a server whose feeds were made private before', async () => {
    expect(() => configSchema.parse({ ...readSettings, private: true })).toThrow(/readBaseUrl[\s\S]*'default' cannot be private/);
    expect(() => configSchema.parse({ readBaseUrl: 'ftp://cdn.example.com/' })).toThrow(/http\(s\) URL/);

    const dataDir = await mkdtemp(join(tmpdir(), 'pawket-read-base-'));
    try {
      const backend = await freshBackendSettings();
      const before = await startTestServer({ dataDir, ...backend });
      try {
        const res = await fetch(`${before.url}/api/admin/feeds`, {
          method: 'POST',
          headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Team', settings: { private: true } }),
        });
        expect(res.status).toBe(201);
      } finally {
        await before.close();
      }
      const config = configSchema.parse({ dataDir, host: '127.0.0.1', port: 0, logLevel: 'silent', ...backend, ...readSettings });
      const refused = await serve(config).then(
        () => null,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(ConfigError);
      expect((refused as Error).message).toMatch(/"readBaseUrl".*'Team' cannot be private.*pawket feeds update Team --set private=false/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
