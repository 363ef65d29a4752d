import type { Generated, Kysely, Selectable } from 'kysely';
import type { KeyScope } from './access-database.js';
import type { Tables } from './schema.js';
import type { NewTrustPolicy, TrustDatabase, TrustPolicyRecord, TrustProvider } from './trust-database.js';

/** Table shapes of trust-migrations.ts. */
export type TrustTables = {
  trust_policies: {
    policy_id: Generated<number>;
    name: string;
    owner: string;
    provider: string;
    issuer: string;
    claims: string;
    audience: string | null;
    scopes: string;
    patterns: string;
    feeds: string | null;
    key_lifetime: number;
    created: string;
    created_by: string;
    disabled: number;
  };
  used_tokens: { token_hash: string; policy_id: number; used_at: string; expires: string };
};

type Db = Tables & TrustTables;

function toPolicy(r: Selectable<TrustTables['trust_policies']>): TrustPolicyRecord {
  return {
    policyId: Number(r.policy_id),
    name: r.name,
    owner: r.owner,
    provider: r.provider as TrustProvider,
    issuer: r.issuer,
    claims: JSON.parse(r.claims) as Record<string, string>,
    audience: r.audience,
    scopes: JSON.parse(r.scopes) as KeyScope[],
    patterns: JSON.parse(r.patterns) as string[],
    feeds: r.feeds === null ? null : (JSON.parse(r.feeds) as number[]),
    keyLifetime: Number(r.key_lifetime),
    created: r.created,
    createdBy: r.created_by,
    disabled: Number(r.disabled) === 1,
  };
}

export class KyselyTrustDatabase implements TrustDatabase {
  private readonly k: Kysely<Db>;

  constructor(db: Kysely<Tables>) {
    this.k = db as unknown as Kysely<Db>;
  }

  async createPolicy(p: NewTrustPolicy): Promise<TrustPolicyRecord> {
    const row = await this.k
      .insertInto('trust_policies')
      .values({
        name: p.name,
        owner: p.owner,
        provider: p.provider,
        issuer: p.issuer,
        claims: JSON.stringify(p.claims),
        audience: p.audience,
        scopes: JSON.stringify(p.scopes),
        patterns: JSON.stringify(p.patterns),
        feeds: p.feeds === null ? null : JSON.stringify(p.feeds),
        key_lifetime: p.keyLifetime,
        created: p.created,
        created_by: p.createdBy,
        disabled: p.disabled ? 1 : 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toPolicy(row);
  }

  async getPolicy(policyId: number): Promise<TrustPolicyRecord | null> {
    const row = await this.k.selectFrom('trust_policies').selectAll().where('policy_id', '=', policyId).executeTakeFirst();
    return row ? toPolicy(row) : null;
  }

  async listPolicies(): Promise<TrustPolicyRecord[]> {
    return (await this.k.selectFrom('trust_policies').selectAll().orderBy('policy_id').execute()).map(toPolicy);
  }

  async policiesForIssuer(issuer: string): Promise<TrustPolicyRecord[]> {
    const rows = await this.k.selectFrom('trust_policies').selectAll().where('issuer', '=', issuer).where('disabled', '=', 0).orderBy('policy_id').execute();
    return rows.map(toPolicy);
  }

  async updatePolicy(policyId: number, changes: { readonly claims?: Readonly<Record<string, string>>; readonly disabled?: boolean }): Promise<void> {
    const set: { claims?: string; disabled?: number } = {};
    if (changes.claims) set.claims = JSON.stringify(changes.claims);
    if (changes.disabled !== undefined) set.disabled = changes.disabled ? 1 : 0;
    if (Object.keys(set).length > 0) await this.k.updateTable('trust_policies').set(set).where('policy_id', '=', policyId).execute();
  }

  async deletePolicy(policyId: number): Promise<boolean> {
    const result = await this.k.deleteFrom('trust_policies').where('policy_id', '=', policyId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async useToken(tokenHash: string, policyId: number, usedAt: string, expires: string): Promise<boolean> {
    const result = await this.k
      .insertInto('used_tokens')
      .values({ token_hash: tokenHash, policy_id: policyId, used_at: usedAt, expires })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async countUses(policyId: number, since: string): Promise<number> {
    const row = await this.k
      .selectFrom('used_tokens')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('policy_id', '=', policyId)
      .where('used_at', '>', since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async pruneUsedTokens(now: string): Promise<void> {
    await this.k.deleteFrom('used_tokens').where('expires', '<', now).execute();
  }
}
