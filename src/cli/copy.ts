import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { copyServer, type CopyProgress, type CopyResult } from '../feed/copy.js';
import { PawketError } from '../errors.js';
import { openTempArea, TEMP_ABANDONED_AFTER_MS } from '../feed/temp-area.js';
import { configFromFile, openStorage } from './storage.js';

/**
 * `pawket copy --from A.json --to B.json`: moves a whole server (every feed, keys, audit log) between backends (e.g.
 * SQLite+disk to PostgreSQL+S3). A progress bar per feed on a terminal, a line every 5% in logs. Returns the process
 * exit code.
 */
export async function copyCommand(fromFile: string, toFile: string): Promise<number> {
  const fromConfig = configFromFile(fromFile);
  const from = await openStorage(fromConfig);
  const to = await openStorage(configFromFile(toFile));
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: 'copy {feed} [{bar}] {value}/{total} packages | {eta_formatted} left | {copied} copied, {skipped} already there', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let lastLogged = -1;
  let lastFeed = '';
  const progress = (feed: string, p: CopyProgress) => {
    if (feed !== lastFeed) [lastFeed, lastLogged] = [feed, -1];
    if (bar) {
      if (p.done === 1) bar.start(p.total, 0, { feed, copied: 0, skipped: 0 });
      bar.update(p.done, { copied: p.copied, skipped: p.skipped });
      if (p.done === p.total) bar.stop();
      return;
    }
    const step = Math.floor((p.done / Math.max(1, p.total)) * 20);
    if (step !== lastLogged) {
      lastLogged = step;
      process.stderr.write(`copy: feed ${feed}: ${p.done}/${p.total} packages (${p.copied} copied, ${p.skipped} already there)\n`);
    }
  };
  // The source may be a server that is running: its temporary files are left alone (feed/temp-area.ts).
  const temp = await openTempArea(join(resolve(fromConfig.dataDir), 'tmp'), { abandonedAfterMs: TEMP_ABANDONED_AFTER_MS });
  try {
    const result = await copyServer(from, to, temp.dir, progress);
    bar?.stop();
    const { definitions: d } = result;
    process.stdout.write(
      `Feeds: ${d.created + d.updated + d.unchanged} (${d.created} new at the target, ${d.updated} brought up to date); ` +
        `copied ${result.keys} API keys; ${result.auditEntries} audit log entries new at the target.\n`,
    );
    for (const feed of result.feeds) report(feed.name, feed.result);
    return result.complete ? 0 : 1;
  } catch (e) {
    if (!(e instanceof PawketError)) throw e;
    process.stderr.write(`copy: ${e.message}\n`);
    return 1;
  } finally {
    bar?.stop();
    await from.close();
    await to.close();
    await temp.close();
  }
}

function report(feed: string, result: CopyResult): void {
  for (const f of result.failed) process.stderr.write(`copy: feed ${feed}: FAILED ${f.id} ${f.version}: ${f.reason}\n`);
  for (const f of result.symbols.failed) process.stderr.write(`copy: feed ${feed}: FAILED symbols of ${f.id} ${f.version}: ${f.reason}\n`);
  const { ownership, symbols } = result;
  process.stdout.write(
    `Feed ${feed}: Copied ${result.copied} packages, ${result.skipped} were already there, ${result.failed.length} failed (of ${result.total}); ` +
      `${result.advisories} deprecations and advisories.\n` +
      `  Copied symbols of ${symbols.copied} versions, ${symbols.skipped} were already there, ${symbols.failed.length} failed (of ${symbols.total}).\n` +
      `  New at the target: ${ownership.registrations} id registrations or owners, ${ownership.prefixes} prefix reservations; ` +
      `download counts of ${result.downloadCounts} versions; ${result.signerPolicies} signer policies.\n`,
  );
}
