/** A feed as stored: its name, its own settings (JSON object of overrides) and, for a virtual feed, its members. */
export interface FeedRecord {
  readonly id: number;
  /** As created; unique case-insensitively. */
  readonly name: string;
  readonly description: string;
  /** Settings that differ from the configuration's (parsed and checked by the feed layer). */
  readonly settings: Record<string, unknown>;
  /** Member feed ids, in order, for a virtual feed; null for a feed that holds packages. */
  readonly members: readonly number[] | null;
  readonly created: string;
}

export type NewFeed = Omit<FeedRecord, 'id'>;

/** How much a feed holds: package versions (listed or not) and the bytes of their files. */
export interface FeedUsage {
  readonly packages: number;
  readonly bytes: number;
}

/** Marker of a `changes` row that says "feed definitions changed": every node reloads them. */
export const FEEDS_CHANGE_MARKER = '#feeds';

/** The feeds of a server; every write records a change so that other nodes see it. */
export interface FeedDatabase {
  listFeeds(): Promise<FeedRecord[]>;
  /** What each feed holds, by feed id (a feed without packages is absent). */
  usage(): Promise<Map<number, FeedUsage>>;
  /** Null when the name is taken (case-insensitively). */
  createFeed(feed: NewFeed): Promise<FeedRecord | null>;
  /**
   * Adds a feed with the id it has elsewhere (copying a server); false when the id or the name is taken. Feeds created
   * afterwards get ids above it.
   */
  insertFeed(feed: FeedRecord): Promise<boolean>;
  /** Replaces description, settings and members; false when the feed does not exist. */
  updateFeed(feed: FeedRecord): Promise<boolean>;
  /**
   * Removes the feed and every row of it (packages, counts, owners, prefixes, advisories, mirrored marks); returns the
   * blob keys its rows referenced, for the caller to delete, or null when it did not exist.
   */
  deleteFeed(id: number): Promise<string[] | null>;
}
