/**
 * `GET {feed}/-/auth/read`, what nginx's `auth_request` asks before serving a private feed's materialized files: it
 * answers as any read of the feed is answered (204 yes; 401 with the Basic challenge for a missing, bad or other feed's
 * key; 429 once an address sent too many bad keys), and 204 on a public feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { createKey } from '../auth/support.js';

let server: TestServer;
const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`ci:${key}`).toString('base64')}` });
const check = (feed: string, headers: Record<string, string> = {}) => fetch(`${server.url}${feed}/-/auth/read`, { headers });

describe('the read check for a proxy in front', () => {
  let otherFeedKey: string;
  beforeAll(async () => {
    server = await startTestServer({ badKeyLimit: 3 });
    const hub = server.feed.hub;
    const created = new Date().toISOString();
    await hub.feedDb.createFeed({ name: 'secret', description: '', settings: { private: true }, members: null, created });
    const open = await hub.feedDb.createFeed({ name: 'open', description: '', settings: {}, members: null, created });
    await hub.reloadDefinitions();
    otherFeedKey = await createKey(server, { owner: 'elsewhere', scopes: ['read'], feeds: [open!.id] });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers 204 for a key valid on the private feed, and 401 with the Basic challenge for anything else', async () => {
    const yes = await check('/f/secret', { 'x-nuget-apikey': TEST_KEY });
    expect(yes.status).toBe(204);
    expect((await check('/f/secret', basic(TEST_KEY))).status).toBe(204);
    for (const headers of [{}, basic(otherFeedKey)]) {
      const no = await check('/f/secret', headers);
      expect(no.status, JSON.stringify(headers)).toBe(401);
      expect(no.headers.get('www-authenticate')).toMatch(/^Basic/);
    }
    // A browser asking for a page gets the sign-in offer: still a 401, never a yes.
    expect((await check('/f/secret', { accept: 'text/html' })).status).toBe(401);
  });

  it('answers 204 on a public feed whatever the request carries', async () => {
    expect((await check('')).status).toBe(204);
    expect((await check('/f/open', basic('not-a-key'))).status).toBe(204);
  });

  it('slows down an address that sends bad keys, as every read does', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await check('/f/secret', basic(`guess-${i}`))).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
  });
});
