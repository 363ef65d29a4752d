/** A blob write the journal knows of: its key and when it began (ISO time). */
export interface PendingBlob {
  readonly blobKey: string;
  readonly writtenAt: string;
}

/** The journal of blob writes in flight (pending-blob-migrations.ts). */
export interface PendingBlobDatabase {
  /** Notes a write about to begin; a key written again gets the new time (its earlier write is then no orphan yet). */
  record(blobKey: string, writtenAt: string): Promise<void>;
  /** The oldest writes that began before `before`, at most `limit`. */
  olderThan(before: string, limit: number): Promise<PendingBlob[]>;
  /**
   * Removes the row if it is still the one read (same time): false when another node took it or the key was written
   * again meanwhile, and the caller must leave the file alone.
   */
  forget(entry: PendingBlob): Promise<boolean>;
  /** How many writes the journal holds (metrics, tests). */
  count(): Promise<number>;
}
