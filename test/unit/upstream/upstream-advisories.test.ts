/**
 * What upstreams say about their packages reaches clients of the proxy: deprecations and advisories in registration
 * (also once a version is mirrored), and the upstream's VulnerabilityInfo as a file of the proxy's own, which is
 * kept while the upstream is down and follows a withdrawal after the freshness window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vulnerabilityEntries } from '../../../src/feed/upstream/upstream-advisories.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

const ADVISORY = 'https://advisories.example.com/UP-1';
type Entry = { version: string; deprecation?: { reasons: string[]; message?: string }; vulnerabilities?: { advisoryUrl: string; severity: string }[] };

describe("upstreams' deprecations and advisories", () => {
  let origin: TestServer;
  let proxy: TestServer;
  let denied: TestServer;

  beforeAll(async () => {
    origin = await startTestServer();
    for (const version of ['1.0.0', '2.0.0']) expect((await pushRaw(origin.url, await buildNupkg({ id: 'Adv.Lib', version }))).status).toBe(201);
    const put = (path: string, body: unknown) =>
      fetch(`${origin.url}/api/packages/Adv.Lib/${path}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-nuget-apikey': TEST_KEY },
        body: JSON.stringify(body),
      });
    expect((await put('deprecation', { versions: '1.0.0', reasons: 'CriticalBugs', message: 'Broken.' })).status).toBe(200);
    expect((await put('vulnerabilities', { url: ADVISORY, severity: 'critical', versions: '[1.0.0, 2.0.0)' })).status).toBe(200);
    const url = `${origin.url}/v3/index.json`;
    proxy = await startTestServer({ upstreams: [{ url, timeoutMs: 2_000, metadataTtlSeconds: 1 }] });
    denied = await startTestServer({ upstreams: [{ url, timeoutMs: 2_000, metadataTtlSeconds: 1, deny: ['adv.*'] }] });
  });
  afterAll(async () => {
    await denied?.close();
    await proxy?.close();
    await origin?.close();
  });

  async function entries(s: TestServer): Promise<Map<string, Entry>> {
    const doc = (await (await fetch(`${s.url}/v3/registration-gz-semver2/adv.lib/index.json`)).json()) as { items: { items: { catalogEntry: Entry }[] }[] };
    return new Map(doc.items.flatMap((p) => p.items).map((i) => [i.catalogEntry.version, i.catalogEntry]));
  }

  async function vulnerabilityFiles(s: TestServer) {
    const index = (await (await fetch(`${s.url}/v3/vulnerabilities/index.json`)).json()) as { '@name': string; '@id': string; '@updated': string }[];
    const files = await Promise.all(
      index.map(async (f) => ({ name: f['@name'], updated: f['@updated'], data: (await (await fetch(f['@id'])).json()) as Record<string, { url: string; severity: number; versions: string }[]> })),
    );
    return new Map(files.map((f) => [f.name, f]));
  }

  it('shows the deprecation and advisory of an upstream-only version in registration', async () => {
    const e = await entries(proxy);
    expect(e.get('1.0.0')!.deprecation).toMatchObject({ reasons: ['CriticalBugs'], message: 'Broken.' });
    expect(e.get('1.0.0')!.vulnerabilities).toEqual([expect.objectContaining({ advisoryUrl: ADVISORY, severity: '3' })]);
    expect(e.get('2.0.0')!.deprecation).toBeUndefined();
    expect(e.get('2.0.0')!.vulnerabilities).toBeUndefined();
  });

  it('keeps them once the version is mirrored', async () => {
    expect((await fetch(`${proxy.url}/v3/flatcontainer/adv.lib/1.0.0/adv.lib.1.0.0.nupkg`)).status).toBe(200);
    expect((await proxy.feed.db.getPackage('adv.lib', '1.0.0'))?.mirroredFrom).toBeTruthy();
    const e = await entries(proxy);
    expect(e.get('1.0.0')!.deprecation).toMatchObject({ reasons: ['CriticalBugs'] });
    expect(e.get('1.0.0')!.vulnerabilities).toHaveLength(1);
  });

  it("serves the upstream's VulnerabilityInfo as a file of its own, minus what the deny list excludes", async () => {
    const files = await vulnerabilityFiles(proxy);
    expect([...files.keys()]).toEqual(['base', 'upstream-1']);
    expect(files.get('upstream-1')!.data).toEqual({ 'adv.lib': [{ url: ADVISORY, severity: 3, versions: '[1.0.0, 2.0.0)' }] });
    expect((await vulnerabilityFiles(denied)).get('upstream-1')!.data).toEqual({});
  });

  it('follows a withdrawal after the freshness window, and keeps serving the file while the upstream is down', async () => {
    const before = (await vulnerabilityFiles(proxy)).get('upstream-1')!;
    const r = await fetch(`${origin.url}/api/packages/Adv.Lib/vulnerabilities?url=${encodeURIComponent(ADVISORY)}`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(r.status).toBe(200);
    // Past the 1 s window the next request refreshes in the background; the one after sees the result.
    await expect
      .poll(async () => (await vulnerabilityFiles(proxy)).get('upstream-1')!.data, { timeout: 10_000, interval: 300 })
      .toEqual({});
    const after = (await vulnerabilityFiles(proxy)).get('upstream-1')!;
    expect(after.updated > before.updated).toBe(true);

    await origin.app.close();
    await new Promise((r) => setTimeout(r, 1_200));
    const stale = (await vulnerabilityFiles(proxy)).get('upstream-1');
    expect(stale?.updated).toBe(after.updated);
  });

  it('leaves out upstream entries that do not read as advisories', () => {
    expect(
      vulnerabilityEntries([
        { url: 'https://a.example/1', severity: 2, versions: '(, 1.0.0)' },
        { url: 'javascript:alert(1)', severity: 2, versions: '(, 1.0.0)' },
        { url: 'https://a.example/2', severity: 9, versions: '(, 1.0.0)' },
        { url: 'https://a.example/3', severity: 1, versions: 'not a range' },
        { url: 'https://a.example/4', severity: 1, versions: '1.*' },
        'garbage',
        null,
      ]),
    ).toEqual([{ url: 'https://a.example/1', severity: 2, versions: '(, 1.0.0)' }]);
  });
});
