import type { KeyScope } from './access-database.js';

/** Which CI system a policy is for: it decides the claims checked and how (src/trust/policy.ts). */
export type TrustProvider = 'github' | 'gitlab' | 'generic';

/** A trusted-publishing policy as stored. */
export interface TrustPolicyRecord {
  readonly policyId: number;
  readonly name: string;
  /** The user or organisation issued keys act for. */
  readonly owner: string;
  readonly provider: TrustProvider;
  readonly issuer: string;
  /** Claim name → required value (presets add their own rules on top, such as GitHub's workflow file). */
  readonly claims: Readonly<Record<string, string>>;
  /** The `aud` tokens must carry; null: the feed's public base URL. */
  readonly audience: string | null;
  readonly scopes: readonly KeyScope[];
  readonly patterns: readonly string[];
  /** Feed ids the issued keys are valid on; null: every feed. */
  readonly feeds: readonly number[] | null;
  /** Seconds an issued key lives. */
  readonly keyLifetime: number;
  readonly created: string;
  readonly createdBy: string;
  readonly disabled: boolean;
}

export type NewTrustPolicy = Omit<TrustPolicyRecord, 'policyId'>;

/** The server's trusted-publishing policies and the tokens exchanged under them (kysely-trust-database.ts). */
export interface TrustDatabase {
  createPolicy(policy: NewTrustPolicy): Promise<TrustPolicyRecord>;
  getPolicy(policyId: number): Promise<TrustPolicyRecord | null>;
  listPolicies(): Promise<TrustPolicyRecord[]>;
  /** Enabled policies that trust this issuer. */
  policiesForIssuer(issuer: string): Promise<TrustPolicyRecord[]>;
  /** Replaces a policy's claims (binding ids at first use), or disables it. */
  updatePolicy(policyId: number, changes: { readonly claims?: Readonly<Record<string, string>>; readonly disabled?: boolean }): Promise<void>;
  deletePolicy(policyId: number): Promise<boolean>;
  /** Records a token's one use; false when it was used before (on any node). */
  useToken(tokenHash: string, policyId: number, usedAt: string, expires: string): Promise<boolean>;
  /** Exchanges under a policy since a time (its rate limit, across nodes). */
  countUses(policyId: number, since: string): Promise<number>;
  /** Forgets used tokens that expired before `now`. */
  pruneUsedTokens(now: string): Promise<void>;
}
