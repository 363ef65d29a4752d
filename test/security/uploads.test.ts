/**
 * Uploads against a real server process when clients or the machine misbehave: a push that stalls, headers that never
 * end, a slow push that must still succeed, and a disk that fills up while a push or an unlist is written.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { startPawket, type PawketServer } from '../e2e/support/server.js';

const KEY = 'uploads-secret-key-5d02e7';
const KiB = 1024;

/** Every file under `dir`, at any depth (none if it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A package holding `bytes` bytes that do not compress. */
function packageOf(id: string, bytes: number): Promise<Buffer> {
  return buildNupkg({ id, version: '1.0.0', files: [{ name: 'lib/netstandard2.0/data.bin', data: randomBytes(bytes), compress: false }] });
}

function push(server: PawketServer, body: Buffer): Promise<Response> {
  return fetch(`${server.baseUrl}/api/v2/package`, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': KEY },
  });
}

/**
 * Opens a connection, sends `head` (and `bodyStart`), then nothing; resolves when the server closes it, with how long
 * after the last byte that was and what the server answered, if anything.
 */
function sendThenStall(server: PawketServer, head: string, bodyStart: Buffer = Buffer.alloc(0), giveUpMs = 10_000): Promise<{ closedAfterMs: number | null; answer: string }> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(server.baseUrl);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    let lastByte = 0;
    const giveUp = setTimeout(() => {
      socket.destroy();
      resolve({ closedAfterMs: null, answer });
    }, giveUpMs);
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - lastByte, answer });
    });
    socket.on('connect', () => {
      socket.write(head);
      socket.write(bodyStart, (err) => (err ? reject(err) : (lastByte = Date.now())));
    });
  });
}

