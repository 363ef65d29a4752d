import type { Kysely, Migration } from 'kysely';
import { sql } from './kysely.js';
import type { SqlDialectName } from './migrations.js';

/** The default feed: every row written before feeds existed belongs to it, and its URLs are the unprefixed ones. */
export const DEFAULT_FEED_ID = 1;
export const DEFAULT_FEED_NAME = 'default';

/**
 * A table whose primary key gains `feed_id`: neither SQLite nor a portable statement can change a primary key in
 * place, so the table is renamed, made again and its rows copied into the default feed.
 */
interface Rekeyed {
  readonly table: string;
  /** Column definitions of the new table, without feed_id; the copied columns are these names. */
  readonly columns: ReadonlyArray<readonly [name: string, type: string]>;
  readonly primaryKey: readonly string[];
  readonly indexes?: ReadonlyArray<readonly [name: string, column: string]>;
}

const rekeyed: readonly Rekeyed[] = [
  { table: 'download_counts', columns: [['lower_id', 'text'], ['lower_version', 'text'], ['count', 'bigint']], primaryKey: ['lower_id', 'lower_version'] },
  { table: 'package_registrations', columns: [['lower_id', 'text'], ['created', 'text']], primaryKey: ['lower_id'] },
  {
    table: 'package_owners',
    columns: [['lower_id', 'text'], ['owner', 'text']],
    primaryKey: ['lower_id', 'owner'],
    indexes: [['package_owners_owner', 'owner']],
  },
  { table: 'prefix_reservations', columns: [['pattern', 'text'], ['owner', 'text'], ['created', 'text']], primaryKey: ['pattern'] },
  {
    table: 'upstream_packages',
    columns: [['lower_id', 'text'], ['lower_version', 'text'], ['upstream', 'text'], ['mirrored_at', 'text']],
    primaryKey: ['lower_id', 'lower_version'],
  },
  {
    table: 'vulnerabilities',
    columns: [['lower_id', 'text'], ['url', 'text'], ['severity', 'integer'], ['versions', 'text'], ['updated_at', 'text'], ['withdrawn', 'integer']],
    primaryKey: ['lower_id', 'url'],
  },
];

/**
 * Several feeds on one server (docs/FEEDS.md): the `feeds` table with the default feed as row 1, and `feed_id` on
 * every per-feed row, 1 for every row that exists. Spread into the list in migrations.ts; never edit one that has
 * shipped.
 */
export function feedMigrations(dialect: SqlDialectName): Record<string, Migration> {
  return {
    '0009_feeds': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('feeds')
          .addColumn('feed_id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('lower_name', 'text', (c) => c.notNull().unique())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          /** JSON object of settings that differ from the configuration's. */
          .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
          /** JSON array of member feed ids, in order, for a virtual feed; NULL for a feed that holds packages. */
          .addColumn('members', 'text')
          .addColumn('created', 'text', (c) => c.notNull())
          .execute();
        const now = new Date().toISOString();
        await sql`INSERT INTO feeds (feed_id, name, lower_name, created) VALUES (${DEFAULT_FEED_ID}, ${DEFAULT_FEED_NAME}, ${DEFAULT_FEED_NAME}, ${now})`.execute(db);
        if (dialect === 'postgres') await sql`SELECT setval(pg_get_serial_sequence('feeds', 'feed_id'), ${DEFAULT_FEED_ID})`.execute(db);

        // Columns added with a default: the existing rows are the default feed's, unchanged.
        for (const table of ['packages', 'changes', 'audit_log']) {
          await db.schema.alterTable(table).addColumn('feed_id', 'integer', (c) => c.notNull().defaultTo(DEFAULT_FEED_ID)).execute();
        }
        // One id+version per feed: the index that decides concurrent pushes now includes the feed.
        await db.schema.dropIndex('packages_identity').execute();
        await db.schema.createIndex('packages_feed_identity').on('packages').columns(['feed_id', 'lower_id', 'lower_version']).unique().execute();
        await db.schema.createIndex('audit_log_feed').on('audit_log').columns(['feed_id', 'seq']).execute();
        // NULL: valid on every feed (keys made before feeds existed, and `--feeds '*'`).
        await db.schema.alterTable('api_keys').addColumn('feeds', 'text').execute();

        for (const t of rekeyed) {
          await sql`ALTER TABLE ${sql.table(t.table)} RENAME TO ${sql.table(`${t.table}_before_feeds`)}`.execute(db);
          let create = db.schema.createTable(t.table).addColumn('feed_id', 'integer', (c) => c.notNull().defaultTo(DEFAULT_FEED_ID));
          for (const [name, type] of t.columns) {
            create = create.addColumn(name, sql.raw(type), (c) => (name === 'withdrawn' ? c.notNull().defaultTo(0) : c.notNull()));
          }
          await create.addPrimaryKeyConstraint(`${t.table}_feed_pk`, ['feed_id', ...t.primaryKey] as never).execute();
          const names = t.columns.map(([name]) => sql.ref(name));
          await sql`INSERT INTO ${sql.table(t.table)} (feed_id, ${sql.join(names)})
            SELECT ${DEFAULT_FEED_ID}, ${sql.join(names)} FROM ${sql.table(`${t.table}_before_feeds`)}`.execute(db);
          await db.schema.dropTable(`${t.table}_before_feeds`).execute();
          for (const [name, column] of t.indexes ?? []) {
            await db.schema.createIndex(name).on(t.table).columns(['feed_id', column]).execute();
          }
        }
      },
    },
  };
}
