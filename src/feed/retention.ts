import type { Config } from '../config/schema.js';
import type { PackageDatabase } from '../db/database.js';
import { isPrerelease } from '../nuget/version.js';
import type { Principal } from './auth.js';
import type { Feed } from './feed.js';
import type { FeedHub } from './hub.js';
import type { DeleteMode, ManageService } from './manage.js';
import type { PackageReader, SortedVersion } from './package-reader.js';

export interface RetentionPolicy {
  /** Newest stable versions to keep per id; 0 keeps all. */
  readonly keepStable: number;
  /** Newest prerelease versions to keep per id; 0 keeps all. */
  readonly keepPrerelease: number;
  readonly action: DeleteMode;
}

export interface RetentionStep {
  readonly id: string;
  readonly version: string;
  readonly action: DeleteMode;
}

export const retentionEnabled = (p: RetentionPolicy) => p.keepStable > 0 || p.keepPrerelease > 0;

/** The policy of a feed's configuration (the server's settings with the feed's own applied). */
export function retentionPolicyOf(config: Pick<Config, 'retentionKeepStable' | 'retentionKeepPrerelease' | 'retentionAction'>): RetentionPolicy {
  return { keepStable: config.retentionKeepStable, keepPrerelease: config.retentionKeepPrerelease, action: config.retentionAction };
}

/** What retention did (or would do) in one feed; `steps` is null when the feed has no policy. */
export interface FeedRetention {
  readonly feed: Feed;
  readonly policy: RetentionPolicy;
  readonly steps: RetentionStep[] | null;
}

/** Applies (or lists) a feed's own policy. */
export async function retainFeed(feed: Feed, principal: Principal, dryRun: boolean): Promise<FeedRetention> {
  const policy = retentionPolicyOf(feed.config);
  if (!retentionEnabled(policy)) return { feed, policy, steps: null };
  return { feed, policy, steps: await applyRetention(feed.db, feed.reader, feed.manage, principal, policy, dryRun) };
}

/** Each feed that holds packages (virtual ones hold none), with its own policy, in id order. */
export async function retainEveryFeed(hub: FeedHub, principal: Principal, dryRun: boolean): Promise<FeedRetention[]> {
  const done: FeedRetention[] = [];
  for (const definition of hub.definitions()) {
    if (definition.virtual) continue;
    const feed = await hub.feed(definition.name);
    if (feed) done.push(await retainFeed(feed, principal, dryRun));
  }
  return done;
}

/**
 * The versions of one id a policy retires: beyond the newest N stable and the newest M prerelease versions, counted
 * separately. With `unlist`, versions already unlisted need nothing; with `delete`, they go too.
 */
export function retentionPlan(versions: readonly SortedVersion[], policy: RetentionPolicy): RetentionStep[] {
  const retire = (group: SortedVersion[], keep: number) => (keep > 0 ? group.slice(0, Math.max(0, group.length - keep)) : []);
  const stable = versions.filter((v) => !isPrerelease(v.parsed));
  const pre = versions.filter((v) => isPrerelease(v.parsed));
  return [...retire(stable, policy.keepStable), ...retire(pre, policy.keepPrerelease)]
    .filter((v) => policy.action === 'delete' || v.record.listed)
    .map((v) => ({ id: v.record.id, version: v.record.fullVersion, action: policy.action }));
}

/** Applies (or, with dryRun, only lists) the policy for every id on the feed. */
export async function applyRetention(
  db: PackageDatabase,
  reader: PackageReader,
  manage: ManageService,
  principal: Principal,
  policy: RetentionPolicy,
  dryRun: boolean,
): Promise<RetentionStep[]> {
  const ids = new Set<string>();
  for (let after: { lowerId: string; lowerVersion: string } | null = null; ; ) {
    const page = await db.scanByIdentity(after, 1000);
    if (page.length === 0) break;
    for (const r of page) ids.add(r.lowerId);
    after = page.at(-1)!;
  }
  const steps: RetentionStep[] = [];
  for (const id of ids) {
    for (const step of retentionPlan(await reader.versions(id), policy)) {
      if (!dryRun) await manage.remove(step.id, step.version, principal, step.action);
      steps.push(step);
    }
  }
  return steps;
}
