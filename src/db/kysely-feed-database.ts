import type { Kysely } from 'kysely';
import { FEEDS_CHANGE_MARKER, type FeedDatabase, type FeedRecord, type FeedUsage, type NewFeed } from './feed-database.js';
import { sql } from './kysely.js';
import type { SqlDialectName } from './migrations.js';
import type { Tables } from './schema.js';

/** Rows of these tables belong to one feed and go with it. */
const FEED_TABLES = ['download_counts', 'package_registrations', 'package_owners', 'prefix_reservations', 'upstream_packages', 'vulnerabilities'] as const;

function toFeed(r: { feed_id: number; name: string; description: string; settings: string; members: string | null; created: string }): FeedRecord {
  return {
    id: Number(r.feed_id),
    name: r.name,
    description: r.description,
    settings: JSON.parse(r.settings) as Record<string, unknown>,
    members: r.members === null ? null : (JSON.parse(r.members) as number[]),
    created: r.created,
  };
}

/** A feed's row without its id. */
function feedRow(feed: NewFeed) {
  return {
    name: feed.name,
    lower_name: feed.name.toLowerCase(),
    description: feed.description,
    settings: JSON.stringify(feed.settings),
    members: feed.members === null ? null : JSON.stringify(feed.members),
    created: feed.created,
  };
}

/** FeedDatabase over the same Kysely instance (and dialects) as the packages. */
export class KyselyFeedDatabase implements FeedDatabase {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly dialect: SqlDialectName,
  ) {}

  async listFeeds(): Promise<FeedRecord[]> {
    const rows = await this.db.selectFrom('feeds').selectAll().orderBy('feed_id').execute();
    return rows.map(toFeed);
  }

  async usage(): Promise<Map<number, FeedUsage>> {
    const rows = await this.db
      .selectFrom('packages')
      .select((eb) => ['feed_id', eb.fn.countAll().as('packages'), eb.fn.sum('size').as('bytes')])
      .groupBy('feed_id')
      .execute();
    // PostgreSQL answers count and sum as bigint text.
    return new Map(rows.map((r) => [Number(r.feed_id), { packages: Number(r.packages), bytes: Number(r.bytes ?? 0) }]));
  }

  async createFeed(feed: NewFeed): Promise<FeedRecord | null> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('feeds')
        .values(feedRow(feed))
        .onConflict((oc) => oc.column('lower_name').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) return null;
      await tx.insertInto('changes').values({ feed_id: row.feed_id, lower_id: FEEDS_CHANGE_MARKER }).execute();
      return toFeed(row);
    });
  }

  async insertFeed(feed: FeedRecord): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const taken = await tx
        .selectFrom('feeds')
        .select('feed_id')
        .where((eb) => eb.or([eb('feed_id', '=', feed.id), eb('lower_name', '=', feed.name.toLowerCase())]))
        .executeTakeFirst();
      if (taken) return false;
      await tx
        .insertInto('feeds')
        .values({ feed_id: feed.id, ...feedRow(feed) })
        .execute();
      // PostgreSQL's serial does not move past an id given explicitly (SQLite's AUTOINCREMENT does).
      if (this.dialect === 'postgres') {
        await sql`SELECT setval(pg_get_serial_sequence('feeds', 'feed_id'), (SELECT max(feed_id) FROM feeds))`.execute(tx);
      }
      await tx.insertInto('changes').values({ feed_id: feed.id, lower_id: FEEDS_CHANGE_MARKER }).execute();
      return true;
    });
  }

  async updateFeed(feed: FeedRecord): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('feeds')
        .set({
          description: feed.description,
          settings: JSON.stringify(feed.settings),
          members: feed.members === null ? null : JSON.stringify(feed.members),
        })
        .where('feed_id', '=', feed.id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await tx.insertInto('changes').values({ feed_id: feed.id, lower_id: FEEDS_CHANGE_MARKER }).execute();
      return true;
    });
  }

  async deleteFeed(id: number): Promise<string[] | null> {
    return this.db.transaction().execute(async (tx) => {
      const db = tx.withTables<Record<(typeof FEED_TABLES)[number] | 'audit_log', { feed_id: number }>>();
      const packages = await tx.selectFrom('packages').select('key').where('feed_id', '=', id).execute();
      const keys = packages.map((p) => p.key);
      const blobKeys: string[] = [];
      const symbolDb = tx.withTables<{
        symbol_packages: { key: number; package_key: number; blob_key: string };
        symbol_files: { symbol_package_key: number; blob_key: string };
      }>();
      for (let i = 0; i < keys.length; i += 500) {
        const slice = keys.slice(i, i + 500);
        const symbols = await symbolDb.selectFrom('symbol_packages').select(['key', 'blob_key']).where('package_key', 'in', slice).execute();
        blobKeys.push(...symbols.map((s) => s.blob_key));
        if (symbols.length) {
          const files = await symbolDb.selectFrom('symbol_files').select('blob_key').where('symbol_package_key', 'in', symbols.map((s) => s.key)).execute();
          blobKeys.push(...files.map((f) => f.blob_key));
        }
      }
      const rows = await tx.selectFrom('packages').select('blob_key').where('feed_id', '=', id).execute();
      blobKeys.push(...rows.map((r) => r.blob_key).filter((k) => k !== ''));
      // Staged artifacts and groups go with the feed (ON DELETE CASCADE); their files too.
      const staged = await tx.withTables<{ staged_artifacts: { feed_id: number; blob_key: string } }>().selectFrom('staged_artifacts').select('blob_key').where('feed_id', '=', id).execute();
      blobKeys.push(...staged.map((r) => r.blob_key));
      // Symbols and deprecations go with their packages (ON DELETE CASCADE).
      await tx.deleteFrom('packages').where('feed_id', '=', id).execute();
      for (const table of FEED_TABLES) await db.deleteFrom(table).where('feed_id', '=', id).execute();
      const result = await tx.deleteFrom('feeds').where('feed_id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) !== 1) return null;
      await tx.insertInto('changes').values({ feed_id: id, lower_id: FEEDS_CHANGE_MARKER }).execute();
      return blobKeys;
    });
  }
}
