import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { operatorPrincipal } from '../feed/auth.js';
import { exportPackages, importPackages } from '../feed/import.js';
import { retainEveryFeed, retainFeed, type FeedRetention } from '../feed/retention.js';
import { openContentFeed } from './open-feed.js';
import { sweepStaging } from '../feed/staging-sweep.js';
import { Progress } from './progress.js';

/** `pawket import DIR`: bulk import; returns the exit code (1 when some file was rejected). */
export async function importCommand(config: Config, dir: string, concurrency: number, feedName?: string): Promise<number> {
  const feed = await openContentFeed(config, feedName);
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
      `Imported ${result.imported} files${feedName === undefined ? '' : ` into '${feed.definition.name}'`}, skipped ${result.skipped} already on the feed, rejected ${result.rejected} (of ${result.total}).\n`,
    );
    return result.rejected === 0 ? 0 : 1;
  } finally {
    progress.stop();
    await feed.close();
  }
}

/** `pawket export DIR`: every package written back out, byte for byte. */
export async function exportCommand(config: Config, dir: string, feedName?: string): Promise<void> {
  const feed = await openContentFeed(config, feedName);
  const progress = new Progress('export', 'packages');
  try {
    const count = await exportPackages(feed, resolve(dir), (done, total) => progress.update(done, total, ''));
    progress.stop();
    process.stdout.write(`Exported ${count} packages${feedName === undefined ? '' : ` of '${feed.definition.name}'`} to ${resolve(dir)}.\n`);
  } finally {
    progress.stop();
    await feed.close();
  }
}

/**
 * `pawket gc [--dry-run] [--feed NAME]`: applies each feed's retention policy (its own settings, else the
 * configuration's; only the named feed's with --feed) and removes orphaned files left by crashes, in every feed.
 */
export async function gcCommand(config: Config, dryRun: boolean, feedName?: string): Promise<void> {
  const opened = await openContentFeed(config, feedName);
  try {
    const principal = operatorPrincipal('pawket gc (command line)');
    const done = feedName !== undefined ? [await retainFeed(opened, principal, dryRun)] : await retainEveryFeed(opened.hub, principal, dryRun);
    for (const retention of done) report(retention, dryRun, done.length > 1);
    if (!dryRun) {
      const expired = await sweepStaging(opened);
      process.stdout.write(`Expired staged files: ${expired.length} were removed.\n`);
    }
    const orphans = await opened.sweepOrphans(dryRun);
    for (const key of orphans) process.stdout.write(`${dryRun ? 'would remove' : 'removed'} orphaned file ${key}\n`);
    process.stdout.write(`Orphaned files: ${orphans.length} ${dryRun ? 'would be' : 'were'} removed.\n`);
  } finally {
    await opened.close();
  }
}

function report({ feed, policy, steps }: FeedRetention, dryRun: boolean, named: boolean): void {
  const label = named ? `Retention in '${feed.definition.name}'` : 'Retention';
  if (steps === null) {
    process.stdout.write(`${label}: no policy set (retentionKeepStable / retentionKeepPrerelease).\n`);
    return;
  }
  for (const s of steps) process.stdout.write(`${dryRun ? 'would ' : ''}${s.action} ${s.id} ${s.version}\n`);
  process.stdout.write(`${label}: ${steps.length} versions ${dryRun ? 'would be' : 'were'} ${policy.action === 'unlist' ? 'unlisted' : 'deleted'}.\n`);
}
