import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { routes } from './routes.js';

/** Where a feed's clients point: its service index, V2 root, symbol server and web pages. */
export interface FeedUrls {
  readonly serviceIndex: string;
  readonly v2: string;
  readonly symbols: string;
  readonly web: string;
}

/** The URLs of a feed on a server at `serverBase` (no trailing slash): the default feed's are unprefixed, others' under `/f/{name}`. */
export function feedUrls(serverBase: string, feed: { readonly id: number; readonly name: string }): FeedUrls {
  const base = feed.id === DEFAULT_FEED_ID ? serverBase : `${serverBase}/f/${feed.name}`;
  return { serviceIndex: base + routes.serviceIndex, v2: base + routes.v2, symbols: base + routes.symbolServer, web: `${base}/` };
}
