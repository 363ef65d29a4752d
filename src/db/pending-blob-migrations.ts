import type { Kysely, Migration } from 'kysely';

/**
 * The journal of blob writes not yet known to be referenced (feed/pending-blobs.ts): a row is written before a package,
 * symbols or staged file is stored, so a crash between the file and its row leaves a row that says where to look,
 * instead of a file only a listing of the whole store would find. Spread into the list in migrations.ts; never edit one
 * that has shipped.
 */
export function pendingBlobMigrations(): Record<string, Migration> {
  return {
    '0018_pending_blobs': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('pending_blobs')
          .addColumn('blob_key', 'text', (c) => c.primaryKey())
          /** ISO time the write began (the writing node's clock); the sweep looks only at rows older than its grace time. */
          .addColumn('written_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('pending_blobs_written_at').on('pending_blobs').column('written_at').execute();
      },
    },
  };
}
