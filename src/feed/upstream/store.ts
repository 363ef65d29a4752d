import type { Kysely } from 'kysely';
import type { UpstreamPackagesTable } from '../../db/schema.js';

type UpstreamTables = {
  upstream_packages: UpstreamPackagesTable;
  upstream_ids: { lower_id: string; upstream: string; fetched_at: number | string; found: number; document: string };
  upstream_vulnerabilities: { upstream: string; fetched_at: number | string; source_stamp: string; updated: string; document: string };
};

/** One upstream's vulnerability data as kept: `document` is the merged data file (lower id → advisories). */
export interface StoredVulnerabilities {
  readonly fetchedAt: number;
  readonly sourceStamp: string;
  readonly updated: string;
  readonly document: string;
}

/** What one upstream said about one id, and when (ms since the epoch). */
export interface StoredView {
  readonly fetchedAt: number;
  readonly found: boolean;
  readonly document: string;
}

/** Queries of the upstream tables (upstream-migrations.ts); one statement each, the same on SQLite and PostgreSQL. */
export class UpstreamStore {
  private readonly db: Kysely<UpstreamTables>;

  constructor(
    db: Kysely<never>,
    /** The feed whose mirrored marks `mirrored` reads; what an upstream said (views, advisories) is shared by feeds. */
    private readonly feedId: number,
  ) {
    this.db = db as unknown as Kysely<UpstreamTables>;
  }

  async getView(lowerId: string, upstream: string): Promise<StoredView | null> {
    const row = await this.db
      .selectFrom('upstream_ids')
      .select(['fetched_at', 'found', 'document'])
      .where('lower_id', '=', lowerId)
      .where('upstream', '=', upstream)
      .executeTakeFirst();
    return row ? { fetchedAt: Number(row.fetched_at), found: row.found === 1, document: row.document } : null;
  }

  async putView(lowerId: string, upstream: string, view: StoredView): Promise<void> {
    const values = { fetched_at: view.fetchedAt, found: view.found ? 1 : 0, document: view.document };
    await this.db
      .insertInto('upstream_ids')
      .values({ lower_id: lowerId, upstream, ...values })
      .onConflict((oc) => oc.columns(['lower_id', 'upstream']).doUpdateSet(values))
      .execute();
  }

  async getVulnerabilities(upstream: string): Promise<StoredVulnerabilities | null> {
    const row = await this.db
      .selectFrom('upstream_vulnerabilities')
      .select(['fetched_at', 'source_stamp', 'updated', 'document'])
      .where('upstream', '=', upstream)
      .executeTakeFirst();
    return row ? { fetchedAt: Number(row.fetched_at), sourceStamp: row.source_stamp, updated: row.updated, document: row.document } : null;
  }

  async putVulnerabilities(upstream: string, v: StoredVulnerabilities): Promise<void> {
    const values = { fetched_at: v.fetchedAt, source_stamp: v.sourceStamp, updated: v.updated, document: v.document };
    await this.db
      .insertInto('upstream_vulnerabilities')
      .values({ upstream, ...values })
      .onConflict((oc) => oc.column('upstream').doUpdateSet(values))
      .execute();
  }

  /** The mirrored versions of an id, with the upstream each came from (marks are written with the rows: PackageDatabase). */
  async mirrored(lowerId: string): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('upstream_packages').select(['lower_version', 'upstream'])
      .where('feed_id', '=', this.feedId)
      .where('lower_id', '=', lowerId)
      .execute();
    return new Map(rows.map((r) => [r.lower_version, r.upstream]));
  }
}
