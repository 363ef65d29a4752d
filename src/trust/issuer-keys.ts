import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { PawketError } from '../errors.js';

/** Signature algorithms accepted: asymmetric ones only (never `none`, never an HMAC keyed with a public key). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Largest discovery document or key set read. */
const MAX_DOCUMENT_BYTES = 256 * 1024;
/** How long a discovery stays good; the key set inside refreshes itself on an unknown `kid`. */
const DISCOVERY_TTL_MS = 3_600_000;
/** After a failed discovery, tokens of that issuer get 503 at once for this long (no fetch per request). */
const FAILURE_COOLDOWN_MS = 10_000;

export interface IssuerKeysOptions {
  /** Longest a discovery or key-set fetch may take (ms). */
  readonly timeoutMs?: number;
  /** Clock skew allowed on `exp`, `nbf` and `iat` (seconds). */
  readonly clockToleranceSec?: number;
}

type Discovered = { readonly keys: JWTVerifyGetKey; readonly until: number } | { readonly failure: PawketError; readonly until: number };

/**
 * The signing keys of OIDC issuers that trust policies name (src/trust/exchange.ts asks only for those, so a token
 * cannot make the server fetch arbitrary URLs): found through `/.well-known/openid-configuration` and its `jwks_uri`,
 * cached, and fetched again when a token names a `kid` the cached set lacks, at most every 30 s (jose's cooldown).
 */
export class IssuerKeys {
  private readonly issuers = new Map<string, Promise<Discovered>>();

  /** Clock skew allowed on `exp`, `nbf` and `iat` (seconds): a used token must be remembered that much past its `exp`. */
  readonly clockToleranceSec: number;

  constructor(private readonly options: IssuerKeysOptions = {}) {
    this.clockToleranceSec = options.clockToleranceSec ?? 60;
  }

  /** The token's verified claims: signature by the issuer's keys, `iss`, `exp`, `nbf`, `iat`; 401/503 with a message otherwise. */
  async verify(token: string, issuer: string): Promise<JWTPayload> {
    const keys = await this.keysOf(issuer);
    const tolerance = this.clockToleranceSec;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer, algorithms: ALGORITHMS, clockTolerance: tolerance, requiredClaims: ['exp', 'iat'] }));
    } catch (e) {
      throw refusal(e, issuer);
    }
    if (payload.iat! > Date.now() / 1000 + tolerance) throw new PawketError(401, 'The token was issued in the future (iat): check the clocks.');
    return payload;
  }

  private async keysOf(issuer: string): Promise<JWTVerifyGetKey> {
    let entry = this.issuers.get(issuer);
    const now = Date.now();
    const known = entry ? await entry : null;
    if (!known || known.until <= now) {
      entry = this.discover(issuer);
      this.issuers.set(issuer, entry);
    }
    const discovered = await entry!;
    if ('failure' in discovered) throw discovered.failure;
    return discovered.keys;
  }

  private async discover(issuer: string): Promise<Discovered> {
    const timeoutDuration = this.options.timeoutMs ?? 5000;
    try {
      const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const document = (await boundedJson(url, timeoutDuration)) as { issuer?: unknown; jwks_uri?: unknown };
      if (document.issuer !== issuer) throw new Error(`its discovery document names issuer ${String(document.issuer).slice(0, 200)}`);
      if (typeof document.jwks_uri !== 'string' || !/^https?:\/\//.test(document.jwks_uri)) throw new Error('its discovery document has no jwks_uri');
      // The keys come from the issuer's own origin (GitHub's and GitLab's do): a discovery document cannot send this
      // server to fetch from anywhere else.
      if (new URL(document.jwks_uri).origin !== new URL(issuer).origin) throw new Error(`its jwks_uri ${new URL(document.jwks_uri).origin} is not on the issuer's origin`);
      let failedUntil = 0;
      const keys = createRemoteJWKSet(new URL(document.jwks_uri), {
        timeoutDuration,
        cooldownDuration: 30_000,
        cacheMaxAge: 600_000,
        // A key set that does not arrive as JSON is the issuer's failure (503), not the token's: jose would call it a
        // JOSEError like a bad signature, so it is told apart here, before jose sees the answer.
        [customFetch]: async (url: string, init: RequestInit) => {
          // jose fetches again on every token while its key set is missing: after a failure, wait as discovery does,
          // so that requests cannot make the server ask a failing issuer once each.
          if (Date.now() < failedUntil) throw new Error(`${url} failed moments ago`);
          try {
            return await keySetFetch(url, init);
          } catch (e) {
            failedUntil = Date.now() + FAILURE_COOLDOWN_MS;
            throw e;
          }
        },
      });
      return { keys, until: Date.now() + DISCOVERY_TTL_MS };
    } catch (e) {
      const failure = new PawketError(503, `The signing keys of issuer ${issuer} cannot be fetched now (${e instanceof Error ? e.message : String(e)}); try again later.`);
      return { failure, until: Date.now() + FAILURE_COOLDOWN_MS };
    }
  }
}

