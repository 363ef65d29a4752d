/**
 * The Host header under attack. Without `baseUrl`, documents link to the host the client named, so an anonymous client
 * picks part of what the server renders and keeps: cycling Host values must not grow the server's memory beyond the
 * response cache's byte bound, and a Host that is not a host[:port] is a 400, never text embedded in a document.
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPawket, type PawketServer } from '../e2e/support/server.js';
import { buildNupkg } from '../support/nupkg.js';

const KEY = 'host-header-key';
const MiB = 1024 * 1024;
const ID = 'Contoso.Wordy';
const VERSIONS = 40;
/** Long descriptions of words in a varying order: a registration index of about 1.3 MB that gzip cannot shrink much. */
const description = (seed: number) => {
  const words = ['restore', 'package', 'feed', 'version', 'registration', 'metadata', 'client', 'server', 'host', 'cache'];
  let x = seed * 7919 + 1;
  const out: string[] = [];
  for (let length = 0; length < 31 * 1024; ) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const word = words[x % words.length]! + (x % 997);
    out.push(word);
    length += word.length + 1;
  }
  return out.join(' ');
};

let server: PawketServer;

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };
const json = (res: Answer) => JSON.parse((res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.body) : res.body).toString('utf8'));

/** A GET with a Host header of our choosing (fetch would send the URL's). */
function getWithHost(path: string, host: string, headers: Record<string, string> = {}) {
  const url = new URL(server.baseUrl);
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, setHost: false, headers: { host, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)![1]);
}
const residentBytes = () => metric('pawket_process_resident_memory_bytes');

beforeAll(async () => {
  // A small response cache: what the hosts may grow the process by is this bound (plus what the runtime keeps around).
  server = await startPawket({ env: { PAWKET_API_KEY: KEY, PAWKET_RESPONSE_CACHE_SIZE: String(16 * MiB) } });
  for (let i = 0; i < VERSIONS; i++) {
    const body = await buildNupkg({ id: ID, version: `1.0.${i}`, description: description(i) });
    const res = await fetch(`${server.baseUrl}/api/v2/package`, {
      method: 'PUT',
      body: new Uint8Array(body),
      headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': KEY },
    });
    expect(res.status).toBe(201);
  }
});
afterAll(() => server?.stop());

describe('cycling Host values', () => {
  it('keeps the server within the response cache bound, with every answer linking to its own host', { timeout: 60_000 }, async () => {
    const paths = ['/v3/registration-gz-semver2/contoso.wordy/index.json', '/v3/registration/contoso.wordy/index.json'];
    const host = new URL(server.baseUrl).host;
    for (const path of paths) {
      const first = await getWithHost(path, host, { 'accept-encoding': 'gzip' });
      expect(first.status).toBe(200);
      expect(first.body.length).toBeGreaterThan(200_000); // gzip form: the plain one is several times bigger
    }
    const before = await residentBytes();
    for (let i = 0; i < 50; i++) {
      for (const path of paths) {
        const hostname = `h${i}.example.test:8080`;
        const res = await getWithHost(path, hostname, { 'accept-encoding': 'gzip' });
        expect(res.status).toBe(200);
        const doc = json(res);
        expect(doc['@id']).toBe(`http://${hostname}${path}`);
        expect(doc.items[0].items[0].packageContent).toMatch(new RegExp(`^http://${hostname}/v3/flatcontainer/`));
      }
    }
    expect(await metric('pawket_response_cache_bytes')).toBeLessThanOrEqual(16 * MiB);
    // Before the bound, each host kept its own copy of both documents (plain and gzip): about 160 MB more here.
    expect((await residentBytes()) - before).toBeLessThan(48 * MiB);
    // The usual host still gets its own document.
    expect(json(await getWithHost(paths[0]!, host, { 'accept-encoding': 'gzip' }))['@id']).toBe(`http://${host}${paths[0]}`);
  });
});

describe('malformed Host headers', () => {
  it.each([
    ['markup', 'evil.test"><script>alert(1)</script>'],
    ['a path', 'evil.test/phish?x='],
    ['user info', 'user@evil.test'],
    ['a space', 'evil.test extra'],
    ['a bad port', 'localhost:80a'],
  ])('are refused with a 400 that says why (%s)', async (_what, host) => {
    for (const path of ['/v3/index.json', '/v3/registration/contoso.wordy/index.json', '/v3/flatcontainer/contoso.wordy/index.json']) {
      const res = await getWithHost(path, host);
      expect(res.status).toBe(400);
      expect(res.body.toString('utf8')).toMatch(/Host header/);
      expect(res.body.toString('utf8')).not.toContain('<script>');
    }
  });

  it('accepts names, IPv4 and IPv6 addresses, with or without a port', async () => {
    for (const host of ['nuget.example.test', 'NuGet.Example.Test:5000', '127.0.0.1:5000', '[::1]:5000', 'build_agent-7']) {
      const res = await getWithHost('/v3/index.json', host);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString('utf8')).resources[0]['@id']).toMatch(new RegExp(`^http://${host.replace(/[[\].]/g, '\\$&')}/`));
    }
  });
});
