/** A feed's webhook pages (`{prefix}/admin/webhooks`) on a real server, signed in as a browser would be. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KyselyWebhookQueue } from '../../../src/db/kysely-webhook-database.js';
import { WebhookWorker } from '../../../src/feed/webhook-worker.js';
import { startTestServer, type TestServer } from '../../support/app.js';
import { addUser, createFeed, grant, postForm, signInAs, type Browser } from './people-support.js';

let server: TestServer;
let worker: WebhookWorker;
let admin: Browser;
let owner: Browser;

/** A receiver on loopback that records what it got and whether the signature checks with `secret`. */
const receiver = {
  secret: '',
  got: [] as Array<{ event: string; delivery: string; signed: boolean }>,
  server: undefined as Server | undefined,
  url: '',
};

beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0, signIn: { admins: ['root'] }, webhookAllowPrivateAddresses: true, webhookTimeout: 2000 });
  await createFeed(server, 'dev');
  admin = await signInAs(server, await addUser(server, 'root'));
  await addUser(server, 'dave');
  await grant(server, 'dev', 'dave', 'owner');
  owner = await signInAs(server, (await server.feed.hub.shared.people.db.findUser('dave'))!.userId);
  // What `pawket serve` runs beside the app: the sender of queued deliveries.
  worker = new WebhookWorker(new KyselyWebhookQueue(server.feed.hub.shared.kysely), {
    pollIntervalMs: 50,
    timeoutMs: 2000,
    retryDelaysMs: [60_000],
    allowPrivateAddresses: true,
    onError: () => {},
  });
  worker.start();
  receiver.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const expected = Buffer.from('sha256=' + createHmac('sha256', receiver.secret).update(Buffer.concat(chunks)).digest('hex'));
      const given = Buffer.from(String(req.headers['x-pawket-signature-256'] ?? ''));
      receiver.got.push({ event: String(req.headers['x-pawket-event']), delivery: String(req.headers['x-pawket-delivery']), signed: given.length === expected.length && timingSafeEqual(given, expected) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.server!.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await worker?.stop();
  receiver.server?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver.server ? receiver.server.close(() => resolve()) : resolve()));
  await server?.close();
});

const get = (path: string, browser: Browser | null) => fetch(`${server.url}${path}`, { headers: browser ? { cookie: browser.cookie } : {}, redirect: 'manual' });

async function createThroughForm(prefix: string, fields: Record<string, string | readonly string[]>): Promise<{ id: number; secret: string; page: string }> {
  const res = await postForm(server, admin, `${prefix}/admin/webhooks`, fields);
  const page = await res.text();
  expect(res.status, page).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const secret = /id="webhook-secret">([^<]+)</.exec(page)![1]!;
  const id = Number(/Webhook <a href="[^"]*\/admin\/webhooks\/(\d+)">/.exec(page)![1]);
  return { id, secret, page };
}