/** PUTs `body` in `slices` pieces with `pauseMs` between them; resolves with the status. */
function pushSlowly(server: PawketServer, body: Buffer, slices: number, pauseMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.baseUrl}/api/v2/package`, {
      method: 'PUT',
      headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/octet-stream', 'content-length': body.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    const size = Math.ceil(body.length / slices);
    let i = 0;
    const next = () => {
      if (i * size >= body.length) return req.end();
      req.write(body.subarray(i * size, ++i * size));
      setTimeout(next, pauseMs);
    };
    next();
  });
}

describe('stalled and slow clients', () => {
  let server: PawketServer;
  beforeAll(async () => {
    server = await startPawket({ env: { PAWKET_API_KEY: KEY, PAWKET_UPLOAD_IDLE_TIMEOUT: '1000', PAWKET_HEADERS_TIMEOUT: '1000' } });
  });
  afterAll(() => server?.stop());

  const boundary = 'pawket-stall-boundary';
  // dotnet nuget push sends a multipart form; nuget.exe and others a raw body.
  it.each([
    ['raw', 'application/octet-stream', ''],
    ['multipart', `multipart/form-data; boundary=${boundary}`, `--${boundary}\r\nContent-Disposition: form-data; name="package"; filename="p.nupkg"\r\n\r\n`],
  ])('a push (%s body) that stops sending is cut after uploadIdleTimeout: connection closed, spool file removed', async (_kind, type, preamble) => {
    const head =
      `PUT /api/v2/package HTTP/1.1\r\nHost: 127.0.0.1\r\nX-NuGet-ApiKey: ${KEY}\r\n` +
      `Content-Type: ${type}\r\nContent-Length: ${1024 * KiB}\r\n\r\n${preamble}`;
    const logged = server.output().match(/request body stalled/g)?.length ?? 0;
    const stalled = sendThenStall(server, head, randomBytes(64 * KiB));
    // The push got as far as its spool file, which then holds the received part.
    await waitFor('the spool file', async () => (await filesUnder(join(server.dataDir, 'tmp'))).some((f) => f.endsWith('.spool')));
    const { closedAfterMs } = await stalled;
    expect(closedAfterMs, 'the server never closed the stalled push').not.toBeNull();
    expect(closedAfterMs!).toBeGreaterThanOrEqual(900);
    expect(closedAfterMs!).toBeLessThan(4000);
    await waitFor('the spool file to go', async () => (await filesUnder(join(server.dataDir, 'tmp'))).length === 0);
    expect(server.output().match(/request body stalled: connection closed/g)?.length).toBe(logged + 1);
  });

  it('a slow push that keeps sending succeeds, though it lasts longer than uploadIdleTimeout', async () => {
    const body = await packageOf('Contoso.Slow', 64 * KiB);
    const started = Date.now();
    expect(await pushSlowly(server, body, 12, 250)).toBe(201);
    expect(Date.now() - started).toBeGreaterThan(2500);
  });

  it('headers that never end are cut after headersTimeout', async () => {
    const { closedAfterMs, answer } = await sendThenStall(server, 'PUT /api/v2/package HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(closedAfterMs, 'the server never closed the connection').not.toBeNull();
    expect(closedAfterMs!).toBeLessThan(4000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});

/** Mounts a tmpfs of `size` on `dir`; the reason it could not, or null. */
function mountTmpfs(dir: string, size: string): string | null {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr || r.error?.message || `mount exited with ${r.status}`).trim();
}

/** Appends to `file` until the disk has no byte left. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'a');
  try {
    for (const size of [64 * KiB, 4 * KiB, 1]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
}

// A full disk is the embedded backend's: PostgreSQL and S3 fill up on other machines, in their own ways.
describe.skipIf(backend === 'postgres-s3')('a full disk (SQLite and package files on disk)', () => {
  let work: string;
  const mounts: string[] = [];
  let cannotMount: string | null = null;

  /** A fresh dir with a small tmpfs mounted on `sub` of it (or on it); null when mounting is not permitted here. */
  async function smallDisk(name: string, size: string, sub = ''): Promise<string | null> {
    if (cannotMount) return null;
    const dir = join(work, name);
    const mountPoint = join(dir, sub);
    await mkdir(mountPoint, { recursive: true });
    cannotMount = mountTmpfs(mountPoint, size);
    if (cannotMount) {
      console.warn(`\n!!! SKIPPING the disk-full tests: mounting a tmpfs is not permitted here (they need root): ${cannotMount}\n`);
      return null;
    }
    mounts.push(mountPoint);
    return dir;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-disk-full-'));
  });
  afterAll(async () => {
    for (const m of mounts) {
      if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
    }
    await rm(work, { recursive: true, force: true });
  });

  it('a push that fills the disk while it is received is a 507 saying so; nothing of it is kept; the server goes on', async (ctx) => {
    const dataDir = await smallDisk('spool', '2m');
    if (!dataDir) return ctx.skip();
    const server = await startPawket({ dataDir, env: { PAWKET_API_KEY: KEY } });
    try {
      const res = await push(server, await packageOf('Contoso.TooBig', 3 * 1024 * KiB));
      const text = await res.text();
      expect(res.status, text).toBe(507);
      expect(text).toMatch(/The server is out of disk space, so the package could not be stored; nothing was kept/);
      expect(await filesUnder(join(dataDir, 'tmp'))).toEqual([]);
      expect(await filesUnder(join(dataDir, 'blobs'))).toEqual([]);
      await waitFor('the ENOSPC error in the log', async () => /"level":50.*ENOSPC/.test(server.output()));
      // The space is free again: the next push and reads work.
      expect((await push(server, await packageOf('Contoso.Fits', 16 * KiB))).status).toBe(201);
      expect((await fetch(`${server.baseUrl}/v3/flatcontainer/contoso.fits/index.json`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('a push that fills the package storage while it is moved there is a 507; no partial file is left', async (ctx) => {
    const dataDir = await smallDisk('blobs', '512k', 'blobs');
    if (!dataDir) return ctx.skip();
    const server = await startPawket({ dataDir, env: { PAWKET_API_KEY: KEY } });
    try {
      const res = await push(server, await packageOf('Contoso.TooBig', 1024 * KiB));
      const text = await res.text();
      expect(res.status, text).toBe(507);
      expect(text).toMatch(/out of disk space/);
      expect(await filesUnder(join(dataDir, 'blobs'))).toEqual([]);
      expect(await filesUnder(join(dataDir, 'tmp'))).toEqual([]);
      expect((await fetch(`${server.baseUrl}/v3/flatcontainer/contoso.toobig/index.json`)).status).toBe(404);
      expect((await push(server, await packageOf('Contoso.Fits', 16 * KiB))).status).toBe(201);
    } finally {
      await server.stop();
    }
  });

  it("an unlist on a full disk is a 507, and the log has SQLite's own error, not the failed rollback's", async (ctx) => {
    const dataDir = await smallDisk('database', '2m');
    if (!dataDir) return ctx.skip();
    const server = await startPawket({ dataDir, env: { PAWKET_API_KEY: KEY } });
    try {
      expect((await push(server, await packageOf('Contoso.Unlisted', 16 * KiB))).status).toBe(201);
      const filler = join(dataDir, 'filler');
      fillDisk(filler);
      const unlist = () => fetch(`${server.baseUrl}/api/v2/package/Contoso.Unlisted/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': KEY } });
      const res = await unlist();
      const text = await res.text();
      expect(res.status, text).toBe(507);
      expect(text).toMatch(/The server is out of disk space/);
      // The log line travels through the server's stdout pipe, which may arrive after the answer.
      await waitFor("SQLite's error in the log", async () => /"level":50.*database or disk is full/.test(server.output()));
      await rm(filler);
      expect((await fetch(server.feedUrl)).status).toBe(200);
      expect((await unlist()).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
