import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccessDatabase, ApiKeyRecord, KeyScope, StoredApiKey } from '../db/access-database.js';
import { PawketError } from '../errors.js';
import { matchesIdPattern } from '../nuget/id-pattern.js';
import type { PersonRoles } from '../people/roles.js';

/** Who did something, as the audit log records it. */
export interface Actor {
  /** A label safe to log and show: never the key itself (`key ci-main (k3f9a1c02bd)`, `configured key #1`). */
  readonly name: string;
  /** The key's public id; null for configured keys and the command line. */
  readonly keyId: string | null;
  /** The owner (user or team) acting; null for the command line. */
  readonly owner: string | null;
  /** Remote address of the request; null from the command line. */
  readonly address: string | null;
}

/** Who is calling, once a key checked out. */
export interface Principal extends Actor {
  readonly owner: string;
  readonly scopes: ReadonlySet<KeyScope>;
  /** Glob patterns on package ids the key may write; empty means any id. */
  readonly patterns: readonly string[];
  /** Ids of the feeds the key is valid on; null: every feed (configured keys, the command line, `--feeds '*'`). */
  readonly feeds: readonly number[] | null;
  /** The person acting (signed in, or through a key they made); null or absent otherwise. */
  readonly userId?: number | null;
  /** Owner names besides `owner` whose packages the principal manages: a person's organisations. */
  readonly actsFor?: readonly string[];
  /**
   * A person's roles per feed: on each feed the scopes are cut down to the role's there (PackageAccess.onFeed).
   * Absent: no roles apply (admins, keys made by admins or the command line).
   */
  readonly roles?: PersonRoles;
}

/** Every owner name a principal acts for: its own and its organisations'. */
export function ownersActedFor(principal: Pick<Principal, 'owner' | 'actsFor'>): readonly string[] {
  return principal.actsFor && principal.actsFor.length > 0 ? [principal.owner, ...principal.actsFor] : [principal.owner];
}

/**
 * Whether a principal may act on a feed at all (its scopes then say what it may do there). The feed's PackageAccess
 * asks this for every request that carries a key; the admin API asks it for the feed an owner or prefix belongs to.
 */
export function isValidOnFeed(principal: Pick<Principal, 'feeds'>, feedId: number): boolean {
  return principal.feeds === null || principal.feeds.includes(feedId);
}

/** Whether a principal is valid on every feed, those made later included (what creating keys and feeds needs). */
export function coversEveryFeed(principal: Pick<Principal, 'feeds'>): boolean {
  return principal.feeds === null;
}

/** Owner of the configured (bootstrap) keys and of packages pushed before keys had owners. */
export const BOOTSTRAP_OWNER = 'admin';

/** The command line acting on the feed directly (import, gc): every right, audited under `name`. */
export function operatorPrincipal(name: string): Principal {
  return { name, keyId: null, owner: BOOTSTRAP_OWNER, scopes: new Set<KeyScope>(['admin']), patterns: [], feeds: null, address: null };
}

/** Why a key was refused; the web layer words the 401 for the path (push or private read). */
export type AuthenticationFailure = 'missing' | 'invalid' | 'revoked' | 'expired' | 'disabled';

/** A 401: no usable key. `failure` says which kind, so the caller can count bad keys and word its answer. */
export class AuthenticationError extends PawketError {
  constructor(
    readonly failure: AuthenticationFailure,
    message: string,
  ) {
    super(401, message);
  }
}

/** Prefix of generated keys: recognizable in logs and by secret scanners. */
export const KEY_PREFIX = 'pwk_';

/**
 * A new API key: the prefix and 256 random bits, base64url.
 * @example generateApiKey() // 'pwk_q3V0...' (47 characters)
 */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** How keys are stored: SHA-256, hex. A fast hash is enough for 256 random bits (nothing to brute-force). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Key patterns are id patterns (nuget/id-pattern.ts). */
export { matchesIdPattern };

const hasScope = (p: Principal, ...scopes: KeyScope[]) => p.scopes.has('admin') || scopes.some((s) => p.scopes.has(s));
const scopeList = (p: Principal) => [...p.scopes].join(', ') || 'none';

