import type { Kysely, Migration } from 'kysely';

/**
 * Migrations of upstream sources (docs/UPSTREAMS.md): which package rows were mirrored from an upstream, and the
 * upstream metadata views cached with their fetch time. Spread into the list in migrations.ts; never edit one that
 * has shipped.
 */
export function upstreamMigrations(): Record<string, Migration> {
  return {
    '0006_upstream': {
      async up(db: Kysely<unknown>) {
        // A package row fetched from an upstream (the row itself is an ordinary `packages` row).
        await db.schema
          .createTable('upstream_packages')
          .addColumn('lower_id', 'text', (c) => c.notNull())
          .addColumn('lower_version', 'text', (c) => c.notNull())
          .addColumn('upstream', 'text', (c) => c.notNull())
          .addColumn('mirrored_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('upstream_packages_pk', ['lower_id', 'lower_version'])
          .execute();
        // What one upstream said about one id, and when: served fresh within the freshness window, stale beyond it
        // while the upstream is unreachable.
        await db.schema
          .createTable('upstream_ids')
          .addColumn('lower_id', 'text', (c) => c.notNull())
          .addColumn('upstream', 'text', (c) => c.notNull())
          .addColumn('fetched_at', 'bigint', (c) => c.notNull())
          .addColumn('found', 'integer', (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('upstream_ids_pk', ['lower_id', 'upstream'])
          .execute();
      },
    },
    '0008_upstream_vulnerabilities': {
      async up(db: Kysely<unknown>) {
        // One upstream's VulnerabilityInfo, checked and merged into one file: served stale while it is unreachable.
        await db.schema
          .createTable('upstream_vulnerabilities')
          .addColumn('upstream', 'text', (c) => c.primaryKey())
          .addColumn('fetched_at', 'bigint', (c) => c.notNull())
          /** The upstream's own file stamps, to skip downloading what has not changed. */
          .addColumn('source_stamp', 'text', (c) => c.notNull())
          /** When `document` last changed: the `@updated` of the file served here. */
          .addColumn('updated', 'text', (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .execute();
      },
    },
  };
}
