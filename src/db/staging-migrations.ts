import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.js';

/**
 * Package staging (docs/STAGING.md): groups of staged artifacts, and the staged packages and symbols packages
 * themselves. Staged packages are not rows of `packages`, so nothing that reads packages can see them. Spread into the
 * list in migrations.ts; never edit one that has shipped.
 */
export function stagingMigrations(dialect: SqlDialectName): Record<string, Migration> {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    '0012_staging': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('staging_groups')
          .addColumn('feed_id', 'integer', (c) => c.notNull().references('feeds.feed_id').onDelete('cascade'))
          .addColumn('owner', 'text', (c) => c.notNull())
          /** Group ids are case-insensitive and unique per owner. */
          .addColumn('lower_group_id', 'text', (c) => c.notNull())
          .addColumn('group_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('expires', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('staging_groups_pk', ['feed_id', 'owner', 'lower_group_id'])
          .execute();
        await db.schema
          .createTable('staged_artifacts')
          .addColumn('key', dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('feed_id', 'integer', (c) => c.notNull().references('feeds.feed_id').onDelete('cascade'))
          /** package | symbols */
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('lower_id', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('lower_version', 'text', (c) => c.notNull())
          .addColumn('full_version', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          /** The group (of the same owner), or null when ungrouped. */
          .addColumn('lower_group_id', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('listed', 'integer', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('sha512', 'text', (c) => c.notNull())
          /** The key a push of the same bytes would use: promotion only moves rows. */
          .addColumn('blob_key', 'text', (c) => c.notNull())
          /** PackageMetadata as JSON (packages), `{}` for symbols. */
          .addColumn('metadata', 'text', (c) => c.notNull())
          .addColumn('nuspec', bytes)
          .addColumn('uploaded', 'text', (c) => c.notNull())
          .addColumn('validated', 'text')
          .addColumn('expires', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('staged_artifacts_identity').on('staged_artifacts').columns(['feed_id', 'kind', 'lower_id', 'lower_version']).unique().execute();
        await db.schema.createIndex('staged_artifacts_blob_key').on('staged_artifacts').column('blob_key').execute();
        await db.schema.createIndex('staged_artifacts_group').on('staged_artifacts').columns(['feed_id', 'owner', 'lower_group_id']).execute();
        await db.schema.createIndex('staged_artifacts_expires').on('staged_artifacts').column('expires').execute();
      },
    },
    '0013_staging_expiry_warning': {
      // When the artifact's `staging.expiring` was announced (null: not yet): set once by a conditional update, so with
      // several nodes one announces it. A new expiry (re-staging) clears it.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('staged_artifacts').addColumn('expiry_warned', 'text').execute();
      },
    },
  };
}