/**
 * Who holds keys that people made (people/people.ts): what such a key may do follows its person (enabled, their
 * organisations, their roles), read at each use rather than frozen when the key was made.
 */
export interface KeyHolders {
  /** The person's part of the principal, or why the key no longer works (the person is disabled, left the organisation). */
  holderOf(userId: number, keyOwner: string): Promise<Pick<Principal, 'userId' | 'actsFor' | 'roles'> | { readonly refused: string }>;
}

/** Prefix of a session's reference to a configured key: the key's digest (the key itself is never stored). */
const CONFIGURED_REF = 'configured:';

export interface ApiKeyAuthenticatorOptions {
  /** How long a looked-up key is trusted before it is read again (ms): revocations elsewhere apply within this. */
  readonly cacheTtlMs?: number;
  /** Background failures (last-used updates). */
  readonly onError?: (err: unknown) => void;
  readonly now?: () => number;
}

interface CachedKey {
  readonly key: StoredApiKey;
  readonly until: number;
}

const CACHE_MAX = 10_000;
const TOUCH_INTERVAL_MS = 60_000;
/** Longer strings are not keys; they are not even hashed. */
const MAX_KEY_LENGTH = 512;

/**
 * Checks API keys: the configured (bootstrap) keys, which are admin keys, and the keys stored in the database.
 * Decides what a key's scopes and patterns allow; ownership and prefix reservations are decided by PackageAccess.
 *
 * @example
 * const principal = await auth.authenticate(request.headers['x-nuget-apikey'], { address: request.ip });
 * auth.authorizePush(principal, 'Contoso.Core', { isNew: true });
 */
export class ApiKeyAuthenticator {
  private readonly digests: Buffer[];
  private readonly cache = new Map<string, CachedKey>();
  private readonly touched = new Map<string, number>();
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  private holders: KeyHolders | null = null;

