import type { FeedUsage, PackageDatabase } from '../db/database.js';
import { PawketError } from '../errors.js';

/** A feed's quota (docs/FEEDS.md, Quotas): its name for messages, and its limits (0 = none). */
export interface FeedQuota {
  readonly feedName: string;
  readonly quotaBytes: number;
  readonly quotaPackages: number;
}

/** Whether the feed has a quota at all: without one, nothing is counted (no query). */
export function hasQuota(quota: FeedQuota | undefined): quota is FeedQuota {
  return quota !== undefined && (quota.quotaBytes > 0 || quota.quotaPackages > 0);
}

/**
 * Refuses a write that would take the feed over its quota: a 403 naming the quota, what the feed holds and what the
 * write would make (NuGet clients print the message), before anything is stored. Every version counts, listed or not,
 * pushed, promoted or mirrored: the quota bounds what the feed keeps on disk. A write that adds nothing on one side (an
 * overwrite by a smaller file) is never refused for it, even on a feed over a quota lowered since.
 *
 * One aggregate query against what is committed: writes in flight at the same moment do not see each other, so N
 * concurrent pushes may overshoot the quota by up to N-1 of them. That is accepted (a lock across nodes would cost
 * every push); the next write is refused.
 *
 * @example await enforceQuota(db, quota, { packages: 1, bytes: upload.size }, 'this push')
 */
export async function enforceQuota(db: Pick<PackageDatabase, 'usage'>, quota: FeedQuota | undefined, change: FeedUsage, what: string): Promise<void> {
  if (!hasQuota(quota)) return;
  const addsPackages = quota.quotaPackages > 0 && change.packages > 0;
  const addsBytes = quota.quotaBytes > 0 && change.bytes > 0;
  if (!addsPackages && !addsBytes) return;
  const usage = await db.usage();
  const feed = `Feed '${quota.feedName}'`;
  const advice = (setting: string) => `Delete old versions (unlisted ones count too) or ask an admin to raise the feed's ${setting}.`;
  if (addsPackages && usage.packages + change.packages > quota.quotaPackages) {
    throw new PawketError(
      403,
      `${feed} has a quota of ${count(quota.quotaPackages)} and holds ${usage.packages}: ${what} would make ${usage.packages + change.packages}. ${advice('quotaPackages')}`,
    );
  }
  if (addsBytes && usage.bytes + change.bytes > quota.quotaBytes) {
    throw new PawketError(
      403,
      `${feed} has a quota of ${exactSize(quota.quotaBytes)} and holds ${size(usage.bytes)}: ${what} (${size(change.bytes)}) ` +
        `would make ${exactSize(usage.bytes + change.bytes)}. ${advice('quotaBytes')}`,
    );
  }
}

const count = (n: number) => `${n} package${n === 1 ? '' : 's'}`;

/** The same with the exact count when rounded (`1.5 MiB (1572864 bytes)`): the limit and the total are compared exactly. */
const exactSize = (bytes: number) => (bytes < 1024 ? size(bytes) : `${size(bytes)} (${bytes} bytes)`);

/** Bytes as people read them: `512 bytes`, `1.5 MiB`. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`;
}
