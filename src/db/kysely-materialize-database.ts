import type { Kysely } from 'kysely';
import type { IdChange, MaterializeDatabase, MaterializedState } from './materialize-database.js';
import type { Tables } from './schema.js';

/** Table shapes of materialize-migrations.ts. */
export type MaterializeTables = {
  materialized_ids: { feed_id: number; lower_id: string; seq: number | string; manifest: string | null; holder: string | null; lease_until: number | string };
  materialize_progress: { name: string; value: string };
};

type Db = Tables & MaterializeTables;

const state = (row: { seq: number | string; manifest: string | null }): MaterializedState => ({ seq: Number(row.seq), manifest: row.manifest });

export class KyselyMaterializeDatabase implements MaterializeDatabase {
  private readonly k: Kysely<Db>;

  constructor(db: Kysely<Tables>) {
    this.k = db as unknown as Kysely<Db>;
  }

  async claim(feedId: number, lowerId: string, holder: string, now: number, until: number): Promise<MaterializedState | null> {
    const inserted = await this.k
      .insertInto('materialized_ids')
      .values({ feed_id: feedId, lower_id: lowerId, seq: 0, manifest: null, holder, lease_until: until })
      .onConflict((oc) => oc.columns(['feed_id', 'lower_id']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return { seq: 0, manifest: null };
    // Conditional on the lease being free: of two nodes, one update matches.
    const row = await this.k
      .updateTable('materialized_ids')
      .set({ holder, lease_until: until })
      .where('feed_id', '=', feedId)
      .where('lower_id', '=', lowerId)
      .where((eb) => eb.or([eb('lease_until', '<', now), eb('holder', '=', holder)]))
      .returning(['seq', 'manifest'])
      .executeTakeFirst();
    return row ? state(row) : null;
  }

  async renew(feedId: number, lowerId: string, holder: string, until: number): Promise<boolean> {
    const result = await this.k
      .updateTable('materialized_ids')
      .set({ lease_until: until })
      .where('feed_id', '=', feedId)
      .where('lower_id', '=', lowerId)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async finish(feedId: number, lowerId: string, holder: string, seq: number, manifest: string | null): Promise<void> {
    await this.k
      .updateTable('materialized_ids')
      .set({ seq, manifest, holder: null, lease_until: 0 })
      .where('feed_id', '=', feedId)
      .where('lower_id', '=', lowerId)
      .where('holder', '=', holder)
      .execute();
  }

  async release(feedId: number, lowerId: string, holder: string): Promise<void> {
    await this.k
      .updateTable('materialized_ids')
      .set({ holder: null, lease_until: 0 })
      .where('feed_id', '=', feedId)
      .where('lower_id', '=', lowerId)
      .where('holder', '=', holder)
      .execute();
  }

  async changedSince(seq: number, limit: number): Promise<IdChange[]> {
    const rows = await this.k
      .selectFrom('changes')
      .select((eb) => ['feed_id', 'lower_id', eb.fn.max('seq').as('seq')])
      .where('seq', '>', seq)
      .where('feed_id', 'is not', null)
      .where('lower_id', 'not like', '#%')
      .groupBy(['feed_id', 'lower_id'])
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ feedId: Number(r.feed_id), lowerId: r.lower_id, seq: Number(r.seq) }));
  }

  async seqs(feedId: number, lowerIds: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (let i = 0; i < lowerIds.length; i += 500) {
      const rows = await this.k
        .selectFrom('materialized_ids')
        .select(['lower_id', 'seq'])
        .where('feed_id', '=', feedId)
        .where('lower_id', 'in', lowerIds.slice(i, i + 500))
        .execute();
      for (const r of rows) found.set(r.lower_id, Number(r.seq));
    }
    return found;
  }

  async forgetFeed(feedId: number): Promise<void> {
    await this.k.deleteFrom('materialized_ids').where('feed_id', '=', feedId).execute();
  }

  async progress(name: string): Promise<string | null> {
    const row = await this.k.selectFrom('materialize_progress').select('value').where('name', '=', name).executeTakeFirst();
    return row?.value ?? null;
  }

  async setProgress(name: string, value: string): Promise<void> {
    await this.k
      .insertInto('materialize_progress')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
      .execute();
  }

  async head(): Promise<number> {
    const row = await this.k.selectFrom('changes').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
    return Number(row?.seq ?? 0);
  }
}