  constructor(
    private readonly store: AccessDatabase | null,
    bootstrapKeys: readonly string[],
    private readonly options: ApiKeyAuthenticatorOptions = {},
  ) {
    this.digests = bootstrapKeys.map((k) => createHash('sha256').update(k, 'utf8').digest());
    this.cacheTtlMs = options.cacheTtlMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** Keys people made follow their person from now on (set once the people service exists). */
  setKeyHolders(holders: KeyHolders): void {
    this.holders = holders;
  }

  /**
   * As {@link authenticate}, for signing in to the web UI with a key: also what a session stores to find the key again
   * (its key id, or a configured key's digest), never the key.
   */
  async authenticateForSession(apiKey: string, context: { address?: string | null } = {}): Promise<{ principal: Principal; ref: string }> {
    const principal = await this.authenticate(apiKey, context);
    const ref = principal.keyId ?? `${CONFIGURED_REF}${createHash('sha256').update(apiKey, 'utf8').digest('hex')}`;
    return { principal, ref };
  }

  /** The principal of a session signed in with a key: the key as it is now (revoked, expired: a 401). */
  async authenticateRef(ref: string, context: { address?: string | null } = {}): Promise<Principal> {
    const address = context.address ?? null;
    if (ref.startsWith(CONFIGURED_REF)) {
      const digest = Buffer.from(ref.slice(CONFIGURED_REF.length), 'hex');
      const index = digest.length === 32 ? this.digests.findIndex((d) => timingSafeEqual(d, digest)) : -1;
      if (index >= 0) return this.configuredPrincipal(index, address);
      throw new AuthenticationError('invalid', 'The configured API key this session signed in with is no longer configured: sign in again.');
    }
    const key = this.store ? await this.store.getKey(ref) : null;
    if (!key) throw new AuthenticationError('invalid', 'The API key this session signed in with no longer exists: sign in again.');
    return this.check(key, address);
  }

  private configuredPrincipal(index: number, address: string | null): Principal {
    return {
      name: `configured key #${index + 1}`,
      keyId: null,
      owner: BOOTSTRAP_OWNER,
      scopes: new Set<KeyScope>(['admin']),
      patterns: [],
      // Configured keys are the server's bootstrap keys: every feed.
      feeds: null,
      address,
    };
  }

  /** Throws an AuthenticationError (401) saying what to do. Comparison is constant-time over fixed-length digests. */
  async authenticate(apiKey: string | undefined, context: { address?: string | null } = {}): Promise<Principal> {
    const address = context.address ?? null;
    if (!apiKey) {
      if (await this.noKeysAtAll()) throw this.disabled();
      throw new AuthenticationError('missing', 'An API key is required: pass one with --api-key (header X-NuGet-ApiKey).');
    }
    if (apiKey.length <= MAX_KEY_LENGTH) {
      const digest = createHash('sha256').update(apiKey, 'utf8').digest();
      // Every configured key is compared, so the time taken does not say which one matched.
      let index = -1;
      for (let i = 0; i < this.digests.length; i++) {
        if (timingSafeEqual(this.digests[i]!, digest) && index < 0) index = i;
      }
      if (index >= 0) return this.configuredPrincipal(index, address);
      const stored = await this.lookUp(digest);
      if (stored) return this.check(stored, address);
    }
    if (await this.noKeysAtAll()) throw this.disabled();
    throw new AuthenticationError('invalid', 'The API key is invalid or has been revoked: check the key passed with --api-key (header X-NuGet-ApiKey).');
  }

  /**
   * May this principal push this package id? `isNew`: the id does not exist yet (creating it needs `push-new`).
   * Throws 403 with a reason naming the id.
   */
  authorizePush(principal: Principal, id: string, opts: { isNew: boolean }): void {
    this.authorizeAnyPush(principal);
    this.authorizePattern(principal, id, 'push');
    if (opts.isNew && !hasScope(principal, 'push-new')) {
      throw new PawketError(
        403,
        `The API key ${principal.name} may not create the new package id ${id}: that needs the push-new scope (it has ${scopeList(principal)}).`,
      );
    }
  }

  /** May this principal push anything at all? Decided before a pushed body is read. */
  authorizeAnyPush(principal: Principal): void {
    if (!hasScope(principal, 'push', 'push-new')) {
      throw new PawketError(
        403,
        `The API key ${principal.name} may not push packages: its scopes are ${scopeList(principal)}. Ask an admin for a key with the push or push-new scope.`,
      );
    }
  }

  /**
   * May this principal stage a package with this id (ownership aside)? The `stage` scope, or a push scope: what may
   * push may stage. A new id needs `push-new` or `stage` (staging claims nothing; promotion will).
   */
  authorizeStage(principal: Principal, id: string, opts: { isNew: boolean }): void {
    this.authorizeAnyStage(principal);
    this.authorizePattern(principal, id, 'stage');
    if (opts.isNew && !hasScope(principal, 'push-new', 'stage')) {
      throw new PawketError(
        403,
        `The API key ${principal.name} may not stage the new package id ${id}: that needs the stage or push-new scope (it has ${scopeList(principal)}).`,
      );
    }
  }

  /** May this principal stage anything at all? Decided before an uploaded body is read. */
  authorizeAnyStage(principal: Principal): void {
    if (!hasScope(principal, 'stage', 'push', 'push-new')) {
      throw new PawketError(403, `The API key ${principal.name} may not stage packages: its scopes are ${scopeList(principal)}. It needs the stage (or a push) scope.`);
    }
  }

  /**
   * May this principal unlist, relist or delete versions of this id (ownership aside)? Deprecating and filing
   * advisories are the same kind of maintenance and need the same scope; `what` words the refusal.
   */
  authorizeUnlist(principal: Principal, id: string, what = 'unlist, relist or delete'): void {
    if (!hasScope(principal, 'unlist')) {
      throw new PawketError(
        403,
        `The API key ${principal.name} may not ${what} package ${id}: that needs the unlist scope (it has ${scopeList(principal)}).`,
      );
    }
    this.authorizePattern(principal, id, what);
  }

  /**
   * Managing what belongs to the whole server (keys, feeds, the audit log of every feed): an admin key valid on every
   * feed, so that a key limited to some feeds cannot make itself a wider one.
   */
  authorizeAdmin(principal: Principal): void {
    this.authorizeFeedAdmin(principal);
    if (!coversEveryFeed(principal)) {
      throw new PawketError(
        403,
        `The API key ${principal.name} is an admin key for some feeds only: managing keys, feeds and the audit log needs an admin key valid on every feed.`,
      );
    }
  }

  /** Managing one feed's owners and prefixes: the admin scope (the feed's PackageAccess checks the key is valid there). */
  authorizeFeedAdmin(principal: Principal): void {
    if (!principal.scopes.has('admin')) {
      throw new PawketError(403, `The API key ${principal.name} is not an admin key: managing keys, owners and prefixes needs the admin scope.`);
    }
  }

  isAdmin(principal: Principal): boolean {
    return principal.scopes.has('admin');
  }

  /** Forgets a cached key at once (after it was revoked or rotated on this node). */
  forget(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.key.keyId === keyId) this.cache.delete(hash);
  }

