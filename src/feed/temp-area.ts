import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One process's own folder under the data dir's `tmp/`, for spooled pushes, downloads and copies. Several processes
 * share a data dir (a server, and `pawket gc`, `import` or `mirror add` beside it), each with its own area, so none
 * removes what another is writing.
 *
 * Which areas are abandoned is decided by a heartbeat, not by process ids: a process may run in another container (its
 * own pid namespace) or on another host of a shared disk, where a pid says nothing. While open, an area's modification
 * time is renewed every {@link HEARTBEAT_MS}; an area (or any other entry of `tmp/`, e.g. left by an older version)
 * untouched for `abandonedAfterMs` belongs to a process that is gone, and any process opening or holding an area
 * removes it.
 */
export interface TempArea {
  readonly dir: string;
  /** Stops the heartbeat and removes the area with everything in it. */
  close(): Promise<void>;
}

export interface TempAreaOptions {
  /** Entries of `tmp/` untouched for this long are removed; default {@link TEMP_ABANDONED_AFTER_MS}. */
  readonly abandonedAfterMs?: number;
  /** Told about failures of the background heartbeat and sweep (they are retried on the next beat). */
  readonly onError?: (err: unknown) => void;
}

/** How often an open area's modification time is renewed, and abandoned ones are looked for. */
export const HEARTBEAT_MS = 60_000;

/** Ten missed heartbeats, as old as the orphan sweep's rule for package files (feed.ts). */
export const TEMP_ABANDONED_AFTER_MS = 10 * 60_000;

/**
 * Creates this process's area under `root`, after removing abandoned entries of `root`.
 * @example const area = await openTempArea(join(dataDir, 'tmp'))
 */
export async function openTempArea(root: string, options: TempAreaOptions = {}): Promise<TempArea> {
  const abandonedAfterMs = options.abandonedAfterMs ?? TEMP_ABANDONED_AFTER_MS;
  const dir = join(root, `${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  const name = dir.slice(root.length + 1);
  await sweepAbandoned(root, name, abandonedAfterMs);
  const beat = async () => {
    const now = new Date();
    // Recreated if someone removed it anyway (an operator emptying tmp/ by hand): pushes keep working.
    await mkdir(dir, { recursive: true });
    await utimes(dir, now, now);
    await sweepAbandoned(root, name, abandonedAfterMs, now.getTime());
  };
  const timer = setInterval(() => void beat().catch((err: unknown) => options.onError?.(err)), HEARTBEAT_MS);
  timer.unref();
  return {
    dir,
    async close() {
      clearInterval(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Removes the entries of `root` (other than `own`) untouched for `abandonedAfterMs`; returns their names. */
export async function sweepAbandoned(root: string, own: string, abandonedAfterMs: number, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (name === own) continue;
    const path = join(root, name);
    const modified = await stat(path).then(
      (s) => s.mtimeMs,
      () => null,
    );
    if (modified === null || now - modified < abandonedAfterMs) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
