import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBackendEnv } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { describeRun, run } from './support/dotnet.js';
import { pawketMain, startPawket } from './support/server.js';

const KEY = 'operations-secret-key-4f1c9d';

/**
 * PUTs `body` in slices with pauses, calling `midway` once half of it is sent (and going on when what it returns
 * settles); resolves with the status or the error.
 */
function slowPush(url: string, body: Buffer, midway: () => unknown): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = request(`${url}/api/v2/package`, {
      method: 'PUT',
      headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/octet-stream', 'content-length': body.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e) => resolve(e));
    const slice = Math.ceil(body.length / 20);
    let i = 0;
    const next = async () => {
      if (i * slice >= body.length) return req.end();
      if (i === 10) await midway();
      req.write(body.subarray(i * slice, (i + 1) * slice));
      i++;
      setTimeout(() => void next(), 50);
    };
    void next();
  });
}

describe('operating the server', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-ops-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('on SIGTERM during a large push, finishes it: the client gets 201 and the package is there after a restart', async () => {
    const dataDir = join(work, 'sigterm');
    // The restarted server must open the same feed: the same database and storage on every backend.
    const env = { PAWKET_API_KEY: KEY, ...(await freshBackendEnv()) };
    const server = await startPawket({ dataDir, env });
    const random = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < random.length; i += 4) random.writeUInt32LE((i * 2654435761) >>> 0, i);
    const body = await buildNupkg({ id: 'Contoso.Large', version: '1.0.0', files: [{ name: 'lib/netstandard2.0/big.bin', data: random, compress: false }] });
    let signalled = false;
    const outcome = await slowPush(server.baseUrl, body, () => {
      signalled = true;
      void server.stop();
    });
    expect(signalled).toBe(true);
    expect(outcome).toBe(201);
    const again = await startPawket({ dataDir, env });
    try {
      const res = await fetch(`${again.baseUrl}/v3/flatcontainer/contoso.large/1.0.0/contoso.large.1.0.0.nupkg`);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
    } finally {
      await again.stop();
    }
  });

  it('maintenance commands beside the server (gc --dry-run, export) leave a push in flight alone', async () => {
    const env = { PAWKET_API_KEY: KEY, ...(await freshBackendEnv()) };
    const server = await startPawket({ env });
    try {
      const body = await buildNupkg({ id: 'Contoso.Beside', version: '1.0.0', files: [{ name: 'lib/netstandard2.0/a.bin', data: Buffer.alloc(256 * 1024, 7), compress: false }] });
      const commands: string[] = [];
      const outcome = await slowPush(server.baseUrl, body, async () => {
        for (const args of [['gc', '--dry-run'], ['export', join(work, 'beside-export')]]) {
          const r = await run(process.execPath, [pawketMain, ...args, '--data-dir', server.dataDir], { env, timeoutMs: 60_000 });
          expect(r.code, describeRun(r)).toBe(0);
          commands.push(args[0]!);
        }
      });
      expect(commands).toEqual(['gc', 'export']);
      expect(outcome).toBe(201);
      const res = await fetch(`${server.baseUrl}/v3/flatcontainer/contoso.beside/1.0.0/contoso.beside.1.0.0.nupkg`);
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('never writes an API key to its logs, even at debug level', async () => {
    const server = await startPawket({ env: { PAWKET_API_KEY: KEY, PAWKET_LOG_LEVEL: 'debug' } });
    try {
      const body = new Uint8Array(await buildNupkg({ id: 'Contoso.Logged', version: '1.0.0' }));
      await fetch(`${server.baseUrl}/api/v2/package`, { method: 'PUT', body, headers: { 'x-nuget-apikey': KEY } });
      await fetch(`${server.baseUrl}/api/v2/package`, { method: 'PUT', body, headers: { 'x-nuget-apikey': `${KEY}-wrong` } });
      await fetch(`${server.baseUrl}/v3/flatcontainer/contoso.logged/index.json`, {
        headers: { authorization: `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}` },
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(server.output()).toMatch(/incoming request/);
      expect(server.output()).not.toContain(KEY);
      expect(server.output()).not.toContain(Buffer.from(`user:${KEY}`).toString('base64'));
    } finally {
      await server.stop();
    }
  });
});
