import type { Config } from '../config/schema.js';
import { badRequest } from '../errors.js';
import { openFeed, type Feed } from '../feed/feed.js';

/** The feed `--feed` names (default: the default feed), one that holds packages; closing it closes the others. */
export async function openContentFeed(config: Config, name: string | undefined): Promise<Feed> {
  const feed = await openFeed(config, { feed: name });
  if (feed.definition.virtual) {
    await feed.close();
    throw badRequest(`The feed '${feed.definition.name}' is virtual: it holds no packages; act on its member feeds.`);
  }
  return feed;
}
