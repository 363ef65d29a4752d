import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { operatorPrincipal } from '../feed/auth.js';
import { openFeed } from '../feed/feed.js';
import { exportPackages, importPackages } from '../feed/import.js';
import { retainEveryFeed, retainFeed, type FeedRetention } from '../feed/retention.js';
import { Progress } from './progress.js';

/** `pawket import DIR [--feed NAME]`: bulk import into a feed; returns the exit code (1 when some file was rejected). */
export async function importCommand(config: Config, dir: string, concurrency: number, feedName?: string): Promise<number> {
  const feed = await openFeed(config, { feed: feedName });
  const progress = new Progress('import', 'files');
  try {
    const result = await importPackages(feed, resolve(dir), operatorPrincipal('pawket import (command line)'), {
      concurrency,
      maxPackageSize: feed.config.maxPackageSize,
      onProgress: (p) => progress.update(p.done, p.total, `${p.imported} imported, ${p.skipped} already there, ${p.rejected} rejected`),
    });
    progress.stop();
    for (const r of result.rejections) process.stderr.write(`rejected ${r.file}: ${r.reason}\n`);
    process.stdout.write(
      `Imported ${result.imported} files, skipped ${result.skipped} already on the feed, rejected ${result.rejected} (of ${result.total}).\n`,
    );
    return result.rejected === 0 ? 0 : 1;
  } finally {
    progress.stop();
    await feed.close();
  }
}

/** `pawket export DIR [--feed NAME]`: every package of a feed written back out, byte for byte. */
export async function exportCommand(config: Config, dir: string, feedName?: string): Promise<void> {
  const feed = await openFeed(config, { feed: feedName });
  const progress = new Progress('export', 'packages');
  try {
    const count = await exportPackages(feed, resolve(dir), (done, total) => progress.update(done, total, ''));
    progress.stop();
    process.stdout.write(`Exported ${count} packages to ${resolve(dir)}.\n`);
  } finally {
    progress.stop();
    await feed.close();
  }
}

/**
 * `pawket gc [--feed NAME] [--dry-run]`: applies retention (each feed's own policy; every feed that holds packages, or
 * the one named) and removes orphaned files left by crashes (in every feed: files are the server's).
 */
export async function gcCommand(config: Config, dryRun: boolean, feedName?: string): Promise<void> {
  const feed = await openFeed(config, { feed: feedName });
  try {
    const principal = operatorPrincipal('pawket gc (command line)');
    let done: FeedRetention[] = [];
    if (feedName === undefined) done = await retainEveryFeed(feed.hub, principal, dryRun);
    else if (!feed.definition.virtual) done = [await retainFeed(feed, principal, dryRun)];
    else process.stdout.write(`Retention: feed ${feed.scope.name} is virtual; it holds no packages of its own.\n`);
    for (const { feed: f, policy, steps } of done) {
      // The default feed's lines are as they were before there were several feeds.
      const label = f.scope.id === DEFAULT_FEED_ID ? 'Retention' : `Retention in feed ${f.scope.name}`;
      const where = f.scope.id === DEFAULT_FEED_ID ? '' : ` (feed ${f.scope.name})`;
      if (steps === null) {
        process.stdout.write(`${label}: no policy set (retentionKeepStable / retentionKeepPrerelease).\n`);
        continue;
      }
      for (const s of steps) process.stdout.write(`${dryRun ? 'would ' : ''}${s.action} ${s.id} ${s.version}${where}\n`);
      process.stdout.write(`${label}: ${steps.length} versions ${dryRun ? 'would be' : 'were'} ${policy.action === 'unlist' ? 'unlisted' : 'deleted'}.\n`);
    }
    const orphans = await feed.sweepOrphans(dryRun);
    for (const key of orphans) process.stdout.write(`${dryRun ? 'would remove' : 'removed'} orphaned file ${key}\n`);
    process.stdout.write(`Orphaned files: ${orphans.length} ${dryRun ? 'would be' : 'were'} removed.\n`);
  } finally {
    await feed.close();
  }
}
