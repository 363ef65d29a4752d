import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config/schema.js';
import { openFeed, type Feed } from '../../src/feed/feed.js';
import { buildApp } from '../../src/http/app.js';

/** One node of a server in this process: its feed, app and URL (several share one database and blob store). */
export interface Node {
  readonly feed: Feed;
  readonly app: FastifyInstance;
  readonly url: string;
}

export async function startNode(config: Config): Promise<Node> {
  const feed = await openFeed(config);
  const app = await buildApp(feed, config);
  return { feed, app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

export async function stopNodes(nodes: readonly Node[]): Promise<void> {
  for (const node of nodes) {
    await node.app.close();
    await node.feed.close();
  }
}
