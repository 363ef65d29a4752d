import type { Config } from '../config/schema.js';
import { badRequest, PawketError } from '../errors.js';
import { openFeed, type Feed } from '../feed/feed.js';
import { FeedHub } from '../feed/hub.js';

/** Runs one command on the server's feeds and people; a PawketError prints its message and exits 1. */
export async function withHub(config: Config, run: (hub: FeedHub) => Promise<void>): Promise<void> {
  let hub: FeedHub | undefined;
  try {
    hub = await FeedHub.open(config);
    await run(hub);
  } catch (err) {
    if (!(err instanceof PawketError)) throw err;
    process.stderr.write(`pawket: ${err.message}\n`);
    process.exitCode = 1;
  } finally {
    await hub?.close();
  }
}

/** The feed `--feed` names (default: the default feed), one that holds packages; closing it closes the others. */
export async function openContentFeed(config: Config, name: string | undefined): Promise<Feed> {
  const feed = await openFeed(config, { feed: name });
  if (feed.definition.virtual) {
    await feed.close();
    throw badRequest(`The feed '${feed.definition.name}' is virtual: it holds no packages; act on its member feeds.`);
  }
  return feed;
}