describe('the webhook pages', () => {
  it('are for admins of the feed: others are refused, nobody signed in is sent to sign in', async () => {
    const anonymous = await get('/f/dev/admin/webhooks', null);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/signin?returnTo=%2Ff%2Fdev%2Fadmin%2Fwebhooks');
    // An owner of the feed manages its roles and settings, not webhooks (they make the server call URLs).
    const refused = await get('/f/dev/admin/webhooks', owner);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Only an admin of the feed dev may manage its webhooks');
    const create = await postForm(server, owner, '/f/dev/admin/webhooks', { url: receiver.url, 'events[]': '*' });
    expect(create.status).toBe(403);
    const dev = (await server.feed.hub.feed('dev'))!;
    expect(await dev.webhooks.list()).toEqual([]);
  });

  it('refuses a form without the session token, and changes nothing', async () => {
    const res = await postForm(server, admin, '/f/dev/admin/webhooks', { url: receiver.url, 'events[]': '*' }, { csrf: null });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('security token does not match');
    expect(await (await server.feed.hub.feed('dev'))!.webhooks.list()).toEqual([]);
  });

  it('creates a webhook and shows its secret once; lists it without; a test event reaches the receiver signed', async () => {
    expect(await (await get('/f/dev/admin/webhooks', admin)).text()).toContain('This feed has no webhooks.');
    const created = await createThroughForm('/f/dev', { url: receiver.url, description: 'CI <builds>', 'events[]': ['package.pushed', 'staging.expired'] });
    receiver.secret = created.secret;
    expect(created.secret).toMatch(/^whsec_[0-9a-f]{48}$/);
    expect(created.page).toContain('This is the only time the secret is shown.');

    const list = await (await get('/f/dev/admin/webhooks', admin)).text();
    expect(list).toContain(`<code>${receiver.url}</code>`);
    expect(list).toContain('CI &lt;builds&gt;');
    expect(list).toContain('package.pushed, staging.expired');
    expect(list).toContain('none yet');
    expect(list).not.toContain(created.secret);
    // Only on its own feed.
    expect(await (await get('/admin/webhooks', admin)).text()).not.toContain(receiver.url);

    const test = await postForm(server, admin, `/f/dev/admin/webhooks/${created.id}/test`);
    expect(test.status).toBe(303);
    expect(test.headers.get('location')).toBe(`/f/dev/admin/webhooks/${created.id}?done=test-sent`);
    expect(receiver.got).toEqual([{ event: 'ping', delivery: expect.any(String), signed: true }]);
    const page = await (await get(test.headers.get('location')!, admin)).text();
    expect(page).toContain('The test event (ping) was delivered.');
    expect(page).toMatch(/<code>ping<\/code><\/td>\s*<td><\/td>\s*<td>sent \(HTTP 204\)/);
    expect(page).toContain(receiver.got[0]!.delivery);
    expect(page).not.toContain(created.secret);
    // The list shows the last delivery; the audit log names the person.
    expect(await (await get('/f/dev/admin/webhooks', admin)).text()).toMatch(/sent \(HTTP 204\)<br><span class="muted">ping,/);
    const audit = await server.feed.accessDb.listAudit({ limit: 20, feedId: server.feed.hub.definition('dev')!.id, action: 'webhook.create' });
    expect(audit.map((e) => e.owner)).toEqual(['root']);
  });

  it('refuses a bad URL with the form filled in again', async () => {
    const res = await postForm(server, admin, '/admin/webhooks', { url: 'ftp://example.com/x', description: 'kept', 'events[]': 'package.deleted' });
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page).toContain('http(s)');
    expect(page).toContain('value="kept"');
    expect(page).toMatch(/value="package.deleted" checked/);
    expect(await server.feed.webhooks.list()).toEqual([]);
  });

  it('disables, enables and deletes a webhook; redelivers a delivery', async () => {
    const { id } = await createThroughForm('', { url: receiver.url, 'events[]': '*' });
    const off = await postForm(server, admin, `/admin/webhooks/${id}/active`, { active: 'no' });
    expect(off.headers.get('location')).toBe(`/admin/webhooks/${id}?done=disabled`);
    const page = await (await get(`/admin/webhooks/${id}`, admin)).text();
    expect(page).toContain('Inactive: its deliveries wait');
    expect(page).not.toContain('Send a test event');
    expect((await postForm(server, admin, `/admin/webhooks/${id}/test`)).status).toBe(409);
    expect((await postForm(server, admin, `/admin/webhooks/${id}/active`, { active: 'yes' })).headers.get('location')).toBe(`/admin/webhooks/${id}?done=enabled`);

    const { delivery } = await server.feed.webhooks.pingAndWait({ name: 'test', keyId: null, owner: null, address: null }, id, 5000);
    const again = await postForm(server, admin, `/admin/webhooks/${id}/deliveries/${delivery.deliveryId}/redeliver`);
    expect(again.headers.get('location')).toBe(`/admin/webhooks/${id}?done=redelivered`);

    expect((await postForm(server, admin, `/admin/webhooks/${id}/delete`)).status).toBe(400);
    const deleted = await postForm(server, admin, `/admin/webhooks/${id}/delete`, { confirm: 'yes' });
    expect(deleted.headers.get('location')).toBe('/admin/webhooks?done=deleted');
    expect(await (await get('/admin/webhooks?done=deleted', admin)).text()).toContain('The webhook was deleted');
    expect((await get(`/admin/webhooks/${id}`, admin)).status).toBe(404);
  });

  it('pages the delivery log', async () => {
    // A receiver that is not there, retried in a minute: the deliveries wait in the log.
    const dev = (await server.feed.hub.feed('dev'))!;
    const actor = { name: 'test', keyId: null, owner: null, address: null };
    const { webhook } = await dev.webhooks.create(actor, { url: 'http://127.0.0.1:9/gone', events: ['package.deleted'] });
    for (let i = 0; i < 55; i++) await dev.webhooks.notify(actor, { event: 'package.deleted', package: { id: `Paged.${i}`, version: '1.0.0' } });
    const base = `/f/dev/admin/webhooks/${webhook.webhookId}`;
    const rows = (page: string) => page.match(/<td><code>package\.deleted<\/code><\/td>/g)?.length ?? 0;
    const first = await (await get(base, admin)).text();
    expect(rows(first)).toBe(50);
    expect(first).toContain('paged.54');
    expect(first).toContain(`<a href="${base}?page=2">Older →</a>`);
    const second = await (await get(`${base}?page=2`, admin)).text();
    expect(rows(second)).toBe(5);
    expect(second).toContain('paged.0');
    expect(second).toContain(`<a href="${base}">← Newer</a>`);
    expect(second).not.toContain('Older →');
    // A test event to a receiver that is not there says so.
    const test = await postForm(server, admin, `${base}/test`);
    expect(test.headers.get('location')).toBe(`${base}?done=test-failed`);
    expect(await (await get(test.headers.get('location')!, admin)).text()).toMatch(/<div class="status bad" role="alert">The test event \(ping\) was not delivered/);
    expect((await get(`${base}?page=0`, admin)).status).toBe(400);
    expect((await get(`${base}?page=x`, admin)).status).toBe(400);
  });
});

describe('the admin pages', () => {
  it("link each feed's webhooks from the feeds page", async () => {
    const page = await (await get('/admin/feeds', admin)).text();
    expect(page).toContain('<a href="/f/dev/admin/webhooks">Webhooks of dev</a>');
    expect(page).toContain('<a href="/admin/webhooks">Webhooks of default</a>');
    expect(await (await get('/admin/feeds', owner)).text()).not.toContain('/admin/webhooks');
  });
});
