import { KyselyStagingSweep } from '../db/kysely-staging-database.js';
import type { Feed } from './feed.js';
import { sweepExpiredStaging } from './staging.js';

/** Removes expired staged artifacts of every feed of the server `feed` belongs to, with their files. */
export function sweepStaging(feed: Pick<Feed, 'hub'>, now = new Date()): Promise<string[]> {
  const { kysely, db, blobs } = feed.hub.shared;
  return sweepExpiredStaging(new KyselyStagingSweep(kysely), db, blobs, now);
}
