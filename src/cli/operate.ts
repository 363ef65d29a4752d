import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { operatorPrincipal } from '../feed/auth.js';
import { openFeed } from '../feed/feed.js';
import { exportPackages, importPackages } from '../feed/import.js';
import { applyRetention, retentionEnabled } from '../feed/retention.js';
import { Progress } from './progress.js';

/** `pawket import DIR`: bulk import; returns the exit code (1 when some file was rejected). */
export async function importCommand(config: Config, dir: string, concurrency: number): Promise<number> {
  const feed = await openFeed(config);
  const progress = new Progress('import', 'files');
  try {
    const result = await importPackages(feed, resolve(dir), operatorPrincipal('pawket import (command line)'), {
      concurrency,
      maxPackageSize: config.maxPackageSize,
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

/** `pawket export DIR`: every package written back out, byte for byte. */
export async function exportCommand(config: Config, dir: string): Promise<void> {
  const feed = await openFeed(config);
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

/** `pawket gc [--dry-run]`: applies the retention policy and removes orphaned files left by crashes. */
export async function gcCommand(config: Config, dryRun: boolean): Promise<void> {
  const feed = await openFeed(config);
  try {
    const policy = { keepStable: config.retentionKeepStable, keepPrerelease: config.retentionKeepPrerelease, action: config.retentionAction };
    if (retentionEnabled(policy)) {
      const steps = await applyRetention(feed.db, feed.reader, feed.manage, operatorPrincipal('pawket gc (command line)'), policy, dryRun);
      for (const s of steps) process.stdout.write(`${dryRun ? 'would ' : ''}${s.action} ${s.id} ${s.version}\n`);
      process.stdout.write(`Retention: ${steps.length} versions ${dryRun ? 'would be' : 'were'} ${policy.action === 'unlist' ? 'unlisted' : 'deleted'}.\n`);
    } else {
      process.stdout.write('Retention: no policy set (retentionKeepStable / retentionKeepPrerelease).\n');
    }
    const orphans = await feed.sweepOrphans(dryRun);
    for (const key of orphans) process.stdout.write(`${dryRun ? 'would remove' : 'removed'} orphaned file ${key}\n`);
    process.stdout.write(`Orphaned files: ${orphans.length} ${dryRun ? 'would be' : 'were'} removed.\n`);
  } finally {
    await feed.close();
  }
}
