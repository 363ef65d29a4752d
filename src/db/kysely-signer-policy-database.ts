import type { Generated, Kysely, Selectable } from 'kysely';
import type { Tables } from './schema.js';
import { SIGNERS_CHANGE_MARKER, type NewSignerPolicy, type SignatureMode, type SignerPolicyDatabase, type SignerPolicyRecord } from './signer-policy-database.js';

/** Table shape of signer-policy-migrations.ts. */
export type SignerPolicyTables = {
  signer_policies: {
    policy_id: Generated<number>;
    feed_id: number;
    name: string;
    lower_name: string;
    pattern: string | null;
    owner: string | null;
    mode: string;
    fingerprints: string;
    created: string;
    created_by: string;
  };
};

type Db = Tables & SignerPolicyTables;

function toPolicy(r: Selectable<SignerPolicyTables['signer_policies']>): SignerPolicyRecord {
  return {
    policyId: Number(r.policy_id),
    name: r.name,
    pattern: r.pattern,
    owner: r.owner,
    mode: r.mode as SignatureMode,
    fingerprints: JSON.parse(r.fingerprints) as string[],
    created: r.created,
    createdBy: r.created_by,
  };
}

/** One feed's trusted-signer policies over the shared Kysely instance (SQLite and PostgreSQL). */
export class KyselySignerPolicyDatabase implements SignerPolicyDatabase {
  private readonly k: Kysely<Db>;

  constructor(
    db: Kysely<Tables>,
    readonly feedId: number,
  ) {
    this.k = db as unknown as Kysely<Db>;
  }

  async listPolicies(): Promise<SignerPolicyRecord[]> {
    const rows = await this.k.selectFrom('signer_policies').selectAll().where('feed_id', '=', this.feedId).orderBy('policy_id').execute();
    return rows.map(toPolicy);
  }

  async countPolicies(): Promise<number> {
    const row = await this.k.selectFrom('signer_policies').select((eb) => eb.fn.countAll().as('n')).where('feed_id', '=', this.feedId).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async createPolicy(p: NewSignerPolicy): Promise<SignerPolicyRecord | null> {
    return this.k.transaction().execute(async (tx) => {
      // The unique index decides a race of two creates; this answers the common case without an error.
      const lowerName = p.name.toLowerCase();
      const existing = await tx.selectFrom('signer_policies').select('policy_id').where('feed_id', '=', this.feedId).where('lower_name', '=', lowerName).executeTakeFirst();
      if (existing) return null;
      const row = await tx
        .insertInto('signer_policies')
        .values({
          feed_id: this.feedId,
          name: p.name,
          lower_name: lowerName,
          pattern: p.pattern,
          owner: p.owner,
          mode: p.mode,
          fingerprints: JSON.stringify(p.fingerprints),
          created: p.created,
          created_by: p.createdBy,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await tx.insertInto('changes').values({ feed_id: this.feedId, lower_id: SIGNERS_CHANGE_MARKER }).execute();
      return toPolicy(row);
    });
  }

  async deletePolicy(name: string): Promise<SignerPolicyRecord | null> {
    return this.k.transaction().execute(async (tx) => {
      const row = await tx
        .deleteFrom('signer_policies')
        .where('feed_id', '=', this.feedId)
        .where('lower_name', '=', name.toLowerCase())
        .returningAll()
        .executeTakeFirst();
      if (!row) return null;
      await tx.insertInto('changes').values({ feed_id: this.feedId, lower_id: SIGNERS_CHANGE_MARKER }).execute();
      return toPolicy(row);
    });
  }
}
