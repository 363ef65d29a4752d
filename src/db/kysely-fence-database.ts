import type { Kysely } from 'kysely';
import { sql } from './kysely.js';
import type { FenceDatabase } from './fence-database.js';
import type { Tables } from './schema.js';

/** Table shapes of fence-migrations.ts. */
export type FenceTables = {
  nodes: { node_id: string; seen_at: string };
  fence_acks: { fence: string; node_id: string; acked_at: string };
};

type Db = Tables & FenceTables;

export class KyselyFenceDatabase implements FenceDatabase {
  private readonly k: Kysely<Db>;

  constructor(db: Kysely<Tables>) {
    this.k = db as unknown as Kysely<Db>;
  }

  async heartbeat(nodeId: string, at: string): Promise<void> {
    await this.k
      .insertInto('nodes')
      .values({ node_id: nodeId, seen_at: at })
      .onConflict((oc) => oc.column('node_id').doUpdateSet({ seen_at: at }))
      .execute();
  }

  async announce(marker: string): Promise<void> {
    await this.k.insertInto('changes').values({ lower_id: marker }).execute();
  }

  async acknowledge(fence: string, nodeId: string, at: string): Promise<void> {
    await this.k
      .insertInto('fence_acks')
      .values({ fence, node_id: nodeId, acked_at: at })
      .onConflict((oc) => oc.columns(['fence', 'node_id']).doNothing())
      .execute();
  }

  async unacknowledged(fence: string, since: string): Promise<string[]> {
    const rows = await this.k
      .selectFrom('nodes as n')
      .select('n.node_id')
      .where('n.seen_at', '>', since)
      .where(sql<boolean>`not exists (select 1 from fence_acks f where f.fence = ${fence} and f.node_id = n.node_id)`)
      .execute();
    return rows.map((r) => r.node_id);
  }

  async forget(nodeId: string): Promise<void> {
    await this.k.deleteFrom('nodes').where('node_id', '=', nodeId).execute();
  }

  async prune(before: string): Promise<void> {
    await this.k.deleteFrom('fence_acks').where('acked_at', '<', before).execute();
    await this.k.deleteFrom('nodes').where('seen_at', '<', before).execute();
  }
}
