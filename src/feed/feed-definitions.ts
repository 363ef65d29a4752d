import { feedSettingsSchema, FEED_SETTINGS, privateUnderReadBaseUrl, type Config, type FeedSettings } from '../config/schema.js';
import type { FeedRecord } from '../db/feed-database.js';
import { badRequest } from '../errors.js';

/** A feed as the server knows it: the stored record with its settings checked, and the configuration it runs with. */
export interface FeedDefinition extends Omit<FeedRecord, 'settings'> {
  readonly lowerName: string;
  /** Its own settings (what differs from the configuration's). */
  readonly settings: FeedSettings;
  /** The configuration with the feed's settings applied, and its public URL under `/f/{name}`. */
  readonly config: Config;
  readonly virtual: boolean;
}

/** Feed names are URL path segments: letters, digits, `.`, `_`, `-`; compared case-insensitively. */
const FEED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkFeedName(name: string): string {
  if (!FEED_NAME.test(name) || name.endsWith('.')) {
    throw badRequest(`'${name.slice(0, 80)}' is not a feed name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.`);
  }
  return name;
}

/** Checks a feed's own settings; a bad value is a 400 naming the setting. */
export function parseFeedSettings(input: unknown): FeedSettings {
  const result = feedSettingsSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    throw badRequest(`Unknown feed setting ${issue.keys.map((k) => `'${k}'`).join(', ')}: a feed may set ${FEED_SETTINGS.join(', ')}.`);
  }
  throw badRequest(`Feed setting '${key}': ${issue.message}.`);
}

/** The configuration a feed runs with: the server's, with the feed's own settings on top. */
export function feedConfig(base: Config, record: Pick<FeedRecord, 'id' | 'name'>, settings: FeedSettings, isDefault: boolean): Config {
  // Both sides are parsed values of the same field schemas: spreading is the whole merge.
  const config: Config = { ...base, ...settings };
  if (isDefault || !base.baseUrl) return config;
  return { ...config, baseUrl: `${base.baseUrl.replace(/\/+$/, '')}/f/${record.name}` };
}

export function toDefinition(base: Config, record: FeedRecord, isDefault: boolean): FeedDefinition {
  // A row written by a newer or older release may hold a setting this one does not know: it is left out, not fatal.
  const known = Object.fromEntries(Object.entries(record.settings).filter(([k]) => (FEED_SETTINGS as readonly string[]).includes(k)));
  const parsed = feedSettingsSchema.safeParse(known);
  const settings = parsed.success ? parsed.data : {};
  return {
    ...record,
    lowerName: record.name.toLowerCase(),
    settings,
    config: feedConfig(base, record, settings, isDefault),
    virtual: record.members !== null,
  };
}

/**
 * Whether a feed may run with the server's `readBaseUrl`: not when it holds packages and is private (its files would
 * be readable by anyone there); a virtual feed is served by the nodes only, so it may be private.
 */
export function staticReadAllowed(config: Config, feed: { readonly virtual: boolean }): boolean {
  return !config.readBaseUrl || !config.private || feed.virtual;
}

/** Refuses feed settings {@link staticReadAllowed} does not allow, with a 400 naming the feed. */
export function refusePrivateUnderReadBaseUrl(config: Config, feed: { readonly name: string; readonly virtual: boolean }): void {
  if (!staticReadAllowed(config, feed)) throw badRequest(`Feed setting 'private': ${privateUnderReadBaseUrl(feed.name)}.`);
}
