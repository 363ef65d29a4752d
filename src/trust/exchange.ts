import { createHash } from 'node:crypto';
import { decodeJwt, type JWTPayload } from 'jose';
import type { TrustDatabase, TrustPolicyRecord } from '../db/trust-database.js';
import { PawketError, badRequest } from '../errors.js';
import type { AuditLog } from '../feed/audit.js';
import type { Actor } from '../feed/auth.js';
import type { KeyManager } from '../feed/keys.js';
import type { IssuerKeys } from './issuer-keys.js';
import { describeToken, matchPolicy } from './policy.js';

/** Longest OIDC token accepted (GitHub's are about 1-2 KiB). */
const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_USERNAME = 100;

export interface ExchangeOptions {
  /** Longest an issued key lives, in seconds (at most an hour). */
  readonly maxKeyLifetime: number;
  /** Most exchanges per policy per minute, over every node. */
  readonly exchangesPerMinute: number;
  readonly now?: () => Date;
}

/** The feed a token is exchanged on. */
export interface ExchangeFeed {
  readonly id: number;
  readonly name: string;
  /** The feed's public base URL: the audience tokens must carry when a policy names none. */
  readonly audience: string;
}

export interface ExchangeRequest {
  /** The `Authorization: Bearer` token, or null when the request had none. */
  readonly bearer: string | null;
  readonly body: unknown;
  readonly address: string | null;
}

export interface IssuedKey {
  readonly apiKey: string;
  readonly expires: string;
  readonly policyId: number;
}

/**
 * Trusted publishing's token exchange (docs/TRUSTED-PUBLISHING.md), as `NuGet/login` calls it: a CI system's OIDC token
 * in, a key of at most an hour out, limited to what the matching policy allows. Each token works once, on any node.
 */
export class TokenExchange {
  private readonly now: () => Date;
  private exchanges = 0;

  constructor(
    private readonly db: TrustDatabase,
    private readonly issuerKeys: IssuerKeys,
    private readonly keys: KeyManager,
    private readonly audit: AuditLog,
    private readonly options: ExchangeOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async exchange(feed: ExchangeFeed, request: ExchangeRequest): Promise<IssuedKey> {
    const username = checkBody(request.body);
    const token = request.bearer?.trim() ?? '';
    if (!token) throw new PawketError(401, "Send the CI system's OIDC token as 'Authorization: Bearer <token>'.");
    if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) throw new PawketError(401, 'The bearer token is not a signed JWT.');
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new PawketError(401, 'The bearer token is not a signed JWT.');
    }
    const issuer = typeof unverified.iss === 'string' ? unverified.iss : null;
    if (!issuer) throw new PawketError(401, 'The token names no issuer (iss).');

    // Only issuers a policy names are ever fetched from.
    const trusting = await this.db.policiesForIssuer(issuer);
    if (trusting.length === 0) throw new PawketError(401, `No trust policy on this server trusts tokens from issuer ${issuer.slice(0, 200)}.`);
    const owners = trusting.filter((p) => p.owner.toLowerCase() === username.toLowerCase());
    if (owners.length === 0) throw new PawketError(401, `No trust policy of ${username} trusts tokens from issuer ${issuer.slice(0, 200)}: 'user' must name the owner of the policy.`);
    const candidates = owners.filter((p) => p.feeds === null || p.feeds.includes(feed.id));
    if (candidates.length === 0) throw new PawketError(403, `No trust policy of ${username} covers feed '${feed.name}'.`);

    const claims = await this.issuerKeys.verify(token, issuer);
    const reasons: string[] = [];
    let chosen: { policy: TrustPolicyRecord; bind: Readonly<Record<string, string>> | null } | null = null;
    for (const policy of candidates) {
      const audience = policy.audience ?? feed.audience;
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes(audience)) {
        reasons.push(`policy ${policy.policyId} (${policy.name}): the token is for audience ${aud.filter(Boolean).join(', ').slice(0, 200) || '(none)'}, not ${audience}`);
        continue;
      }
      const match = matchPolicy(policy, claims);
      if (!match.matches) {
        reasons.push(`policy ${policy.policyId} (${policy.name}): ${match.reason}`);
        continue;
      }
      chosen = { policy, bind: match.bind };
      break;
    }
    if (!chosen) throw new PawketError(403, `No trust policy of ${username} matches this token: ${reasons.slice(0, 3).join('; ')}.`);
    const { policy } = chosen;

    const now = this.now();
    const recent = await this.db.countUses(policy.policyId, new Date(now.getTime() - 60_000).toISOString());
    if (recent >= this.options.exchangesPerMinute) {
      throw new PawketError(429, `Trust policy ${policy.policyId} (${policy.name}) allows ${this.options.exchangesPerMinute} exchanges a minute; wait a moment.`, { 'retry-after': '60' });
    }
    const tokenId = typeof claims.jti === 'string' && claims.jti ? `jti:${claims.jti}` : `token:${token}`;
    const hash = createHash('sha256').update(`${issuer}\n${tokenId}`).digest('hex');
    if (!(await this.db.useToken(hash, policy.policyId, now.toISOString(), new Date(claims.exp! * 1000).toISOString()))) {
      throw new PawketError(401, 'This token was exchanged already: each token works once. Ask the CI system for a new one.');
    }
    // The first exchange binds the numeric ids of the repository (or project) and its owner into the policy.
    if (chosen.bind) await this.db.updatePolicy(policy.policyId, { claims: chosen.bind });

    const lifetime = Math.min(policy.keyLifetime, this.options.maxKeyLifetime);
    const expires = new Date(now.getTime() + lifetime * 1000).toISOString();
    const actor: Actor = { name: `trust policy ${policy.policyId} (${policy.name})`, keyId: null, owner: policy.owner, address: request.address };
    const created = await this.keys.create(actor, {
      name: `trusted publishing: ${policy.name}`.slice(0, 100),
      owner: policy.owner,
      scopes: policy.scopes,
      patterns: policy.patterns,
      feeds: policy.feeds,
      expires,
    });
    await this.audit.record(actor, 'trust.exchange', created.record.keyId, describeToken(claims));
    if (++this.exchanges % 100 === 0) await this.db.pruneUsedTokens(now.toISOString()).catch(() => {});
    return { apiKey: created.key, expires, policyId: policy.policyId };
  }
}

/** The body `NuGet/login` sends: `{"username": "...", "tokenType": "ApiKey"}`; the username. */
function checkBody(body: unknown): string {
  const b = body as { username?: unknown; tokenType?: unknown } | null;
  const shape = 'Send JSON {"username": "<policy owner>", "tokenType": "ApiKey"}.';
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw badRequest(`The request body is not a JSON object. ${shape}`);
  if (typeof b.username !== 'string' || b.username.trim() === '' || b.username.length > MAX_USERNAME) throw badRequest(`'username' is missing or not a name. ${shape}`);
  if (b.tokenType !== 'ApiKey') throw badRequest(`'tokenType' must be "ApiKey". ${shape}`);
  return b.username.trim();
}
