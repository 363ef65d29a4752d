import type { Config } from '../config/schema.js';
import { badRequest } from '../errors.js';
import { openFeed, type Feed } from '../feed/feed.js';
import { FeedHub } from '../feed/hub.js';
import { runCommand } from './run-command.js';

/** Runs one command on the server's feeds and people; a PawketError prints its message and exits 1. */
export function withHub(config: Config, run: (hub: FeedHub) => Promise<void>): Promise<void> {
  return runCommand(() => FeedHub.open(config), run, (hub) => hub.close());
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
