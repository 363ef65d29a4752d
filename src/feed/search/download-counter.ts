import type { DownloadCount, PackageDatabase } from '../../db/database.js';

export interface DownloadCounterOptions {
  /** Write the counts at least this often (ms). */
  readonly flushIntervalMs?: number;
  /** Write as soon as this many versions have uncounted downloads. */
  readonly flushAtVersions?: number;
  /** Versions held while the database refuses writes; downloads of further versions are dropped (and reported). */
  readonly maxPendingVersions?: number;
  /** Told what was written, after it was written (the search index adds it to its totals). */
  readonly onFlushed?: (counts: readonly DownloadCount[]) => void;
  readonly onError?: (err: unknown, what: string) => void;
}

/**
 * Counts `.nupkg` downloads in memory and adds them to the database in batches: the download path never writes a
 * row (nuget.org moved counting off the request path for the same reason). At most one flush runs at a time; a
 * failed flush keeps its counts for the next one. Counts not yet written are lost if the process dies without
 * {@link close}: a few seconds of downloads, by design.
 */
export class DownloadCounter {
  private pending = new Map<string, DownloadCount & { count: number }>();
  private flushing: Promise<void> | undefined;
  private flushRequested = false;
  private readonly timer: NodeJS.Timeout;
  private dropped = 0;
  private closed = false;
  private readonly flushAt: number;
  private readonly maxPending: number;

  constructor(
    private readonly db: Pick<PackageDatabase, 'addDownloadCounts'>,
    private readonly options: DownloadCounterOptions = {},
  ) {
    // A flush is one statement but runs on the event loop (SQLite is synchronous): rarely, for many versions at once.
    this.flushAt = options.flushAtVersions ?? 100_000;
    this.maxPending = Math.max(this.flushAt, options.maxPendingVersions ?? 200_000);
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 10_000);
    this.timer.unref();
  }

  /** One download of a version; cheap and synchronous. */
  record(lowerId: string, lowerVersion: string): void {
    const key = `${lowerId}\u0000${lowerVersion}`;
    const seen = this.pending.get(key);
    if (seen) {
      seen.count++;
      return;
    }
    if (this.pending.size >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.pending.set(key, { lowerId, lowerVersion, count: 1 });
    if (this.pending.size >= this.flushAt && !this.flushRequested) {
      this.flushRequested = true;
      void this.flush().finally(() => (this.flushRequested = false));
    }
  }

  /** Versions with downloads not yet written. */
  get pendingVersions(): number {
    return this.pending.size;
  }

  /** Writes what was counted so far; resolves when written (or when the write failed and was reported). */
  async flush(): Promise<void> {
    // Wait for the flush in flight, then write what came in meanwhile.
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.write(batch).finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async write(batch: DownloadCount[]): Promise<void> {
    try {
      await this.db.addDownloadCounts(batch);
    } catch (err) {
      // Keep them for the next flush, merged with what arrived meanwhile.
      for (const c of batch) {
        const key = `${c.lowerId}\u0000${c.lowerVersion}`;
        const seen = this.pending.get(key);
        if (seen) seen.count += c.count;
        else if (this.pending.size < this.maxPending) this.pending.set(key, { ...c });
        else this.dropped += c.count;
      }
      this.options.onError?.(err, 'writing download counts');
      return;
    }
    if (this.dropped > 0) {
      this.options.onError?.(new Error(`${this.dropped} downloads were not counted while the database refused writes`), 'counting downloads');
      this.dropped = 0;
    }
    this.options.onFlushed?.(batch);
  }

  /** Stops the timer and writes what is left (the server's close hook calls this before the database closes). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }
}
