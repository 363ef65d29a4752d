import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { configSchema, type ConfigInput } from '../../src/config/schema.js';
import { openFeed, type Feed } from '../../src/feed/feed.js';
import { buildApp } from '../../src/http/app.js';
import { freshBackendSettings } from './backend.js';

export const TEST_KEY = 'test-key-0123456789';

export interface TestServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly feed: Feed;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A real Pawket app listening on loopback with a throw-away data dir. */
export async function startTestServer(settings: Partial<ConfigInput> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pawket-test-'));
  const config = configSchema.parse({ dataDir, apiKeys: [TEST_KEY], logLevel: 'silent', ...(await freshBackendSettings()), ...settings });
  const feed = await openFeed(config);
  const app = await buildApp(feed, config);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    feed,
    dataDir,
    async close() {
      await app.close();
      await feed.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Pushes bytes as the raw body, as nuget.exe's and dotnet's PUT would with a raw body. */
export function pushRaw(url: string, body: Buffer, key: string | null = TEST_KEY, method = 'PUT'): Promise<Response> {
  return fetch(`${url}/api/v2/package`, {
    method,
    body: new Uint8Array(body),
    headers: { 'content-type': 'application/octet-stream', ...(key ? { 'x-nuget-apikey': key } : {}) },
  });
}

/** Pushes as `dotnet nuget push` does: multipart/form-data whose first part is the package. */
export function pushMultipart(url: string, body: Buffer, extraParts: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  form.append('package', new Blob([new Uint8Array(body)]), 'package.nupkg');
  for (const [k, v] of Object.entries(extraParts)) form.append(k, v);
  return fetch(`${url}/api/v2/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': TEST_KEY } });
}
