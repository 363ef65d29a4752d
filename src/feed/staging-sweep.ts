import { KyselyStagingSweep } from '../db/kysely-staging-database.js';
import type { SweptArtifact } from '../db/staging-database.js';
import type { Actor } from './auth.js';
import type { Feed } from './feed.js';
import type { FeedHub } from './hub.js';
import { sweepExpiredStaging } from './staging.js';
import type { StagingExpiryEvent } from './webhook-events.js';

/** The actor of the expiry events: nobody asked for them, the server's sweep found them. */
export const EXPIRY_SWEEP_ACTOR: Actor = { name: 'staging expiry sweep', keyId: null, owner: null, address: null };

/**
 * The staging expiry sweep of every feed of the server `feed` belongs to (docs/STAGING.md): announces artifacts that
 * come within `stagingExpiryWarningHours` of their expiry (`staging.expiring`), then removes expired ones with their
 * files (`staging.expired`), each to the webhooks of the feed that held it. The database decides which node announces
 * what, so several nodes sweeping at once announce each artifact once. Returns the removed files' keys.
 */
export async function sweepStaging(feed: Pick<Feed, 'hub'>, now = new Date()): Promise<string[]> {
  const { kysely, db, blobs, config } = feed.hub.shared;
  const sweep = new KyselyStagingSweep(kysely);
  const warningMs = config.stagingExpiryWarningHours * 3_600_000;
  if (warningMs > 0) {
    const expiring = await sweep.claimExpiryWarnings(now.toISOString(), new Date(now.getTime() + warningMs).toISOString());
    await announce(feed.hub, 'staging.expiring', expiring);
  }
  return sweepExpiredStaging(sweep, db, blobs, now, (expired) => announce(feed.hub, 'staging.expired', expired));
}

/** Tells each artifact's feed; a feed that cannot be opened is reported to the log, and the others still hear. */
async function announce(hub: FeedHub, event: StagingExpiryEvent['event'], artifacts: readonly SweptArtifact[]): Promise<void> {
  for (const a of artifacts) {
    try {
      const target = await feedOf(hub, a.feedId);
      // A feed deleted meanwhile took its webhooks with it.
      if (!target) continue;
      await target.webhooks.notify(EXPIRY_SWEEP_ACTOR, {
        event,
        package: { id: a.id, version: a.fullVersion, kind: a.kind, owner: a.owner, expires: a.expires, group: a.groupId },
      });
    } catch (err) {
      hub.shared.onError(new Error(`could not announce ${event} of ${a.id} ${a.fullVersion}: ${String(err)}`, { cause: err }));
    }
  }
}

async function feedOf(hub: FeedHub, feedId: number): Promise<Feed | null> {
  // A feed created on another node a moment ago may not be known here yet.
  if (!hub.definitionById(feedId)) await hub.reloadDefinitions();
  const definition = hub.definitionById(feedId);
  return definition ? hub.feed(definition.name) : null;
}
