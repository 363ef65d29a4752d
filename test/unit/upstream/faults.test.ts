import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNupkg } from '../../support/nupkg.js';
import { startTestServer, type TestServer } from '../../support/app.js';
import { FaultUpstream } from './fault-upstream.js';

// Pawket in front of a misbehaving upstream: failures are clear 502s (never 500s), bad bytes are never cached,
// cached data is served when the upstream goes down, and concurrent requests share one upstream fetch.
describe('read-through against a faulty upstream', () => {
  const upstream = new FaultUpstream();
  let pawket: TestServer;
  let good: Buffer;

  beforeAll(async () => {
    good = await buildNupkg({ id: 'Fault.Lib', version: '1.0.0' });
    upstream.add('Fault.Lib', '1.0.0', good);
    upstream.add('Fault.Lib', '2.0.0', await buildNupkg({ id: 'Fault.Lib', version: '2.0.0' }));
    upstream.add('Fault.Other', '1.0.0', await buildNupkg({ id: 'Fault.Other', version: '1.0.0' }));
    const url = await upstream.start();
    pawket = await startTestServer({ upstreams: [{ url, timeoutMs: 300, metadataTtlSeconds: 1 }] });
  });
  afterAll(async () => {
    await pawket?.close();
    await upstream.stop();
  });

  const flat = (path: string) => fetch(`${pawket.url}/v3/flatcontainer/${path}`);
  const nupkg = (v: string) => flat(`fault.lib/${v}/fault.lib.${v}.nupkg`);
  const rows = async () => (await pawket.feed.db.listVersions('fault.lib')).map((r) => r.lowerVersion).sort();

  it('lists upstream versions before anything is downloaded', async () => {
    const res = await flat('fault.lib/index.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ versions: ['1.0.0', '2.0.0'] });
    expect(await rows()).toEqual([]);
  });

  for (const mode of ['hang', '500', 'truncated', 'wrong-hash', 'garbage'] as const) {
    it(`answers 502 with a reason and caches nothing when the upstream file is ${mode}`, async () => {
      upstream.fileMode = mode;
      const started = Date.now();
      const res = await nupkg('1.0.0');
      expect(res.status).toBe(502);
      expect(await res.text()).toMatch(/Could not fetch Fault\.Lib 1\.0\.0 .*Nothing was cached/);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await rows()).toEqual([]);
    });
  }

  it('downloads, verifies and keeps the file once the upstream behaves', async () => {
    upstream.fileMode = 'ok';
    // The breaker of the failures above may still hold: wait until the upstream is asked again.
    await new Promise((r) => setTimeout(r, 10_500));
    const before = upstream.hitsOf('/flat/fault.lib/1.0.0/');
    const answers = await Promise.all(Array.from({ length: 8 }, () => nupkg('1.0.0')));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(good)).toBe(true);
    }
    // Eight concurrent requests, one upstream download.
    expect(upstream.hitsOf('/flat/fault.lib/1.0.0/') - before).toBe(1);
    expect(await rows()).toEqual(['1.0.0']);
    const nuspec = await flat('fault.lib/1.0.0/fault.lib.nuspec');
    expect(nuspec.status).toBe(200);
  }, 30_000);

  it('serves cached files and stale metadata while the upstream hangs, and never answers 500', async () => {
    upstream.metadataMode = 'hang';
    upstream.fileMode = 'hang';
    await new Promise((r) => setTimeout(r, 1_500)); // past the freshness window
    const index = await flat('fault.lib/index.json');
    expect(index.status).toBe(200);
    expect(await index.json()).toEqual({ versions: ['1.0.0', '2.0.0'] });
    const file = await nupkg('1.0.0');
    expect(file.status).toBe(200);
    // Not cached and unreachable: a clear 502.
    const missing = await nupkg('2.0.0');
    expect(missing.status).toBe(502);
    const unknown = await flat('fault.other/index.json');
    expect(unknown.status).toBe(502);
    expect(await unknown.text()).toMatch(/not cached and the upstream is unreachable/);
  }, 30_000);

  it('treats garbage metadata as down and does not cache it', async () => {
    upstream.metadataMode = 'garbage';
    await new Promise((r) => setTimeout(r, 10_500)); // breaker closes
    const res = await flat('fault.lib/index.json');
    expect(res.status).toBe(200); // stale, from the last good answer
    expect(await res.json()).toEqual({ versions: ['1.0.0', '2.0.0'] });
    upstream.metadataMode = 'ok';
  }, 30_000);
});
