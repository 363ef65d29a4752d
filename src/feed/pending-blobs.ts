import type { BlobContent, BlobListing, BlobMeta, BlobStore } from '../blobs/blob-store.js';
import type { PendingBlob, PendingBlobDatabase } from '../db/pending-blob-database.js';
import { isMaterializedKey } from './orphans.js';

/** A push in flight writes its file moments before its row; a journal entry older than this and unreferenced is an orphan. */
export const PENDING_BLOB_GRACE_MS = 10 * 60 * 1000;

/** Rows read per round of a sweep: bounds its memory, and lets requests run between rounds. */
const SWEEP_BATCH = 200;

/**
 * The blob store every writer of package, symbols and staged files goes through (publish, staging, symbols, import,
 * copy, mirroring, promotion, overwrite): each write is noted in the journal before the file is stored, so a crash
 * between the file and its row leaves a journal entry, and the orphan sweep looks at those entries instead of listing
 * the store. Entries are cleared by the sweep once old enough: a referenced file keeps its file, the rest go.
 * Materialized documents (`static/`) are not journaled: rows never point to them, and their writer rebuilds them.
 */
export class JournaledBlobStore implements BlobStore {
  constructor(
    private readonly store: BlobStore,
    private readonly journal: PendingBlobDatabase,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The store underneath, for callers that must not journal (the sweep itself). */
  get unjournaled(): BlobStore {
    return this.store;
  }

  private async note(key: string): Promise<void> {
    if (!isMaterializedKey(key)) await this.journal.record(key, new Date(this.clock()).toISOString());
  }

  async putFile(key: string, tempFile: string): Promise<void> {
    await this.note(key);
    await this.store.putFile(key, tempFile);
  }

  async putBytes(key: string, bytes: Buffer, meta: BlobMeta): Promise<void> {
    await this.note(key);
    await this.store.putBytes(key, bytes, meta);
  }

  async copy(from: string, to: string, meta: BlobMeta): Promise<boolean> {
    await this.note(to);
    return this.store.copy(from, to, meta);
  }

  open(key: string): Promise<BlobContent | null> {
    return this.store.open(key);
  }

  readRange(key: string, start: number, length: number): Promise<Buffer | null> {
    return this.store.readRange(key, start, length);
  }

  delete(key: string): Promise<void> {
    return this.store.delete(key);
  }

  list(prefix?: string): AsyncIterable<BlobListing> {
    return this.store.list(prefix);
  }

  get redirectUrl(): ((key: string) => Promise<string | null>) | undefined {
    const store = this.store;
    return store.redirectUrl ? (key) => store.redirectUrl!(key) : undefined;
  }

  ping(): Promise<void> {
    return this.store.ping();
  }

  close(): void {
    this.store.close?.();
  }
}

export interface PendingSweepOptions {
  /** Whether any row (package, staged, symbols) points to the key. */
  readonly isReferenced: (blobKey: string) => Promise<boolean>;
  readonly graceMs?: number;
  /** For tests, which cannot wait for an entry to be old enough. */
  readonly now?: number;
}

/**
 * Clears the journal of writes older than the grace time: a file some row points to stays, any other is removed (left
 * by a crash between the file and its row, or by a push that failed and could not remove it). The work is proportional
 * to the writes since the last sweep, never to the size of the store. Safe beside other nodes sweeping: each entry is
 * taken by one of them, and an entry written again meanwhile (the same bytes pushed again) is left for a later sweep.
 */
export async function sweepPendingBlobs(journal: PendingBlobDatabase, blobs: BlobStore, options: PendingSweepOptions): Promise<string[]> {
  const before = new Date((options.now ?? Date.now()) - (options.graceMs ?? PENDING_BLOB_GRACE_MS)).toISOString();
  const removed: string[] = [];
  for (;;) {
    const entries = await journal.olderThan(before, SWEEP_BATCH);
    for (const entry of entries) if (await settle(journal, blobs, entry, options.isReferenced)) removed.push(entry.blobKey);
    if (entries.length < SWEEP_BATCH) return removed;
  }
}

/** Clears one entry; true when its file was an orphan and was removed. */
async function settle(journal: PendingBlobDatabase, blobs: BlobStore, entry: PendingBlob, isReferenced: (key: string) => Promise<boolean>): Promise<boolean> {
  const referenced = await isReferenced(entry.blobKey);
  if (!(await journal.forget(entry)) || referenced) return false;
  // The row may have committed between the check and taking the entry: asked again once the entry is ours.
  if (await isReferenced(entry.blobKey)) return false;
  await blobs.delete(entry.blobKey);
  return true;
}