/** fetch of a JWKS that throws (a 503 in {@link refusal}) unless the answer is 200 and JSON. */
async function keySetFetch(url: string, init: RequestInit): Promise<Response> {
  const response = await boundedFetch(url, init);
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  const text = await response.text();
  try {
    JSON.parse(text);
  } catch {
    throw new Error(`${url} is not JSON`);
  }
  return new Response(text, { status: 200, headers: response.headers });
}

/** A jose verification failure as the answer the exchange gives. */
function refusal(e: unknown, issuer: string): PawketError {
  if (e instanceof PawketError) return e;
  if (e instanceof errors.JWTExpired) return new PawketError(401, 'The token has expired: ask the CI system for a new one.');
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return new PawketError(401, 'The token is not valid yet (nbf): check the clocks.');
    return new PawketError(401, `The token's ${e.claim} claim is not acceptable: ${e.reason}.`);
  }
  if (e instanceof errors.JWKSNoMatchingKey) return new PawketError(401, `The token was signed with a key (kid) that issuer ${issuer} does not publish.`);
  if (e instanceof errors.JOSEAlgNotAllowed) return new PawketError(401, `The token's signature algorithm is not accepted: only ${ALGORITHMS.join(', ')}.`);
  if (e instanceof errors.JWSSignatureVerificationFailed) return new PawketError(401, `The token's signature does not verify with the keys of issuer ${issuer}.`);
  // JSON that is not a key set: the issuer's failure too.
  if (e instanceof errors.JWKSInvalid) return new PawketError(503, `The signing keys of issuer ${issuer} cannot be fetched now (its key set is not a JWKS); try again later.`);
  if (e instanceof errors.JWKSTimeout) return new PawketError(503, `The signing keys of issuer ${issuer} did not arrive in time; try again later.`);
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return new PawketError(401, `The token is not a valid signed JWT: ${e.message}.`);
  if (e instanceof errors.JOSEError) return new PawketError(401, `The token cannot be verified: ${e.message}.`);
  return new PawketError(503, `The signing keys of issuer ${issuer} cannot be fetched now (${e instanceof Error ? e.message : String(e)}); try again later.`);
}

/** fetch with a timeout and a bound on the body: issuers are remote servers too. */
async function boundedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, { ...init, redirect: 'manual' });
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_DOCUMENT_BYTES) throw new Error(`${url} answered with more than ${MAX_DOCUMENT_BYTES} bytes`);
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await reader?.read();
    if (!next || next.done) break;
    size += next.value.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      await reader!.cancel();
      throw new Error(`${url} answered with more than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    chunks.push(next.value);
  }
  return new Response(size === 0 ? null : Buffer.concat(chunks), { status: response.status, headers: response.headers });
}

async function boundedJson(url: string, timeoutMs: number): Promise<unknown> {
  const response = await boundedFetch(url, { signal: AbortSignal.timeout(timeoutMs) }).catch((e: unknown) => {
    throw new Error(e instanceof Error && e.name === 'TimeoutError' ? `${url} did not answer in time` : `${url}: ${e instanceof Error ? e.message : String(e)}`);
  });
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  try {
    return await response.json();
  } catch {
    throw new Error(`${url} is not JSON`);
  }
}
