import { afterEach, describe, expect, it } from 'vitest';
import { buildNupkg } from '../../support/nupkg.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('health', () => {
  it('is live and ready while the database and storage answer', async () => {
    server = await startTestServer();
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('is not ready, and says why, when the database is gone', async () => {
    server = await startTestServer();
    await server.feed.db.close();
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/database/);
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
    // close() would close the database again
    await server.app.close();
    server = undefined;
  });
});

describe('metrics', () => {
  const metric = (text: string, line: RegExp) => text.split('\n').find((l) => line.test(l));

  it('counts requests by route pattern, pushes by outcome, downloads and cache hits', async () => {
    // The change watcher would drop the cached versions list again when it sees this node's own push, at a moment
    // the test does not control; cross-node invalidation is tested elsewhere.
    server = await startTestServer({ changePollInterval: 60_000 });
    const pkg = await buildNupkg({ id: 'Contoso.Metrics', version: '1.0.0' });
    expect((await pushRaw(server.url, pkg)).status).toBe(201);
    expect((await pushRaw(server.url, pkg)).status).toBe(409);
    await fetch(`${server.url}/v3/flatcontainer/contoso.metrics/1.0.0/contoso.metrics.1.0.0.nupkg`);
    await fetch(`${server.url}/v3/flatcontainer/contoso.metrics/index.json`);
    await fetch(`${server.url}/v3/flatcontainer/contoso.metrics/index.json`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(metric(text, /^pawket_pushes_total\{outcome="created"\} 1$/)).toBeTruthy();
    expect(metric(text, /^pawket_pushes_total\{outcome="409"\} 1$/)).toBeTruthy();
    expect(metric(text, /^pawket_package_downloads_total 1$/)).toBeTruthy();
    expect(metric(text, /^pawket_response_cache_total\{result="hit"\} [1-9]/)).toBeTruthy();
    expect(metric(text, /^pawket_http_requests_total\{route="\/v3\/flatcontainer\/:id\/index.json",method="GET",status="200"\} 2$/)).toBeTruthy();
    expect(metric(text, /^pawket_http_request_duration_seconds_count\{route="\/api\/v2\/package",method="PUT"\} 2$/)).toBeTruthy();
  });
});

describe('request ids', () => {
  it('echoes the caller\'s X-Request-Id, or gives one', async () => {
    server = await startTestServer();
    const given = await fetch(`${server.url}/v3/index.json`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await fetch(`${server.url}/v3/index.json`);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
