import type { Kysely, Migration } from 'kysely';

/**
 * Promotion of staged packages (docs/STAGING.md, Atomic promotion): the nodes that serve the database and their
 * acknowledgements of read fences, and the version text a staged package was uploaded with. Spread into the list in
 * migrations.ts; never edit one that has shipped.
 */
export function fenceMigrations(): Record<string, Migration> {
  return {
    '0014_promotion': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('nodes')
          .addColumn('node_id', 'text', (c) => c.primaryKey())
          /** ISO time of the node's last heartbeat: a node not seen for a while is gone. */
          .addColumn('seen_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('fence_acks')
          .addColumn('fence', 'text', (c) => c.notNull())
          .addColumn('node_id', 'text', (c) => c.notNull())
          .addColumn('acked_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('fence_acks_pk', ['fence', 'node_id'])
          .execute();
        await db.schema.createIndex('fence_acks_acked_at').on('fence_acks').column('acked_at').execute();
        // The version as the nuspec writes it (a published row keeps it); null for rows staged before this migration.
        await db.schema.alterTable('staged_artifacts').addColumn('original_version', 'text').execute();
      },
    },
  };
}
