/** A feed written and then reloaded is in memory at once, even when another reload was reading at the time. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FeedAdmin } from '../../../src/feed/feed-admin.js';
import { startTestServer, type TestServer } from '../../support/app.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('sees a feed created while a reload that read before it was still running (the change watcher\'s, say)', async () => {
  const hub = server.feed.hub;
  const list = hub.feedDb.listFeeds.bind(hub.feedDb);
  const create = hub.feedDb.createFeed.bind(hub.feedDb);
  // A slow reload starts just before the feed's row is written, and ends after the write.
  hub.feedDb.listFeeds = async () => {
    const feeds = await list();
    await sleep(300);
    return feeds;
  };
  hub.feedDb.createFeed = async (feed) => {
    void hub.reloadDefinitions();
    await sleep(50);
    return create(feed);
  };
  const created = await new FeedAdmin(hub).create({ name: 'test', keyId: null, owner: null, address: null }, { name: 'raced' });
  expect(created).toMatchObject({ name: 'raced', kind: 'feed' });
  expect(hub.definition('raced')?.id).toBe(created.id);
});
