import cliProgress from 'cli-progress';
import type { Config } from '../config/schema.js';
import { PawketError } from '../errors.js';
import { openContentFeed } from './open-feed.js';
import { parseMirrorRequest, planMirror } from '../feed/upstream/prefetch.js';

/**
 * `pawket mirror add ID[@RANGE]...`: fetches packages from the configured upstreams into the feed (for offline use),
 * with a progress bar on a terminal and a line per package otherwise. Returns the process exit code.
 */
export async function mirrorAddCommand(config: Config, args: readonly string[], feedName?: string): Promise<number> {
  if (feedName === undefined && config.upstreams.length === 0) {
    process.stderr.write('pawket mirror: no upstream is configured (PAWKET_UPSTREAMS or "upstreams"; docs/UPSTREAMS.md)\n');
    return 2;
  }
  let requests;
  try {
    requests = args.map(parseMirrorRequest);
  } catch (err) {
    process.stderr.write(`pawket mirror: ${(err as Error).message}\n`);
    return 2;
  }
  const feed = await openContentFeed(config, feedName);
  const upstream = feed.upstream;
  let failed = 0;
  try {
    if (!upstream) {
      process.stderr.write(`pawket mirror: the feed '${feed.definition.name}' has no upstream (its setting "upstreams"; docs/UPSTREAMS.md)\n`);
      return 2;
    }
    const work: { id: string; version: string }[] = [];
    for (const r of requests) {
      try {
        const versions = await planMirror(upstream, r);
        if (versions.length === 0) throw new PawketError(404, `no version of ${r.id} matches ${r.range ?? '(latest)'}`);
        for (const version of versions) work.push({ id: r.id, version });
      } catch (err) {
        failed++;
        process.stderr.write(`mirror: FAILED ${r.id}${r.range ? '@' + r.range : ''}: ${(err as Error).message}\n`);
      }
    }
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar({ format: 'mirror [{bar}] {value}/{total} packages | {current}', stream: process.stderr }, cliProgress.Presets.shades_classic)
      : null;
    bar?.start(work.length, 0, { current: '' });
    let done = 0;
    let ok = 0;
    for (const w of work) {
      bar?.update(done, { current: `${w.id} ${w.version}` });
      try {
        const row = await upstream.mirror(w.id, w.version);
        if (!row) throw new PawketError(404, 'no upstream has it');
        ok++;
        if (!bar) process.stderr.write(`mirror: ${w.id} ${w.version} (${++done}/${work.length})\n`);
        else done++;
      } catch (err) {
        failed++;
        done++;
        bar?.stop();
        process.stderr.write(`mirror: FAILED ${w.id} ${w.version}: ${(err as Error).message}\n`);
        bar?.start(work.length, done, { current: '' });
      }
    }
    bar?.update(done, { current: '' });
    bar?.stop();
    process.stdout.write(`Mirrored ${ok} of ${work.length} package versions; ${failed} failed.\n`);
    return failed === 0 ? 0 : 1;
  } finally {
    await feed.close();
  }
}
