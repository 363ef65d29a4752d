import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { copyFeed, type CopyProgress } from '../feed/copy.js';
import { openTempArea, TEMP_ABANDONED_AFTER_MS } from '../feed/temp-area.js';
import { configFromFile, openStorage } from './storage.js';

/**
 * `pawket copy --from A.json --to B.json`: moves a whole feed between backends (e.g. SQLite+disk to PostgreSQL+S3).
 * A progress bar on a terminal, a line every 5% in logs. Returns the process exit code.
 */
export async function copyCommand(fromFile: string, toFile: string): Promise<number> {
  const fromConfig = configFromFile(fromFile);
  const from = await openStorage(fromConfig);
  const to = await openStorage(configFromFile(toFile));
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: 'copy [{bar}] {value}/{total} packages | {eta_formatted} left | {copied} copied, {skipped} already there', stream: process.stderr }, cliProgress.Presets.shades_classic)
    : null;
  let lastLogged = -1;
  const progress = (p: CopyProgress) => {
    if (bar) {
      if (p.done === 1) bar.start(p.total, 0, { copied: 0, skipped: 0 });
      bar.update(p.done, { copied: p.copied, skipped: p.skipped });
      return;
    }
    const step = Math.floor((p.done / Math.max(1, p.total)) * 20);
    if (step !== lastLogged) {
      lastLogged = step;
      process.stderr.write(`copy: ${p.done}/${p.total} packages (${p.copied} copied, ${p.skipped} already there)\n`);
    }
  };
  // The source may be a feed being served: its server's temporary files are left alone (feed/temp-area.ts).
  const temp = await openTempArea(join(resolve(fromConfig.dataDir), 'tmp'), { abandonedAfterMs: TEMP_ABANDONED_AFTER_MS });
  try {
    const result = await copyFeed(from, to, temp.dir, progress);
    bar?.stop();
    for (const f of result.failed) process.stderr.write(`copy: FAILED ${f.id} ${f.version}: ${f.reason}\n`);
    for (const f of result.symbols.failed) process.stderr.write(`copy: FAILED symbols of ${f.id} ${f.version}: ${f.reason}\n`);
    const { access, symbols } = result;
    process.stdout.write(
      `Copied ${result.copied} packages, ${result.skipped} were already there, ${result.failed.length} failed (of ${result.total}); ` +
        `${result.advisories} deprecations and advisories.\n` +
        `Copied symbols of ${symbols.copied} versions, ${symbols.skipped} were already there, ${symbols.failed.length} failed (of ${symbols.total}).\n` +
        `Copied ${access.keys} API keys; new at the target: ${access.registrations} id registrations or owners, ` +
        `${access.prefixes} prefix reservations, ${access.auditEntries} audit log entries; download counts of ${result.downloadCounts} versions.\n`,
    );
    return result.failed.length === 0 && symbols.failed.length === 0 ? 0 : 1;
  } finally {
    bar?.stop();
    await from.close();
    await to.close();
    await temp.close();
  }
}
