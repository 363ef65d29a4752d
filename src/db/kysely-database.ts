import type { ExpressionBuilder, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import { Migrator, sql } from './kysely.js';
import type { Change, DownloadCount, FeedUsage, NewPackage, PackageDatabase, PackageRecord, PromotedPackage, PromotionOutcome } from './database.js';
import { DEFAULT_FEED_ID } from './feed-migrations.js';
import { promotePackages } from './kysely-promotion.js';
import { isStagedBlobReferenced, KyselyStagingDatabase } from './kysely-staging-database.js';
import { migrationProvider, type SqlDialectName } from './migrations.js';
import type { PackagesTable, Tables } from './schema.js';

const recordColumns = [
  'id',
  'lower_id',
  'version',
  'lower_version',
  'full_version',
  'original_version',
  'is_prerelease',
  'is_semver2',
  'listed',
  'published',
  'size',
  'sha512',
  'blob_key',
  'metadata',
] as const;

type RecordRow = Pick<Selectable<PackagesTable>, (typeof recordColumns)[number]> & { mirrored_from: string | null };

/** The row's mirrored mark, selected beside the record columns (one primary-key lookup). */
const mirroredFrom = (eb: ExpressionBuilder<Tables, 'packages'>) =>
  eb
    .selectFrom('upstream_packages')
    .select('upstream_packages.upstream')
    .whereRef('upstream_packages.feed_id', '=', 'packages.feed_id')
    .whereRef('upstream_packages.lower_id', '=', 'packages.lower_id')
    .whereRef('upstream_packages.lower_version', '=', 'packages.lower_version')
    .as('mirrored_from');

function toRecord(r: RecordRow): PackageRecord {
  return {
    id: r.id,
    lowerId: r.lower_id,
    version: r.version,
    lowerVersion: r.lower_version,
    fullVersion: r.full_version,
    originalVersion: r.original_version,
    isPrerelease: r.is_prerelease === 1,
    isSemVer2: r.is_semver2 === 1,
    listed: r.listed === 1,
    published: r.published,
    size: Number(r.size),
    sha512: r.sha512,
    blobKey: r.blob_key,
    metadata: r.metadata,
    ...(r.mirrored_from ? { mirroredFrom: r.mirrored_from } : {}),
  };
}

function toRow(p: NewPackage, feedId: number): Insertable<PackagesTable> & { feed_id: number } {
  return {
    feed_id: feedId,
    id: p.id,
    lower_id: p.lowerId,
    version: p.version,
    lower_version: p.lowerVersion,
    full_version: p.fullVersion,
    original_version: p.originalVersion,
    is_prerelease: p.isPrerelease ? 1 : 0,
    is_semver2: p.isSemVer2 ? 1 : 0,
    listed: p.listed ? 1 : 0,
    published: p.published,
    size: p.size,
    sha512: p.sha512,
    blob_key: p.blobKey,
    metadata: p.metadata,
    nuspec: p.nuspec,
  };
}

async function recordChange(tx: Transaction<Tables>, feedId: number, lowerId: string): Promise<void> {
  await tx.insertInto('changes').values({ feed_id: feedId, lower_id: lowerId }).execute();
}

/**
 * Writes the mirrored mark of a row being written, in its transaction; a row without one clears any mark left for the
 * identity (a pushed version is never shown as mirrored).
 */
async function writeMirrorMark(tx: Transaction<Tables>, feedId: number, pkg: NewPackage): Promise<void> {
  if (pkg.mirroredFrom === undefined) {
    await tx.deleteFrom('upstream_packages').where('feed_id', '=', feedId).where('lower_id', '=', pkg.lowerId).where('lower_version', '=', pkg.lowerVersion).execute();
    return;
  }
  const mark = { upstream: pkg.mirroredFrom, mirrored_at: new Date().toISOString() };
  await tx
    .insertInto('upstream_packages')
    .values({ feed_id: feedId, lower_id: pkg.lowerId, lower_version: pkg.lowerVersion, ...mark })
    .onConflict((oc) => oc.columns(['feed_id', 'lower_id', 'lower_version']).doUpdateSet(mark))
    .execute();
}

/**
 * PackageDatabase over Kysely: the same queries for every SQL dialect Pawket supports. One instance sees one feed's
 * rows ({@link forFeed}); the change log and blob references are the server's, across feeds.
 */
export class KyselyPackageDatabase implements PackageDatabase {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly dialect: SqlDialectName,
    /** The feed whose rows this instance reads and writes. */
    readonly feedId: number = DEFAULT_FEED_ID,
    /** Views made by forFeed share the connection: only the opener's instance closes it. */
    private readonly ownsConnection = true,
  ) {}

  /** The same database seen as another feed's; shares the connection (close the one the opener returned). */
  forFeed(feedId: number): KyselyPackageDatabase {
    return new KyselyPackageDatabase(this.db, this.dialect, feedId, false);
  }

  get sqlDialect(): SqlDialectName {
    return this.dialect;
  }

  /** The Kysely instance, for stores of other concerns that share this database (e.g. access control). */
  get kysely(): Kysely<Tables> {
    return this.db;
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider(this.dialect) });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) {
      throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String((error as Error)?.message ?? error)}`);
    }
  }

  async insertPackage(pkg: NewPackage): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .insertInto('packages')
        .values(toRow(pkg, this.feedId))
        .onConflict((oc) => oc.columns(['feed_id', 'lower_id', 'lower_version']).doNothing())
        .executeTakeFirst();
      const inserted = Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
      if (inserted) {
        await writeMirrorMark(tx, this.feedId, pkg);
        await recordChange(tx, this.feedId, pkg.lowerId);
      }
      return inserted;
    });
  }

  async replacePackage(pkg: NewPackage): Promise<string | null> {
    return this.db.transaction().execute(async (tx) => {
      const previous = await tx
        .selectFrom('packages')
        .select('blob_key')
        .where('feed_id', '=', this.feedId)
        .where('lower_id', '=', pkg.lowerId)
        .where('lower_version', '=', pkg.lowerVersion)
        .executeTakeFirst();
      const { feed_id, lower_id, lower_version, ...rest } = toRow(pkg, this.feedId);
      await tx
        .insertInto('packages')
        .values({ feed_id, lower_id, lower_version, ...rest })
        .onConflict((oc) => oc.columns(['feed_id', 'lower_id', 'lower_version']).doUpdateSet(rest))
        .execute();
      await writeMirrorMark(tx, this.feedId, pkg);
      await recordChange(tx, this.feedId, pkg.lowerId);
      return previous?.blob_key ?? null;
    });
  }

  async replacePackageFile(
    lowerId: string,
    lowerVersion: string,
    expectedBlobKey: string,
    file: { readonly size: number; readonly sha512: string; readonly blobKey: string; readonly metadata: string },
  ): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('packages')
        .set({ size: file.size, sha512: file.sha512, blob_key: file.blobKey, metadata: file.metadata })
        .where('feed_id', '=', this.feedId)
        .where('lower_id', '=', lowerId)
        .where('lower_version', '=', lowerVersion)
        .where('blob_key', '=', expectedBlobKey)
        .executeTakeFirst();
      const updated = Number(result.numUpdatedRows ?? 0) === 1;
      if (updated) await recordChange(tx, this.feedId, lowerId);
      return updated;
    });
  }

  async getPackage(lowerId: string, lowerVersion: string): Promise<PackageRecord | null> {
    const row = await this.db
      .selectFrom('packages')
      .select(recordColumns)
      .select(mirroredFrom)
      .where('feed_id', '=', this.feedId)
      .where('lower_id', '=', lowerId)
      .where('lower_version', '=', lowerVersion)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async getNuspec(lowerId: string, lowerVersion: string): Promise<Buffer | null> {
    const row = await this.db
      .selectFrom('packages')
      .select('nuspec')
      .where('feed_id', '=', this.feedId)
      .where('lower_id', '=', lowerId)
      .where('lower_version', '=', lowerVersion)
      .executeTakeFirst();
    return row ? Buffer.from(row.nuspec) : null;
  }

  async scanPackages(after: number, limit: number): Promise<{ records: NewPackage[]; cursor: number }> {
    const rows = await this.db
      .selectFrom('packages')
      .select([...recordColumns, 'key', 'nuspec'])
      .select(mirroredFrom)
      .where('feed_id', '=', this.feedId)
      .where('key', '>', after)
      .orderBy('key')
      .limit(limit)
      .execute();
    return {
      records: rows.map((r) => ({ ...toRecord(r), nuspec: Buffer.from(r.nuspec) })),
      cursor: rows.length ? Number(rows.at(-1)!.key) : after,
    };
  }

  async countPackages(): Promise<number> {
    const row = await this.db
      .selectFrom('packages')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('feed_id', '=', this.feedId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async countRepositorySigned(fingerprints: readonly string[]): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const fingerprint of fingerprints) {
      if (!/^[0-9A-F]{64}$/.test(fingerprint)) throw new Error(`not a SHA-256 fingerprint: ${fingerprint}`);
      const row = await this.db
        .selectFrom('packages')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('feed_id', '=', this.feedId)
        .where('metadata', 'like', `%"repository":{"sha256":"${fingerprint}"%`)
        .executeTakeFirst();
      counts[fingerprint] = Number(row?.n ?? 0);
    }
    return counts;
  }

  async usage(): Promise<FeedUsage> {
    const row = await this.db
      .selectFrom('packages')
      .select((eb) => [eb.fn.countAll().as('packages'), eb.fn.sum('size').as('bytes')])
      .where('feed_id', '=', this.feedId)
      .executeTakeFirst();
    // Staged packages are kept on disk too: the quota counts them (symbols count for neither).
    const staged = await new KyselyStagingDatabase(this.db, this.feedId).usage();
    // PostgreSQL answers bigint and numeric as strings; SUM of no rows is NULL.
    return { packages: Number(row?.packages ?? 0) + staged.packages, bytes: Number(row?.bytes ?? 0) + staged.bytes };
  }

  promotePackages(fromFeedId: number, packages: readonly PromotedPackage[]): Promise<PromotionOutcome> {
    return promotePackages(this.db, fromFeedId, this.feedId, packages);
  }

  async listVersions(lowerId: string): Promise<PackageRecord[]> {
    const rows = await this.db.selectFrom('packages').select(recordColumns).select(mirroredFrom).where('feed_id', '=', this.feedId).where('lower_id', '=', lowerId).execute();
    return rows.map(toRecord);
  }

  async setListed(lowerId: string, lowerVersion: string, listed: boolean): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('packages')
        .set({ listed: listed ? 1 : 0 })
        .where('feed_id', '=', this.feedId)
        .where('lower_id', '=', lowerId)
        .where('lower_version', '=', lowerVersion)
        .executeTakeFirst();
      const found = Number(result.numUpdatedRows) === 1;
      if (found) await recordChange(tx, this.feedId, lowerId);
      return found;
    });
  }

  async deletePackage(lowerId: string, lowerVersion: string): Promise<string | null> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .deleteFrom('packages')
        .where('feed_id', '=', this.feedId)
        .where('lower_id', '=', lowerId)
        .where('lower_version', '=', lowerVersion)
        .returning('blob_key')
        .executeTakeFirst();
      if (row) {
        await tx
          .deleteFrom('upstream_packages')
          .where('feed_id', '=', this.feedId)
          .where('lower_id', '=', lowerId)
          .where('lower_version', '=', lowerVersion)
          .execute();
        await recordChange(tx, this.feedId, lowerId);
      }
      return row?.blob_key ?? null;
    });
  }

  async latestChange(): Promise<number> {
    const row = await this.db.selectFrom('changes').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  async changesSince(seq: number, limit: number): Promise<Change[]> {
    const rows = await this.db
      .selectFrom('changes')
      .select(['seq', 'feed_id', 'lower_id'])
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ seq: Number(r.seq), feedId: Number(r.feed_id), lowerId: r.lower_id }));
  }

  async pruneChanges(seq: number): Promise<void> {
    await this.db.deleteFrom('changes').where('seq', '<=', seq).execute();
  }

  async scanByIdentity(after: { lowerId: string; lowerVersion: string } | null, limit: number): Promise<PackageRecord[]> {
    let query = this.db.selectFrom('packages').select(recordColumns).select(mirroredFrom).where('feed_id', '=', this.feedId);
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('lower_id', '>', after.lowerId),
          eb.and([eb('lower_id', '=', after.lowerId), eb('lower_version', '>', after.lowerVersion)]),
        ]),
      );
    }
    const rows = await query.orderBy('lower_id').orderBy('lower_version').limit(limit).execute();
    return rows.map(toRecord);
  }

  async addDownloadCounts(counts: readonly DownloadCount[]): Promise<void> {
    await this.upsertDownloadCounts(counts, 'add');
  }

  async setDownloadCounts(counts: readonly DownloadCount[]): Promise<void> {
    await this.upsertDownloadCounts(counts, 'set');
  }

  private async upsertDownloadCounts(counts: readonly DownloadCount[], mode: 'add' | 'set'): Promise<void> {
    // One row per version per statement (PostgreSQL refuses to update a row twice in one upsert).
    const merged = new Map<string, [string, string, number]>();
    for (const c of counts) {
      const key = `${c.lowerId}\u0000${c.lowerVersion}`;
      const seen = merged.get(key);
      if (seen) seen[2] = mode === 'add' ? seen[2] + c.count : c.count;
      else merged.set(key, [c.lowerId, c.lowerVersion, c.count]);
    }
    if (merged.size === 0) return;
    // The rows travel as one JSON parameter: the statement text is the same whatever the batch size, so a flush of
    // tens of thousands of versions is one cheap statement instead of thousands of compiled and prepared ones.
    const rows = JSON.stringify([...merged.values()]);
    const source =
      this.dialect === 'postgres'
        ? sql`SELECT ${this.feedId}::integer, r->>0, r->>1, (r->>2)::bigint FROM jsonb_array_elements(${rows}::jsonb) AS r`
        : sql`SELECT ${this.feedId}, r.value->>0, r.value->>1, r.value->>2 FROM json_each(${rows}) AS r WHERE true`;
    // (`WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint of the SELECT.)
    const update = mode === 'add' ? sql`download_counts.count + excluded.count` : sql`excluded.count`;
    await sql`INSERT INTO download_counts (feed_id, lower_id, lower_version, count) ${source}
      ON CONFLICT (feed_id, lower_id, lower_version) DO UPDATE SET count = ${update}`.execute(this.db);
  }

  async listDownloadCounts(lowerId?: string): Promise<DownloadCount[]> {
    let query = this.db.selectFrom('download_counts').select(['lower_id', 'lower_version', 'count']).where('feed_id', '=', this.feedId);
    if (lowerId !== undefined) query = query.where('lower_id', '=', lowerId);
    const rows = await query.execute();
    return rows.map((r) => ({ lowerId: r.lower_id, lowerVersion: r.lower_version, count: Number(r.count) }));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async isBlobReferenced(blobKey: string): Promise<boolean> {
    const row = await this.db.selectFrom('packages').select('key').where('blob_key', '=', blobKey).executeTakeFirst();
    // Staged packages keep their files at the key a push would use: those are referenced too.
    return row !== undefined || (await isStagedBlobReferenced(this.db, blobKey));
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.db.destroy();
  }
}
