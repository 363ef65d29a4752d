import type { BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase } from '../db/database.js';
import { MATERIALIZED_ROOTS } from '../materialize/layout.js';

/**
 * Removes package files no row points to: left by a crash between writing a file and committing its row.
 * Only files older than `minAge` go, so a push in flight on another node keeps its file.
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
    // Materialized documents are rewritten from the rows, never referenced by them.
    if (MATERIALIZED_ROOTS.some((root) => blob.key.startsWith(root))) continue;
    if (now - blob.modified.getTime() < minAgeMs) continue;
    if (await db.isBlobReferenced(blob.key)) continue;
    if (!dryRun) await blobs.delete(blob.key);
    removed.push(blob.key);
  }
  return removed;
}
