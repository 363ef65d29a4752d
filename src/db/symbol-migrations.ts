import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.js';

/**
 * Migrations of symbols: symbols packages (`.snupkg`) and their PDBs. Spread into the list in migrations.ts; never
 * edit one that has shipped.
 */
export function symbolMigrations(dialect: SqlDialectName): Record<string, Migration> {
  const serial = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
    '0005_symbols': {
      async up(db: Kysely<unknown>) {
        // One symbols package per package version; it goes with its package (hard delete) in the same transaction.
        await db.schema
          .createTable('symbol_packages')
          .addColumn('key', dialect === 'postgres' ? 'serial' : 'integer', serial)
          .addColumn('package_key', 'integer', (c) => c.notNull().unique().references('packages.key').onDelete('cascade'))
          .addColumn('package_sha512', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('sha512', 'text', (c) => c.notNull())
          .addColumn('blob_key', 'text', (c) => c.notNull())
          .addColumn('published', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('symbol_packages_blob_key').on('symbol_packages').column('blob_key').execute();

        // The PDBs, found by their symbol server key (lower case); one build's PDB may come with several versions.
        await db.schema
          .createTable('symbol_files')
          .addColumn('symbol_package_key', 'integer', (c) => c.notNull().references('symbol_packages.key').onDelete('cascade'))
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('ssqp_key', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('blob_key', 'text', (c) => c.notNull())
          /** JSON array of verified checksums, `algorithm:hex`. */
          .addColumn('checksums', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('symbol_files_pk', ['symbol_package_key', 'path'])
          .execute();
        await db.schema.createIndex('symbol_files_ssqp_key').on('symbol_files').column('ssqp_key').execute();
        await db.schema.createIndex('symbol_files_blob_key').on('symbol_files').column('blob_key').execute();
      },
    },
  };
}
