/**
 * API keys at rest and under attack: no key can be read back from the database (the bytes of the SQLite files, or
 * every row of every PostgreSQL table), and an address sending bad keys is slowed down without slowing anyone else.
 */
import { request } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from '../../src/db/kysely.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { KyselyPackageDatabase } from '../../src/db/kysely-database.js';
import { hashApiKey } from '../../src/feed/auth.js';
import { addressKey, FailureLimiter } from '../../src/http/rate-limit.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../support/app.js';
import { backend } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { keyFor, push, TEST_ADMIN } from '../unit/auth/support.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Everything the database holds, as bytes: the SQLite files (with WAL), or every row of every PostgreSQL table as JSON. */
async function databaseBytes(s: TestServer): Promise<Buffer> {
  if (backend === 'sqlite') {
    const files = (await filesUnder(s.dataDir)).filter((f) => /pawket\.sqlite/.test(f));
    expect(files.length).toBeGreaterThan(0);
    return Buffer.concat(await Promise.all(files.map((f) => readFile(f))));
  }
  const db = (s.feed.db as KyselyPackageDatabase).kysely;
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
  const parts: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await sql<{ row: string }>`select row_to_json(t)::text as row from ${sql.table(table_name)} t`.execute(db);
    parts.push(...rows.rows.map((r) => r.row));
  }
  return Buffer.from(parts.join('\n'));
}

/** GET or PUT from a chosen local address (127.0.0.0/8 is all loopback), answering the status and headers. */
function requestFrom(
  localAddress: string,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; statusText: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, statusText: res.statusMessage ?? '' }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('keys at rest', () => {
  it('are not recoverable from the database: only SHA-256 hashes are stored', async () => {
    server = await startTestServer();
    const s = server;
    const keys: string[] = [];
    // created through the admin API and directly, rotated, revoked, used
    const created = await fetch(`${s.url}/api/admin/keys`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'api-made', owner: 'alpha', scopes: ['push-new', 'unlist'] }),
    });
    const apiKey = ((await created.json()) as { key: string; keyId: string });
    keys.push(apiKey.key);
    expect((await push(s, apiKey.key, 'AtRest.Lib', '1.0.0')).status).toBe(201);
    const direct = await s.feed.keys.create(TEST_ADMIN, { name: 'direct', owner: 'beta', scopes: ['read'] });
    keys.push(direct.key);
    const rotated = await s.feed.keys.rotate(TEST_ADMIN, apiKey.keyId);
    keys.push(rotated.key);
    expect((await push(s, rotated.key, 'AtRest.Lib', '1.0.1')).status).toBe(201);
    keys.push(await keyFor(s, 'gamma', ['admin'], 'revoked'));
    // the configured key is used, and never stored either
    expect((await pushRaw(s.url, await buildNupkg({ id: 'AtRest.Configured', version: '1.0.0' }))).status).toBe(201);
    keys.push(TEST_KEY);

    const bytes = await databaseBytes(s);
    for (const key of keys) {
      expect(bytes.includes(Buffer.from(key)), `the key ${key.slice(0, 8)}… is in the database`).toBe(false);
      if (key.startsWith('pwk_')) {
        const secret = key.slice(4);
        expect(bytes.includes(Buffer.from(secret)), 'the random part of a key is in the database').toBe(false);
        expect(bytes.includes(Buffer.from(secret, 'base64url')), 'the raw key bytes are in the database').toBe(false);
        expect(bytes.includes(Buffer.from(secret.slice(0, 16))), 'a long piece of a key is in the database').toBe(false);
      }
    }
    // what is stored instead (so the search above looked at the right bytes)
    expect(bytes.includes(Buffer.from(hashApiKey(direct.key)))).toBe(true);
    expect(bytes.includes(Buffer.from(hashApiKey(rotated.key)))).toBe(true);
    // and the admin API never shows a key again
    const list = await (await fetch(`${s.url}/api/admin/keys`, { headers: { 'x-nuget-apikey': TEST_KEY } })).text();
    for (const key of keys) expect(list).not.toContain(key);
  });
});

describe('bad keys', () => {
  it('from one address get 429 with Retry-After after ten a minute; other addresses are not affected', async () => {
    server = await startTestServer();
    const s = server;
    const good = await keyFor(s, 'alpha', ['push-new']);
    const pkg = await buildNupkg({ id: 'Limited.Lib', version: '1.0.0' });
    const pushFrom = (address: string, key: string, body = pkg) =>
      requestFrom(address, `${s.url}/api/v2/package`, {
        method: 'PUT',
        headers: { 'x-nuget-apikey': key, 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
        body,
      });

    for (let i = 0; i < 10; i++) expect((await pushFrom('127.0.0.1', `pwk_guess${i}`)).status).toBe(401);
    const limited = await pushFrom('127.0.0.1', 'pwk_guess10');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(6);
    expect(limited.statusText).toMatch(/Too many requests with bad API keys/);
    // a right guess would look the same as a wrong one now
    expect((await pushFrom('127.0.0.1', good)).status).toBe(429);
    // reads that carry no key are not limited (a public feed)
    expect((await requestFrom('127.0.0.1', `${s.url}/v3/index.json`)).status).toBe(200);

    // another address: its good key works, its bad key is an ordinary 401
    expect((await pushFrom('127.0.0.2', good)).status).toBe(201);
    expect((await pushFrom('127.0.0.2', 'pwk_other')).status).toBe(401);
    expect((await s.feed.db.listVersions('limited.lib')).length).toBe(1);
  });

  it('on a private feed count too, Basic credentials included, and are answered 429 instead of 401', async () => {
    server = await startTestServer({ private: true, badKeyLimit: 3 });
    const s = server;
    const reader = await keyFor(s, 'alpha', ['read']);
    const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`user:${key}`).toString('base64')}` });
    const path = `${s.url}/v3/search?q=x`;
    // asking without credentials (what clients do first) is not a bad key
    for (let i = 0; i < 5; i++) expect((await requestFrom('127.0.0.1', path)).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await requestFrom('127.0.0.1', path, { headers: basic(`bad${i}`) })).status).toBe(401);
    expect((await requestFrom('127.0.0.1', path, { headers: basic('bad3') })).status).toBe(429);
    expect((await requestFrom('127.0.0.1', path, { headers: basic(reader) })).status).toBe(429);
    expect((await requestFrom('127.0.0.3', path, { headers: basic(reader) })).status).toBe(200);
  });

  it('are remembered for a bounded number of addresses, per /64 for IPv6, and forgiven over time', () => {
    let now = 0;
    const limiter = new FailureLimiter({ perMinute: 10, maxAddresses: 100, now: () => now });
    for (let i = 0; i < 5000; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBe(100);

    for (let i = 0; i < 10; i++) limiter.fail('192.0.2.1');
    expect(limiter.retryAfter('192.0.2.1')).toBe(6);
    now += 3_000;
    expect(limiter.retryAfter('192.0.2.1')).toBe(3);
    now += 3_000;
    expect(limiter.retryAfter('192.0.2.1')).toBe(0);
    expect(limiter.retryAfter('192.0.2.2')).toBe(0);

    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    for (let i = 0; i < 10; i++) limiter.fail(`2001:db8:1:2::${i + 1}`);
    expect(limiter.retryAfter('2001:db8:1:2:ffff::7')).toBeGreaterThan(0);
    expect(limiter.retryAfter('2001:db8:1:3::1')).toBe(0);

    const off = new FailureLimiter({ perMinute: 0 });
    for (let i = 0; i < 100; i++) off.fail('192.0.2.9');
    expect(off.retryAfter('192.0.2.9')).toBe(0);
  });
});
