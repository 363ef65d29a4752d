import { execFile } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, freshBackendEnv } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { pawketMain, startPawket, type PawketServer } from './support/server.js';

const KEY = 'webhooks-admin-key';
/** Loopback receivers, fast polling and short retries: what a test can wait for. */
const WEBHOOK_ENV = {
  PAWKET_API_KEY: KEY,
  PAWKET_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
  PAWKET_WEBHOOK_POLL_INTERVAL: '100',
  PAWKET_WEBHOOK_RETRY_DELAYS: '0.3,0.3,0.5,0.5,1,1,1,1,1,1',
  PAWKET_WEBHOOK_TIMEOUT: '1500',
};

interface Received {
  readonly event: string;
  readonly delivery: string;
  readonly signatureValid: boolean;
  readonly body: {
    id: string;
    event: string;
    feed: string;
    timestamp: string;
    package: { id: string; version?: string; versions?: string[]; promoted?: boolean; group?: string | null } | null;
    group?: { id: string; name: string; owner: string };
    packages?: Array<{ id: string; version: string }>;
    actor: { name: string; owner: string | null };
  };
}

type Mode = 'ok' | 'fail' | 'hang';

/** A webhook receiver on loopback that checks signatures as docs/WEBHOOKS.md says a receiver should. */
class Receiver {
  readonly received: Received[] = [];
  secret = '';
  mode: Mode = 'ok';
  /** Requests seen, answered or not. */
  hits = 0;
  private server: Server | undefined;
  private readonly hanging: ServerResponse[] = [];

  constructor(public port = 0) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Takes a free port and closes it again: a receiver that is down. */
  async reservePort(): Promise<this> {
    await this.start();
    await this.stop();
    return this;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging.splice(0)) r.destroy();
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.hits++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.mode === 'hang') {
      this.hanging.push(res);
      return;
    }
    if (this.mode === 'fail') {
      res.writeHead(500).end('receiver broken');
      return;
    }
    const raw = Buffer.concat(chunks);
    const expected = Buffer.from('sha256=' + createHmac('sha256', this.secret).update(raw).digest('hex'));
    const given = Buffer.from(String(req.headers['x-pawket-signature-256'] ?? ''));
    this.received.push({
      event: String(req.headers['x-pawket-event']),
      delivery: String(req.headers['x-pawket-delivery']),
      signatureValid: given.length === expected.length && timingSafeEqual(given, expected) && req.headers['content-type'] === 'application/json',
      body: JSON.parse(raw.toString('utf8')) as Received['body'],
    });
    res.writeHead(204).end();
  }
}

async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const api = async (base: string, method: string, path: string, body?: unknown, key = KEY) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'x-nuget-apikey': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // Errors are plain text; answers are JSON.
  const json = (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {}) as Record<string, any>;
  return { status: res.status, text, json };
};

const push = async (base: string, id: string, version: string) => {
  const res = await fetch(`${base}/api/v2/package`, {
    method: 'PUT',
    body: new Uint8Array(await buildNupkg({ id, version })),
    headers: { 'x-nuget-apikey': KEY },
  });
  expect(res.status, await res.text()).toBe(201);
};

async function createWebhook(base: string, url: string, extra: Record<string, unknown> = {}) {
  const created = await api(base, 'POST', '/api/admin/webhooks', { url, ...extra });
  expect(created.status, created.text).toBe(201);
  return created.json as { id: number; secret: string };
}

const deliveriesOf = async (base: string, id: number) => (await api(base, 'GET', `/api/admin/webhooks/${id}`)).json.deliveries as Array<Record<string, any>>;

