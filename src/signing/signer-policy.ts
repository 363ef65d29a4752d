/**
 * Trusted-signer policies' rules, pure: what a policy may say, and which policy decides for an id (docs/SIGNING.md).
 * Storage and caching are src/feed/signer-policies.ts's.
 */
import type { SignatureMode, SignerPolicyRecord } from '../db/signer-policy-database.js';
import { badRequest } from '../errors.js';
import { isIdPattern, matchesIdPattern, notAnIdPattern } from '../nuget/id-pattern.js';
import type { SignaturePolicy } from './signature-info.js';

export const SIGNATURE_MODES: readonly SignatureMode[] = ['accept', 'verify', 'require'];
/** Policies one feed may have: each push reads them (from memory). */
export const MAX_POLICIES_PER_FEED = 100;
/** Certificates one policy may allow: a few per rotation is plenty. */
export const MAX_FINGERPRINTS = 20;
const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const OWNER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const SHA256_HEX = /^[0-9A-F]{64}$/;

/** What someone asks for when adding a policy (CLI flags, the API's JSON, the web form). */
export interface SignerPolicyRequest {
  readonly name: string;
  readonly pattern?: string | null | undefined;
  readonly owner?: string | null | undefined;
  readonly mode: string;
  /** Fingerprints as people copy them: any case, with or without `:` or spaces between bytes. */
  readonly fingerprints?: readonly string[] | undefined;
}

/** A policy's fields checked and normalized; refusals are 400s naming the field. */
export interface CheckedSignerPolicy {
  readonly name: string;
  readonly pattern: string | null;
  readonly owner: string | null;
  readonly mode: SignatureMode;
  readonly fingerprints: readonly string[];
}

/** A SHA-256 certificate fingerprint as stored: 64 upper-case hex digits, separators dropped. */
export function normalizeFingerprint(text: string): string {
  const hex = text.replace(/[\s:]/g, '').toUpperCase();
  if (!SHA256_HEX.test(hex)) {
    throw badRequest(`fingerprints: '${text.slice(0, 100)}' is not a SHA-256 certificate fingerprint (64 hex digits, as \`dotnet nuget verify -v n\` prints it).`);
  }
  return hex;
}

export function checkSignerPolicy(request: SignerPolicyRequest): CheckedSignerPolicy {
  const name = request.name.trim();
  if (!POLICY_NAME.test(name)) throw badRequest(`name: '${name.slice(0, 80)}' is not a policy name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.`);
  const pattern = request.pattern?.trim() || null;
  if (pattern !== null && !isIdPattern(pattern)) throw badRequest(`pattern: ${notAnIdPattern(pattern)}.`);
  const ownerText = request.owner?.trim() || null;
  const owner = ownerText === null ? null : ownerText.toLowerCase();
  if (owner !== null && !OWNER_NAME.test(owner)) {
    throw badRequest(`owner: '${ownerText!.slice(0, 80)}' is not a user or organisation name: use 1-64 letters, digits, '.', '_' or '-'.`);
  }
  if (pattern === null && owner === null) throw badRequest('pattern, owner: a policy covers an id pattern (Contoso.*), an owner, or both: give at least one.');
  if (!(SIGNATURE_MODES as readonly string[]).includes(request.mode)) {
    throw badRequest(`mode: '${String(request.mode).slice(0, 40)}' is not a mode: use ${SIGNATURE_MODES.join(', ')}.`);
  }
  const mode = request.mode as SignatureMode;
  const list = request.fingerprints ?? [];
  if (list.length > MAX_FINGERPRINTS) throw badRequest(`fingerprints: a policy allows at most ${MAX_FINGERPRINTS} certificates; ${list.length} were given.`);
  const fingerprints = [...new Set(list.map(normalizeFingerprint))];
  // `verify` accepts unsigned packages, so certificates there would promise what it does not enforce.
  if (fingerprints.length > 0 && mode !== 'require') {
    throw badRequest(`fingerprints: only a policy in mode require names certificates (mode ${mode} accepts unsigned packages): use mode require.`);
  }
  return { name, pattern, owner, mode, fingerprints };
}

/** How specific a policy is: owner and pattern over pattern over owner; then the longer pattern, fewer `*`. */
function specificity(p: SignerPolicyRecord): [number, number, number] {
  const kind = p.pattern !== null && p.owner !== null ? 2 : p.pattern !== null ? 1 : 0;
  const pattern = p.pattern ?? '';
  return [kind, pattern.length, -(pattern.split('*').length - 1)];
}

/**
 * The policy that decides for an id: the most specific one that covers it (its pattern matches the id and its owner is
 * the id's owner), the oldest on a tie; undefined when none does.
 * @example policyCovering(policies, 'contoso.core', 'contoso')
 */
export function policyCovering(policies: readonly SignerPolicyRecord[], lowerId: string, owner: string | null): SignerPolicyRecord | undefined {
  const lowerOwner = owner?.toLowerCase() ?? null;
  let best: SignerPolicyRecord | undefined;
  let bestRank: [number, number, number] | undefined;
  for (const p of policies) {
    if (p.owner !== null && p.owner !== lowerOwner) continue;
    if (p.pattern !== null && !matchesIdPattern(p.pattern, lowerId)) continue;
    const rank = specificity(p);
    if (!bestRank || rank[0] > bestRank[0] || (rank[0] === bestRank[0] && (rank[1] > bestRank[1] || (rank[1] === bestRank[1] && rank[2] > bestRank[2])))) {
      best = p;
      bestRank = rank;
    }
  }
  return best;
}

/** A stored policy as verification uses it. */
export const asSignaturePolicy = (p: SignerPolicyRecord): SignaturePolicy => ({ name: p.name, mode: p.mode, fingerprints: p.fingerprints });
