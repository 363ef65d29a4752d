import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.js';

/**
 * Trusted-signer policies (docs/SIGNING.md): per feed, which ids (pattern and/or owner) must be signed, and by which
 * author certificates. Spread into the list in migrations.ts; never edit one that has shipped.
 */
export function signerPolicyMigrations(dialect: SqlDialectName): Record<string, Migration> {
  return {
    '0017_signer_policies': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('signer_policies')
          .addColumn('policy_id', dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          // A deleted feed takes its policies with it.
          .addColumn('feed_id', 'integer', (c) => c.notNull().references('feeds.feed_id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          /** The name lower case: names are unique per feed whatever their case. */
          .addColumn('lower_name', 'text', (c) => c.notNull())
          /** An id pattern; null: every id of the owner. */
          .addColumn('pattern', 'text')
          /** A user or organisation name; null: whoever owns ids matching the pattern. */
          .addColumn('owner', 'text')
          /** accept | verify | require. */
          .addColumn('mode', 'text', (c) => c.notNull())
          /** JSON array of SHA-256 fingerprints, upper-case hex. */
          .addColumn('fingerprints', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('signer_policies_name').on('signer_policies').columns(['feed_id', 'lower_name']).unique().execute();
      },
    },
  };
}
