import type { Kysely, Migration } from 'kysely';

/**
 * Migrations of deprecations and vulnerability advisories. Spread into the list in migrations.ts; never edit one
 * that has shipped.
 */
export function advisoryMigrations(): Record<string, Migration> {
  return {
    '0007_advisories': {
      async up(db: Kysely<unknown>) {
        // One deprecation per package version; it goes with its version (hard delete) and survives an overwrite.
        await db.schema
          .createTable('deprecations')
          .addColumn('package_key', 'integer', (c) => c.primaryKey().references('packages.key').onDelete('cascade'))
          /** Comma-separated DeprecationReasons. */
          .addColumn('reasons', 'text', (c) => c.notNull())
          .addColumn('message', 'text')
          .addColumn('alternate_id', 'text')
          .addColumn('alternate_range', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        // Advisories concern an id and a range, whether or not those versions are here (upstream packages too).
        // Withdrawn ones stay, so that the VulnerabilityInfo `@updated` moves and clients drop them.
        await db.schema
          .createTable('vulnerabilities')
          .addColumn('lower_id', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('severity', 'integer', (c) => c.notNull())
          .addColumn('versions', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('withdrawn', 'integer', (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('vulnerabilities_pk', ['lower_id', 'url'])
          .execute();
      },
    },
  };
}