describe('webhooks', () => {
  let server: PawketServer;
  const receivers: Receiver[] = [];
  const receiver = async (port = 0) => {
    const r = new Receiver(port);
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    server = await startPawket({ env: WEBHOOK_ENV });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    await server?.stop();
  });

  it('signs every event, delivers each once and in order per package, and never lists the secret', async () => {
    const feedCreated = await api(server.baseUrl, 'POST', '/api/admin/feeds', { name: 'hooks' });
    expect(feedCreated.status, feedCreated.text).toBe(201);
    const feedBase = `${server.baseUrl}/f/hooks`;
    const r = await (await receiver()).start();
    const hook = await createWebhook(feedBase, r.url, { description: 'CI' });
    r.secret = hook.secret;
    expect(hook.secret).toMatch(/^whsec_[0-9a-f]{48}$/);

    // Listed and shown without the secret, on the API and the command line.
    const listed = await api(feedBase, 'GET', '/api/admin/webhooks');
    expect(listed.json.webhooks).toEqual([expect.objectContaining({ id: hook.id, url: r.url, events: '*', active: true, feed: 'hooks', description: 'CI' })]);
    expect(listed.text).not.toContain(hook.secret);
    expect((await api(feedBase, 'GET', `/api/admin/webhooks/${hook.id}`)).text).not.toContain(hook.secret);
    // Only on its own feed.
    expect((await api(server.baseUrl, 'GET', '/api/admin/webhooks')).json.webhooks).toEqual([]);

    await push(feedBase, 'Contoso.Hooked', '1.0.0');
    expect((await fetch(`${feedBase}/api/v2/package/Contoso.Hooked/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': KEY } })).status).toBe(200);
    expect((await fetch(`${feedBase}/api/v2/package/Contoso.Hooked/1.0.0`, { method: 'POST', headers: { 'x-nuget-apikey': KEY } })).status).toBe(200);
    const deprecated = await api(feedBase, 'PUT', '/api/packages/Contoso.Hooked/deprecation', { versions: '1.0.0', reasons: 'Legacy' });
    expect(deprecated.status, deprecated.text).toBe(200);
    expect((await api(server.baseUrl, 'PATCH', '/api/admin/feeds/hooks', { settings: { deleteMode: 'delete' } })).status).toBe(200);
    expect((await fetch(`${feedBase}/api/v2/package/Contoso.Hooked/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': KEY } })).status).toBe(200);

    await waitFor('five deliveries', () => r.received.length >= 5);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(r.received.map((x) => x.event)).toEqual(['package.pushed', 'package.unlisted', 'package.relisted', 'package.deprecated', 'package.deleted']);
    expect(r.received.every((x) => x.signatureValid)).toBe(true);
    expect(new Set(r.received.map((x) => x.delivery)).size).toBe(5);
    for (const x of r.received) {
      expect(x.body.id).toBe(x.delivery);
      expect(x.body.event).toBe(x.event);
      expect(x.body.feed).toBe('hooks');
      expect(x.body.package?.id).toBe('Contoso.Hooked');
      expect(x.body.actor.name).toEqual(expect.any(String));
    }
    expect(r.received[0]!.body.package).toMatchObject({ id: 'Contoso.Hooked', version: '1.0.0', replaced: false, sha512: expect.any(String) });
    expect(r.received[3]!.body.package).toMatchObject({ versions: ['1.0.0'], deprecation: { reasons: ['Legacy'] } });

    // The delivery log says what happened.
    const log = await deliveriesOf(feedBase, hook.id);
    expect(log.map((d) => [d.event, d.status, d.lastStatusCode])).toEqual([
      ['package.deleted', 'sent', 204],
      ['package.deprecated', 'sent', 204],
      ['package.relisted', 'sent', 204],
      ['package.unlisted', 'sent', 204],
      ['package.pushed', 'sent', 204],
    ]);

    // The test event, answered with its outcome; a redelivery keeps the id.
    const ping = await api(feedBase, 'POST', `/api/admin/webhooks/${hook.id}/test`);
    expect(ping.status, ping.text).toBe(200);
    expect(ping.json).toMatchObject({ event: 'ping', status: 'sent', lastStatusCode: 204 });
    expect(r.received.at(-1)).toMatchObject({ event: 'ping', delivery: ping.json.id, signatureValid: true });
    const again = await api(feedBase, 'POST', `/api/admin/webhooks/${hook.id}/deliveries/${log[4]!.id}/redeliver`);
    expect(again.status, again.text).toBe(202);
    await waitFor('the redelivery', () => r.received.length === 7);
    expect(r.received[6]).toMatchObject({ event: 'package.pushed', delivery: log[4]!.id, signatureValid: true });

    // Filtering by event; turning it off holds deliveries; deleting it is audited.
    const patched = await api(feedBase, 'PATCH', `/api/admin/webhooks/${hook.id}`, { events: ['package.unlisted'], active: false });
    expect(patched.json).toMatchObject({ events: ['package.unlisted'], active: false });
    await push(feedBase, 'Contoso.Hooked', '2.0.0');
    expect(await deliveriesOf(feedBase, hook.id)).toHaveLength(6);
    expect((await api(feedBase, 'POST', `/api/admin/webhooks/${hook.id}/test`)).status).toBe(409);
    expect((await api(feedBase, 'DELETE', `/api/admin/webhooks/${hook.id}`)).status).toBe(200);
    expect((await api(feedBase, 'GET', `/api/admin/webhooks/${hook.id}`)).status).toBe(404);
    const audit = await api(server.baseUrl, 'GET', '/api/admin/audit?feed=hooks');
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['webhook.create', 'webhook.delete']));
  });

  it('refuses what it should: non-admin keys, non-http URLs, unknown events', async () => {
    const r = await (await receiver()).reservePort();
    expect((await api(server.baseUrl, 'POST', '/api/admin/webhooks', { url: r.url }, 'not-a-key')).status).toBe(401);
    const ftp = await api(server.baseUrl, 'POST', '/api/admin/webhooks', { url: 'ftp://example.com/x' });
    expect([ftp.status, ftp.text]).toEqual([400, expect.stringContaining('http(s)')]);
    const unknown = await api(server.baseUrl, 'POST', '/api/admin/webhooks', { url: r.url, events: ['package.eaten'] });
    expect([unknown.status, unknown.text]).toEqual([400, expect.stringContaining('package.eaten')]);
  });

  it('delivers to a receiver that was down (refusing, then answering 500) once it is back', async () => {
    const r = await (await receiver()).reservePort();
    const hook = await createWebhook(server.baseUrl, r.url);
    r.secret = hook.secret;
    await push(server.baseUrl, 'Contoso.Down', '1.0.0');
    await push(server.baseUrl, 'Contoso.Down', '1.0.1');
    // Connections refused: the first delivery waits for a retry, the second waits behind it.
    await waitFor('a refused attempt', async () => (await deliveriesOf(server.baseUrl, hook.id)).some((d) => d.attempts >= 1 && d.lastError));
    r.mode = 'fail';
    await r.start();
    await waitFor('a 500', () => r.hits >= 1);
    const failing = await deliveriesOf(server.baseUrl, hook.id);
    expect(failing.every((d) => d.status === 'pending' || d.status === 'sending')).toBe(true);
    r.mode = 'ok';
    await waitFor('both deliveries', () => r.received.length >= 2);
    expect(r.received.map((x) => x.body.package?.version)).toEqual(['1.0.0', '1.0.1']);
    expect(r.received.every((x) => x.signatureValid)).toBe(true);
    const log = await deliveriesOf(server.baseUrl, hook.id);
    expect(log.map((d) => d.status)).toEqual(['sent', 'sent']);
    expect(log[1]!.attempts).toBeGreaterThanOrEqual(2);
    await api(server.baseUrl, 'DELETE', `/api/admin/webhooks/${hook.id}`);
  });

  it('answers a push at once while the receiver hangs', async () => {
    const r = await (await receiver()).start();
    r.mode = 'hang';
    const hook = await createWebhook(server.baseUrl, r.url);
    r.secret = hook.secret;
    await push(server.baseUrl, 'Contoso.Slow', '1.0.0');
    await waitFor('the hanging request', () => r.hits >= 1);
    const started = Date.now();
    await push(server.baseUrl, 'Contoso.Slow', '1.0.1');
    expect(Date.now() - started).toBeLessThan(1000);
    // The attempt times out and is retried later; the second delivery waits behind the first.
    await waitFor('the timeout', async () => (await deliveriesOf(server.baseUrl, hook.id)).some((d) => /no complete answer/.test(d.lastError ?? '')));
    r.mode = 'ok';
    await waitFor('both deliveries', () => r.received.length >= 2);
    expect(r.received.map((x) => x.body.package?.version)).toEqual(['1.0.0', '1.0.1']);
    await api(server.baseUrl, 'DELETE', `/api/admin/webhooks/${hook.id}`);
  });
});

