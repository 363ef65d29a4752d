import type { SignaturePolicy } from '../signing/signature-info.js';

/** What a trusted-signer policy asks of the packages it covers (docs/SIGNING.md). */
export type SignatureMode = SignaturePolicy['mode'];

/** A feed's trusted-signer policy as stored: which ids it covers (pattern, owner or both) and what it asks. */
export interface SignerPolicyRecord {
  readonly policyId: number;
  /** Unique on the feed (case-insensitive); the 403 of a refused package names it. */
  readonly name: string;
  /** An id pattern (src/nuget/id-pattern.ts), or null: every id of `owner`. */
  readonly pattern: string | null;
  /** A user or organisation name, or null: every owner of ids matching `pattern`. */
  readonly owner: string | null;
  readonly mode: SignatureMode;
  /** SHA-256 fingerprints (upper-case hex) of the author certificates allowed; empty: any the feed trusts. */
  readonly fingerprints: readonly string[];
  readonly created: string;
  readonly createdBy: string;
}

export type NewSignerPolicy = Omit<SignerPolicyRecord, 'policyId'>;

/**
 * The `changes` row a policy change records: not a package id (ids cannot start with `#`), so the change feed carries
 * it to every node, where the feed's policy cache drops.
 */
export const SIGNERS_CHANGE_MARKER = '#signers';

/** One feed's trusted-signer policies (kysely-signer-policy-database.ts). Changes record a SIGNERS_CHANGE_MARKER row. */
export interface SignerPolicyDatabase {
  listPolicies(): Promise<SignerPolicyRecord[]>;
  countPolicies(): Promise<number>;
  /** null when the feed already has a policy of that name (any case). */
  createPolicy(policy: NewSignerPolicy): Promise<SignerPolicyRecord | null>;
  /** The removed policy, or null when the feed has none of that name (any case). */
  deletePolicy(name: string): Promise<SignerPolicyRecord | null>;
}
