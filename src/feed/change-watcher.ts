import type { Change, PackageDatabase } from '../db/database.js';

/**
 * How far back each poll looks again. PostgreSQL hands out sequence numbers at insert, not at commit, so a change may
 * become visible after a later-numbered one; re-reading a window (and remembering what was seen) catches it.
 */
const LOOKBACK = 1000;
const BATCH = 5000;
/** Change rows older than this many sequence numbers are pruned now and then. */
const RETAIN = 100_000;

/**
 * Hands changes committed by any node (or process), in any feed, to `onChange` here, so every node's caches drop what
 * another node changed: one cheap indexed query per interval for the whole server, the same on SQLite and PostgreSQL.
 */
export class ChangeWatcher {
  private last = 0;
  private readonly seen = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private nextPoll: Promise<void> | undefined;
  private polls = 0;

  constructor(
    private readonly db: PackageDatabase,
    private readonly onChange: (change: Change) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Starts from the current head: everything before it is already what this node loads from the database. Recent
   * changes that `replay` picks (markers of something still going on) are handed over all the same.
   */
  async start(intervalMs: number, replay: (change: Change) => boolean = () => false): Promise<void> {
    this.last = await this.db.latestChange();
    for (const change of await this.db.changesSince(Math.max(0, this.last - LOOKBACK), BATCH)) {
      this.seen.add(change.seq);
      if (replay(change)) this.onChange(change);
    }
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  /** One poll; concurrent calls share the one in flight. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce()
      .catch(this.onError)
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** A poll that starts after this call: what committed before it has been handed over when this resolves. */
  catchUp(): Promise<void> {
    if (!this.polling) return this.poll();
    this.nextPoll ??= this.polling.then(() => {
      this.nextPoll = undefined;
      return this.poll();
    });
    return this.nextPoll;
  }

  private async pollOnce(): Promise<void> {
    const from = Math.max(0, this.last - LOOKBACK);
    const changes = await this.db.changesSince(from, BATCH);
    for (const change of changes) {
      if (this.seen.has(change.seq) || change.seq <= from) continue;
      this.seen.add(change.seq);
      this.onChange(change);
      this.last = Math.max(this.last, change.seq);
    }
    for (const seq of this.seen) if (seq <= this.last - LOOKBACK) this.seen.delete(seq);
    if (++this.polls % 1000 === 0 && this.last > RETAIN) await this.db.pruneChanges(this.last - RETAIN);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
