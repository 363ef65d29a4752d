/** What the materializer last wrote for one id. */
export interface MaterializedState {
  /** The change-log head when it read the database (0: never written). */
  readonly seq: number;
  /** Digests of the written documents (materialize/manifest.ts), or null. */
  readonly manifest: string | null;
}

/** The latest change of one id in one feed. */
export interface IdChange {
  readonly feedId: number;
  readonly lowerId: string;
  readonly seq: number;
}

/** Bookkeeping of the materialized read path: one row per id and a few named progress values. */
export interface MaterializeDatabase {
  /**
   * Takes the id's lease until `until` (ms) unless another holder has an unexpired one; the id's state when taken,
   * null when someone else is writing it.
   */
  claim(feedId: number, lowerId: string, holder: string, now: number, until: number): Promise<MaterializedState | null>;
  /** Extends a lease this holder has; false when it lost it (expired and taken). */
  renew(feedId: number, lowerId: string, holder: string, until: number): Promise<boolean>;
  /** Records what was written and lets go of the lease. */
  finish(feedId: number, lowerId: string, holder: string, seq: number, manifest: string | null): Promise<void>;
  /** Lets go of the lease without recording anything (a failed write: the next attempt starts from the old state). */
  release(feedId: number, lowerId: string, holder: string): Promise<void>;
  /** The latest change of each id changed after `seq` (markers left out), at most `limit` ids. */
  changedSince(seq: number, limit: number): Promise<IdChange[]>;
  /** The recorded seq of each of these ids of a feed (absent: never written). */
  seqs(feedId: number, lowerIds: readonly string[]): Promise<Map<string, number>>;
  /** Forgets every id of a feed (its documents are rewritten from scratch). */
  forgetFeed(feedId: number): Promise<void>;
  progress(name: string): Promise<string | null>;
  setProgress(name: string, value: string): Promise<void>;
  /** The change-log head. */
  head(): Promise<number>;
}
