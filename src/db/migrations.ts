import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { sql } from './kysely.js';
import { accessMigrations } from './access-migrations.js';
import { advisoryMigrations } from './advisory-migrations.js';
import { feedMigrations } from './feed-migrations.js';
import { peopleMigrations } from './people-migrations.js';
import { symbolMigrations } from './symbol-migrations.js';
import { upstreamMigrations } from './upstream-migrations.js';
import { webhookMigrations } from './webhook-migrations.js';
import { fenceMigrations } from './fence-migrations.js';
import { trustMigrations } from './trust-migrations.js';
import { stagingMigrations } from './staging-migrations.js';
import { materializeMigrations } from './materialize-migrations.js';
import { signerPolicyMigrations } from './signer-policy-migrations.js';
import { pendingBlobMigrations } from './pending-blob-migrations.js';

export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * Schema migrations, in order; written with Kysely's schema builder so one list serves SQLite and PostgreSQL.
 * Never edit a migration that has shipped: add a new one.
 */
function migrations(dialect: SqlDialectName): Record<string, Migration> {
  const bytes = dialect === 'postgres' ? sql`bytea` : sql`blob`;
  return {
  '0001_packages': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('packages')
        .addColumn('key', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('lower_id', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('lower_version', 'text', (c) => c.notNull())
        .addColumn('full_version', 'text', (c) => c.notNull())
        .addColumn('original_version', 'text', (c) => c.notNull())
        .addColumn('is_prerelease', 'integer', (c) => c.notNull())
        .addColumn('is_semver2', 'integer', (c) => c.notNull())
        .addColumn('listed', 'integer', (c) => c.notNull())
        .addColumn('published', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha512', 'text', (c) => c.notNull())
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('nuspec', bytes, (c) => c.notNull())
        .execute();
      // Decides concurrent pushes of one id+version: the database, not a lock in one process.
      await db.schema
        .createIndex('packages_identity')
        .on('packages')
        .columns(['lower_id', 'lower_version'])
        .unique()
        .execute();
      await db.schema.createIndex('packages_blob_key').on('packages').column('blob_key').execute();
    },
  },
  '0002_changes': {
    // One row per change of an id, in commit order: how a node learns that another node changed something.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('changes')
        .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('lower_id', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0003_download_counts': {
    // Download totals per version, flushed in batches from memory (never a row write per download).
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('download_counts')
        .addColumn('lower_id', 'text', (c) => c.notNull())
        .addColumn('lower_version', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('download_counts_pk', ['lower_id', 'lower_version'])
        .execute();
    },
  },
  // API keys, ownership, prefix reservations, audit log (access-migrations.ts).
  ...accessMigrations(dialect),
  // Symbols packages and their PDBs (symbol-migrations.ts).
  ...symbolMigrations(dialect),
  // Mirrored packages and cached upstream metadata (upstream-migrations.ts).
  ...upstreamMigrations(),
  // Deprecations and vulnerability advisories (advisory-migrations.ts).
  ...advisoryMigrations(),
  // Several feeds: the feeds table and feed_id on every per-feed row (feed-migrations.ts).
  ...feedMigrations(dialect),
  ...peopleMigrations(dialect),
  // Webhooks and their delivery queue (webhook-migrations.ts).
  ...webhookMigrations(dialect),
  // Package staging: groups and staged artifacts (staging-migrations.ts).
  ...stagingMigrations(dialect),
  // Promotion: nodes, read-fence acknowledgements (fence-migrations.ts).
  ...fenceMigrations(),
  // Trusted publishing: policies and used tokens (trust-migrations.ts).
  ...trustMigrations(dialect),
  // The materialized read path: what was written per id (materialize-migrations.ts).
  ...materializeMigrations(),
  // Trusted-signer policies per feed (signer-policy-migrations.ts).
  ...signerPolicyMigrations(dialect),
  // The journal of blob writes in flight, for the incremental orphan sweep (pending-blob-migrations.ts).
  ...pendingBlobMigrations(),
  };
}

export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
