import type { Generated, Kysely } from 'kysely';
import type { AdvisoryDatabase, VulnerabilityRecord } from './advisory-database.js';
import { DEFAULT_FEED_ID } from './feed-migrations.js';
import type { Tables } from './schema.js';
import type { Deprecation, DeprecationReason, Severity, Vulnerability } from '../nuget/advisory.js';

/** Table shapes of advisory-migrations.ts. */
export type AdvisoryTables = {
  deprecations: {
    package_key: number;
    reasons: string;
    message: string | null;
    alternate_id: string | null;
    alternate_range: string | null;
    updated_at: string;
  };
  vulnerabilities: {
    feed_id: Generated<number>;
    lower_id: string;
    url: string;
    severity: number;
    versions: string;
    updated_at: string;
    withdrawn: number;
  };
};

type Db = Tables & AdvisoryTables;

/** AdvisoryDatabase over the same Kysely instance (and dialects) as the packages. */
export class KyselyAdvisoryDatabase implements AdvisoryDatabase {
  private readonly db: Kysely<Db>;

  constructor(
    db: Kysely<Tables>,
    /** The feed whose deprecations (through its packages' rows) and advisories this instance sees. */
    private readonly feedId: number = DEFAULT_FEED_ID,
  ) {
    this.db = db.withTables<AdvisoryTables>();
  }

  async setDeprecation(lowerId: string, lowerVersions: readonly string[], deprecation: Deprecation | null): Promise<number> {
    if (lowerVersions.length === 0) return 0;
    return this.db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('packages')
        .select('key')
        .where('feed_id', '=', this.feedId)
        .where('lower_id', '=', lowerId)
        .where('lower_version', 'in', [...lowerVersions])
        .execute();
      const keys = rows.map((r) => r.key);
      if (keys.length === 0) return 0;
      if (deprecation === null) {
        await tx.deleteFrom('deprecations').where('package_key', 'in', keys).execute();
      } else {
        const values = {
          reasons: deprecation.reasons.join(','),
          message: deprecation.message,
          alternate_id: deprecation.alternate?.id ?? null,
          alternate_range: deprecation.alternate?.range ?? null,
          updated_at: new Date().toISOString(),
        };
        await tx
          .insertInto('deprecations')
          .values(keys.map((package_key) => ({ package_key, ...values })))
          .onConflict((oc) => oc.column('package_key').doUpdateSet(values))
          .execute();
      }
      await tx.insertInto('changes').values({ feed_id: this.feedId, lower_id: lowerId }).execute();
      return keys.length;
    });
  }

  async deprecations(lowerId: string): Promise<Map<string, Deprecation>> {
    const rows = await this.deprecationRows(lowerId);
    return new Map(rows.map((r) => [r.lowerVersion, r.deprecation]));
  }

  allDeprecations() {
    return this.deprecationRows(undefined);
  }

  private async deprecationRows(lowerId: string | undefined) {
    let query = this.db
      .selectFrom('deprecations')
      .innerJoin('packages', 'packages.key', 'deprecations.package_key')
      .select(['packages.lower_id', 'packages.lower_version', 'reasons', 'message', 'alternate_id', 'alternate_range'])
      .where('packages.feed_id', '=', this.feedId);
    if (lowerId !== undefined) query = query.where('packages.lower_id', '=', lowerId);
    const rows = await query.execute();
    return rows.map((r) => ({
      lowerId: r.lower_id,
      lowerVersion: r.lower_version,
      deprecation: {
        reasons: r.reasons.split(',') as DeprecationReason[],
        message: r.message,
        alternate: r.alternate_id ? { id: r.alternate_id, range: r.alternate_range } : null,
      },
    }));
  }

  async putVulnerability(lowerId: string, v: Vulnerability): Promise<void> {
    const values = { severity: v.severity, versions: v.versions, updated_at: new Date().toISOString(), withdrawn: 0 };
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('vulnerabilities')
        .values({ feed_id: this.feedId, lower_id: lowerId, url: v.url, ...values })
        .onConflict((oc) => oc.columns(['feed_id', 'lower_id', 'url']).doUpdateSet(values))
        .execute();
      await tx.insertInto('changes').values({ feed_id: this.feedId, lower_id: lowerId }).execute();
    });
  }

  async withdrawVulnerability(lowerId: string, url: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('vulnerabilities')
        .set({ withdrawn: 1, updated_at: new Date().toISOString() })
        .where('feed_id', '=', this.feedId)
        .where('lower_id', '=', lowerId)
        .where('url', '=', url)
        .where('withdrawn', '=', 0)
        .executeTakeFirst();
      const found = Number(result.numUpdatedRows) > 0;
      if (found) await tx.insertInto('changes').values({ feed_id: this.feedId, lower_id: lowerId }).execute();
      return found;
    });
  }

  async vulnerabilities(lowerId?: string): Promise<VulnerabilityRecord[]> {
    let query = this.db.selectFrom('vulnerabilities').select(['lower_id', 'url', 'severity', 'versions', 'updated_at'])
      .where('feed_id', '=', this.feedId)
      .where('withdrawn', '=', 0);
    if (lowerId !== undefined) query = query.where('lower_id', '=', lowerId);
    const rows = await query.orderBy('lower_id').orderBy('url').execute();
    return rows.map((r) => ({ lowerId: r.lower_id, url: r.url, severity: Number(r.severity) as Severity, versions: r.versions, updatedAt: r.updated_at }));
  }

  async vulnerabilitiesUpdated(): Promise<string | null> {
    const row = await this.db
      .selectFrom('vulnerabilities')
      .select((eb) => eb.fn.max('updated_at').as('updated'))
      .where('feed_id', '=', this.feedId)
      .executeTakeFirst();
    return row?.updated ?? null;
  }
}
