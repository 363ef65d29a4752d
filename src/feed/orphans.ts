import type { BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase } from '../db/database.js';
import { MATERIALIZED_ROOTS } from '../materialize/layout.js';

/** Materialized restore documents are rewritten from the rows, never pointed to by one. */
export function isMaterializedKey(key: string): boolean {
  return MATERIALIZED_ROOTS.some((root) => key.startsWith(root));
}

/**
 * Removes package files no row points to, by listing the whole store (`pawket gc`): files left by a crash before the
 * journal of writes existed (feed/pending-blobs.ts), or by a deleted feed. Only files older than `minAge` go, so a push
 * in flight on another node keeps its file; materialized documents are left alone.
 */
export async function sweepOrphanBlobs(
  db: Pick<PackageDatabase, 'isBlobReferenced'>,
  blobs: BlobStore,
  minAgeMs: number,
  now = Date.now(),
  dryRun = false,
): Promise<string[]> {
  const removed: string[] = [];
  for await (const blob of blobs.list()) {
    if (isMaterializedKey(blob.key)) continue;
    if (now - blob.modified.getTime() < minAgeMs) continue;
    if (await db.isBlobReferenced(blob.key)) continue;
    if (!dryRun) await blobs.delete(blob.key);
    removed.push(blob.key);
  }
  return removed;
}
