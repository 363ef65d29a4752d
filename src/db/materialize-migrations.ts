import type { Kysely, Migration } from 'kysely';

/**
 * The materialized read path (docs/DEPLOYMENT.md): per id, what was last written to the blob store and who is writing
 * it now; and how far back the change log must be looked at after a restart. Spread into the list in migrations.ts;
 * never edit one that has shipped.
 */
export function materializeMigrations(): Record<string, Migration> {
  return {
    '0016_materialize': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('materialized_ids')
          .addColumn('feed_id', 'integer', (c) => c.notNull())
          .addColumn('lower_id', 'text', (c) => c.notNull())
          // The change-log head when the documents written last were read from the database.
          .addColumn('seq', 'bigint', (c) => c.notNull())
          // JSON: digests of what was written, so the next change writes only what differs.
          .addColumn('manifest', 'text')
          // One writer per id at a time, across nodes: a lease, renewed while writing.
          .addColumn('holder', 'text')
          .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('materialized_ids_pk', ['feed_id', 'lower_id'])
          .execute();
        await db.schema
          .createTable('materialize_progress')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
      },
    },
  };
}