describe('webhook deliveries across restarts and nodes', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-webhooks-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('loses no pending delivery when the server restarts, not even the one it was sending', async () => {
    const dataDir = join(work, 'restart');
    const env = { ...(await freshBackendEnv()), ...WEBHOOK_ENV, PAWKET_WEBHOOK_TIMEOUT: '60000' };
    const r = await new Receiver().start();
    r.mode = 'hang';
    let server = await startPawket({ dataDir, env });
    try {
      const hook = await createWebhook(server.baseUrl, r.url);
      r.secret = hook.secret;
      for (const v of ['1.0.0', '2.0.0', '3.0.0']) await push(server.baseUrl, 'Contoso.Restart', v);
      // The first is being sent (its receiver does not answer), the others wait behind it.
      await waitFor('the first attempt', () => r.hits >= 1);
      await server.stop();
      r.mode = 'ok';
      server = await startPawket({ dataDir, env });
      // Well before the stopped node's claim would have run out (a minute and more): it was handed back.
      await waitFor('the three deliveries', () => r.received.length >= 3, 15_000);
      expect(r.received.map((x) => x.body.package?.version)).toEqual(['1.0.0', '2.0.0', '3.0.0']);
      expect(r.received.every((x) => x.signatureValid)).toBe(true);
    } finally {
      await r.stop();
      await server.stop();
    }
  });

  it('with two nodes on one database, sends each delivery exactly once', async () => {
    const dataDir = join(work, 'nodes');
    const env = { ...(await freshBackendEnv()), ...WEBHOOK_ENV, PAWKET_WEBHOOK_POLL_INTERVAL: '50' };
    const r = await new Receiver().start();
    // One after the other: the first creates the schema.
    const nodes = [await startPawket({ dataDir, env })];
    nodes.push(await startPawket({ dataDir, env }));
    try {
      const hook = await createWebhook(nodes[0]!.baseUrl, r.url);
      r.secret = hook.secret;
      const count = backend === 'postgres-s3' ? 30 : 12;
      await Promise.all(Array.from({ length: count }, (_, i) => push(nodes[i % 2]!.baseUrl, `Contoso.Node${i}`, '1.0.0')));
      await waitFor(`${count} deliveries`, () => r.received.length >= count, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(r.received).toHaveLength(count);
      expect(new Set(r.received.map((x) => x.delivery)).size).toBe(count);
      expect(new Set(r.received.map((x) => x.body.package?.id)).size).toBe(count);
    } finally {
      await r.stop();
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });

  it('refuses loopback receivers unless allowed, and manages webhooks from the command line', async () => {
    const dataDir = join(work, 'cli');
    const env = { ...(await freshBackendEnv()), PAWKET_API_KEY: KEY, PAWKET_WEBHOOK_MAX_PER_FEED: '1', PAWKET_WEBHOOK_MAX_PENDING: '2' };
    const server = await startPawket({ dataDir, env });
    try {
      const refused = await api(server.baseUrl, 'POST', '/api/admin/webhooks', { url: 'http://127.0.0.1:9/hook' });
      expect([refused.status, refused.text]).toEqual([400, expect.stringContaining('private or loopback')]);
      expect((await api(server.baseUrl, 'POST', '/api/admin/webhooks', { url: 'http://[::1]:9/hook' })).status).toBe(400);
      await push(server.baseUrl, 'Contoso.Cli', '1.0.0');
    } finally {
      await server.stop();
    }
    const cli = async (...args: string[]) =>
      (await promisify(execFile)(process.execPath, [pawketMain, 'webhooks', ...args, '--data-dir', dataDir], { env: { ...process.env, ...env } })).stdout;
    const created = JSON.parse(await cli('create', '--url', 'https://hooks.example.com/pawket', '--events', 'package.pushed,package.deprecated', '--json')) as { id: number; secret: string };
    expect(created.secret).toMatch(/^whsec_/);
    const list = await cli('list');
    expect(list).toContain('https://hooks.example.com/pawket');
    expect(list).toContain('package.pushed,package.deprecated');
    expect(list).not.toContain(created.secret);
    expect(await cli('test', String(created.id))).toMatch(/Queued ping/);
    // A deprecation made from the command line is queued too, for a running server to send.
    await promisify(execFile)(process.execPath, [pawketMain, 'deprecate', 'Contoso.Cli', '1.0.0', '--reason', 'legacy', '--data-dir', dataDir], { env: { ...process.env, ...env } });
    // Two deliveries wait (webhookMaxPending): the next is recorded as failed, not queued.
    await cli('test', String(created.id));
    const shown = await cli('show', String(created.id));
    expect(shown).toMatch(/ping .*pending/);
    expect(shown).toMatch(/package\.deprecated +contoso\.cli +pending/);
    expect(shown).toMatch(/ping .*failed .*Not queued: 2 deliveries of this webhook were already waiting/);
    // One webhook per feed here (webhookMaxPerFeed).
    await expect(cli('create', '--url', 'https://other.example.com/')).rejects.toThrow(/has 1 webhooks, the most allowed/);
    expect(shown).not.toContain(created.secret);
    expect(await cli('delete', String(created.id))).toMatch(/Deleted webhook/);
  }, 120_000);
});

describe('staging expiry events', () => {
  /** Staged packages live 8.6 s (the smallest `stagingTtlDays`); the sweep runs five times a second. */
  const STAGING_ENV = { ...WEBHOOK_ENV, PAWKET_STAGING_TTL_DAYS: '0.0001', PAWKET_STAGING_SWEEP_INTERVAL: '200' };

  const stage = async (feedBase: string, id: string, groupId?: string) => {
    const form = new FormData();
    form.append('package', new Blob([new Uint8Array(await buildNupkg({ id, version: '1.0.0' }))]), 'x.nupkg');
    if (groupId !== undefined) form.append('groupId', groupId);
    const res = await fetch(`${feedBase}/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': KEY } });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    return JSON.parse(text) as { id: string; version: string; owner: string; expires: string };
  };
  const ofEvent = (r: Receiver, event: string) => r.received.filter((x) => x.event === event);

  it('announces a promotion: each package as pushed (promoted), then the group, signed and once each', async () => {
    const server = await startPawket({ env: { ...WEBHOOK_ENV, PAWKET_STAGING_API_PROMOTION: 'true' } });
    const r = await new Receiver().start();
    try {
      r.secret = (await createWebhook(server.baseUrl, r.url)).secret;
      await stage(server.baseUrl, 'Contoso.Release.Core', 'rel-7');
      await stage(server.baseUrl, 'Contoso.Release.Web', 'rel-7');
      const promoted = await api(server.baseUrl, 'POST', '/v3/staging/groups/rel-7/promote');
      expect(promoted.status, promoted.text).toBe(200);
      await waitFor('the group event', () => ofEvent(r, 'group.promoted').length === 1);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(r.received.every((x) => x.signatureValid)).toBe(true);
      for (const id of ['Contoso.Release.Core', 'Contoso.Release.Web']) {
        const about = r.received.filter((x) => x.body.package?.id === id);
        expect(about.map((x) => x.event)).toEqual(['package.staged', 'package.pushed']);
        expect(about[1]!.body.package).toMatchObject({ version: '1.0.0', promoted: true, group: 'rel-7' });
      }
      const [group] = ofEvent(r, 'group.promoted');
      expect(group!.body).toMatchObject({ package: null, group: { id: 'rel-7', name: 'rel-7' } });
      expect(group!.body.packages!.map((p) => p.id).sort()).toEqual(['Contoso.Release.Core', 'Contoso.Release.Web']);
      expect(r.received).toHaveLength(5);
    } finally {
      await r.stop();
      await server.stop();
    }
  });

  it('announces each staged package once before it expires and once when the sweep removes it, to its own feed', async () => {
    // Warned 5.4 s before its expiry: a few seconds after it was staged.
    const server = await startPawket({ env: { ...STAGING_ENV, PAWKET_STAGING_EXPIRY_WARNING_HOURS: '0.0015' } });
    const r = await new Receiver().start();
    const other = await new Receiver().start();
    try {
      expect((await api(server.baseUrl, 'POST', '/api/admin/feeds', { name: 'releases' })).status).toBe(201);
      const feedBase = `${server.baseUrl}/f/releases`;
      r.secret = (await createWebhook(feedBase, r.url)).secret;
      // The default feed's webhook hears nothing of another feed's staging.
      other.secret = (await createWebhook(server.baseUrl, other.url)).secret;
      const grouped = await stage(feedBase, 'Contoso.Nightly', 'Nightly-42');
      const loose = await stage(feedBase, 'Contoso.Loose');

      await waitFor('two expired events', () => ofEvent(r, 'staging.expired').length >= 2, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(r.received.every((x) => x.signatureValid)).toBe(true);
      for (const artifact of [grouped, loose]) {
        const about = r.received.filter((x) => x.body.package?.id === artifact.id);
        // Once each, in order.
        expect(about.map((x) => x.event)).toEqual(['package.staged', 'staging.expiring', 'staging.expired']);
        const expected = { id: artifact.id, version: '1.0.0', kind: 'package', owner: artifact.owner, expires: artifact.expires, group: artifact === grouped ? 'Nightly-42' : null };
        const [, expiring, expired] = about;
        for (const x of [expiring!, expired!]) {
          expect(x.body.package).toEqual(expected);
          expect(x.body).toMatchObject({ id: x.delivery, feed: 'releases', actor: { name: 'staging expiry sweep', owner: null } });
        }
        // Not before the warning window opened, nor expired before its time.
        expect(Date.parse(expiring!.body.timestamp)).toBeGreaterThanOrEqual(Date.parse(artifact.expires) - 5400);
        expect(Date.parse(expiring!.body.timestamp)).toBeLessThan(Date.parse(artifact.expires));
        expect(Date.parse(expired!.body.timestamp)).toBeGreaterThanOrEqual(Date.parse(artifact.expires));
      }
      expect(other.received).toEqual([]);
      // Gone for the staging API too.
      expect((await api(feedBase, 'GET', '/v3/staging/package/Contoso.Nightly/1.0.0')).status).toBe(404);
    } finally {
      await r.stop();
      await other.stop();
      await server.stop();
    }
  }, 60_000);

  it('with two nodes sweeping one database, each expiry is announced once', async () => {
    const work = await mkdtemp(join(tmpdir(), 'pawket-webhooks-'));
    const env = { ...(await freshBackendEnv()), ...STAGING_ENV, PAWKET_WEBHOOK_POLL_INTERVAL: '50', PAWKET_STAGING_SWEEP_INTERVAL: '100' };
    const r = await new Receiver().start();
    const nodes = [await startPawket({ dataDir: join(work, 'nodes'), env })];
    nodes.push(await startPawket({ dataDir: join(work, 'nodes'), env }));
    try {
      r.secret = (await createWebhook(nodes[0]!.baseUrl, r.url, { events: ['staging.expiring', 'staging.expired'] })).secret;
      const count = 8;
      const ids = Array.from({ length: count }, (_, i) => `Contoso.Swept${i}`);
      await Promise.all(ids.map((id, i) => stage(nodes[i % 2]!.baseUrl, id, i % 3 === 0 ? 'sweep-group' : undefined)));
      await waitFor(`${count} expired events`, () => ofEvent(r, 'staging.expired').length >= count, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(r.received.every((x) => x.signatureValid)).toBe(true);
      for (const event of ['staging.expiring', 'staging.expired']) {
        expect(ofEvent(r, event).map((x) => x.body.package?.id).sort(), event).toEqual([...ids].sort());
      }
      expect(new Set(r.received.map((x) => x.delivery)).size).toBe(2 * count);
    } finally {
      await r.stop();
      await Promise.all(nodes.map((n) => n.stop()));
      await rm(work, { recursive: true, force: true });
    }
  }, 60_000);
});