  private authorizePattern(principal: Principal, id: string, what: string): void {
    if (principal.patterns.length === 0 || principal.scopes.has('admin')) return;
    if (principal.patterns.some((p) => matchesIdPattern(p, id))) return;
    throw new PawketError(
      403,
      `The API key ${principal.name} may not ${what} package id ${id}: it is limited to ids matching ${principal.patterns.join(', ')}.`,
    );
  }

  private async lookUp(digest: Buffer): Promise<StoredApiKey | null> {
    if (!this.store) return null;
    const hash = digest.toString('hex');
    const now = this.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.key;
    const stored = await this.store.findKeyByHash(hash);
    // The index found it by hash; compare once more in constant time all the same.
    if (!stored || !timingSafeEqual(Buffer.from(stored.hash, 'hex'), digest)) {
      this.cache.delete(hash);
      return null;
    }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { key: stored, until: now + this.cacheTtlMs });
    return stored;
  }

  private async check(key: ApiKeyRecord, address: string | null): Promise<Principal> {
    const name = `key ${key.name} (${key.keyId})`;
    const now = this.now();
    if (key.revoked) {
      throw new AuthenticationError('revoked', `The API key ${name} was revoked on ${key.revoked}: ask an admin for a new key.`);
    }
    if (key.expires && Date.parse(key.expires) <= now) {
      throw new AuthenticationError('expired', `The API key ${name} expired on ${key.expires}: ask an admin to rotate it or for a new key.`);
    }
    const principal: Principal = { name, keyId: key.keyId, owner: key.owner, scopes: new Set(key.scopes), patterns: key.patterns, feeds: key.feeds, address };
    let held: Awaited<ReturnType<KeyHolders['holderOf']>> | null = null;
    if (key.userId != null) {
      if (!this.holders) throw new AuthenticationError('revoked', `The API key ${name} belongs to a person and this process does not know people.`);
      held = await this.holders.holderOf(key.userId, key.owner);
      if ('refused' in held) throw new AuthenticationError('revoked', `The API key ${name} no longer works: ${held.refused}`);
    }
    await this.touch(key.keyId, now);
    if (!held) return principal;
    // A person who is no longer an admin (roles apply to them again) no longer lends the admin scope to their keys.
    const scopes = held.roles && principal.scopes.has('admin') ? new Set([...principal.scopes].filter((s) => s !== 'admin')) : principal.scopes;
    return { ...principal, ...held, scopes };
  }

  /** Records last use at most once a minute per key (per node), not on every request. */
  private async touch(keyId: string, now: number): Promise<void> {
    if (!this.store) return;
    const last = this.touched.get(keyId);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    if (this.touched.size >= CACHE_MAX) this.touched.clear();
    this.touched.set(keyId, now);
    try {
      await this.store.touchKey(keyId, new Date(now).toISOString());
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  private async noKeysAtAll(): Promise<boolean> {
    if (this.digests.length > 0) return false;
    if (!this.store) return true;
    return (await this.store.countUsableKeys(new Date(this.now()).toISOString())) === 0;
  }

  private disabled(): AuthenticationError {
    return new AuthenticationError(
      'disabled',
      'Pushing is disabled: this feed has no API key configured. Set PAWKET_API_KEY (or "apiKeys" in the config file) on the server, or create a key with `pawket keys create`, then push with --api-key.',
    );
  }
}
