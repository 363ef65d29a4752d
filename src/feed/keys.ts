import { randomBytes } from 'node:crypto';
import { KEY_SCOPES, type AccessDatabase, type ApiKeyRecord, type KeyScope } from '../db/access-database.js';
import { PawketError, badRequest, notFound } from '../errors.js';
import { isIdPattern, notAnIdPattern } from '../nuget/id-pattern.js';
import type { AuditLog } from './audit.js';
import { generateApiKey, hashApiKey, type Actor, type ApiKeyAuthenticator } from './auth.js';
import { ownerName } from './ownership.js';

/** What an admin asks for when creating a key. */
export interface NewKeyRequest {
  readonly name: string;
  readonly owner: string;
  readonly scopes: readonly string[];
  /** Glob patterns on ids (`Contoso.*`); none means any id. */
  readonly patterns?: readonly string[];
  /** ISO 8601 time, or a duration from now such as `90d`, `12h`; none means the key never expires. */
  readonly expires?: string | null;
  /** Ids of the feeds the key is valid on; none or null: every feed. */
  readonly feeds?: readonly number[] | null;
  /** The person the key is tied to (made on "My keys"): it works while they are enabled, with their roles. */
  readonly userId?: number | null;
}

/** A key just made: `key` is the only time the key itself is ever shown. */
export interface CreatedKey {
  readonly key: string;
  readonly record: ApiKeyRecord;
}

const DURATION = /^(\d{1,6})([mhdw])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * Reads an expiry: an ISO 8601 date or time, or a duration from now (`30m`, `12h`, `90d`, `8w`).
 * @example parseExpiry('90d', new Date('2025-01-01T00:00:00Z')) // '2025-04-01T00:00:00.000Z'
 */
export function parseExpiry(text: string | null | undefined, now: Date = new Date()): string | null {
  if (text === null || text === undefined || text.trim() === '' || text.trim() === 'never') return null;
  const t = text.trim();
  const duration = DURATION.exec(t);
  if (duration) return new Date(now.getTime() + Number(duration[1]) * UNIT_MS[duration[2]!]!).toISOString();
  const ms = /^\d{4}-\d{2}-\d{2}/.test(t) ? Date.parse(t) : NaN;
  if (Number.isNaN(ms)) throw badRequest(`'${t.slice(0, 60)}' is not an expiry: give an ISO date (2026-12-31) or a duration (90d, 12h, 8w).`);
  return new Date(ms).toISOString();
}

export function parseScopes(scopes: readonly string[]): KeyScope[] {
  const list = [...new Set(scopes.flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean))];
  if (list.length === 0) throw badRequest(`A key needs at least one scope: ${KEY_SCOPES.join(', ')}.`);
  for (const s of list) {
    if (!(KEY_SCOPES as readonly string[]).includes(s)) throw badRequest(`'${s.slice(0, 40)}' is not a scope: use ${KEY_SCOPES.join(', ')}.`);
  }
  return list as KeyScope[];
}

export function parsePatterns(patterns: readonly string[] = []): string[] {
  const list = [...new Set(patterns.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean))];
  for (const p of list) {
    if (!isIdPattern(p)) throw badRequest(`${notAnIdPattern(p)}.`);
  }
  return list;
}

/** How keys name feeds: by name (what people type) to id (what a key stores), and back. */
export interface FeedNames {
  /** The id of a feed by name (case-insensitive); undefined when there is none. */
  idOf(name: string): number | undefined;
  /** A feed's name by id; undefined for a feed deleted since. */
  nameOf(id: number): string | undefined;
}

/** FeedNames over a list of feeds (the command line's, read from the database). */
export function feedNamesOf(feeds: ReadonlyArray<{ readonly id: number; readonly name: string }>): FeedNames {
  return {
    idOf: (name) => feeds.find((f) => f.name.toLowerCase() === name.toLowerCase())?.id,
    nameOf: (id) => feeds.find((f) => f.id === id)?.name,
  };
}

/**
 * Reads the feeds a key is for: feed names (a list, or comma-separated), or `*` for every feed (also when none is
 * given). An unknown name is a 400 naming it.
 * @example parseKeyFeeds('dev,release', names) // [2, 3]
 * @example parseKeyFeeds('*', names) // null
 */
export function parseKeyFeeds(input: readonly string[] | string | null | undefined, names: FeedNames): number[] | null {
  if (input === null || input === undefined) return null;
  const list = [...new Set((typeof input === 'string' ? [input] : input).flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean))];
  if (list.length === 0) throw badRequest("Name the feeds the key is for (dev,release), or '*' for every feed.");
  if (list.includes('*')) {
    if (list.length > 1) throw badRequest("A key is for '*' (every feed) or for feeds named one by one, not both.");
    return null;
  }
  const ids = list.map((name) => {
    const id = names.idOf(name);
    if (id === undefined) throw badRequest(`There is no feed '${name.slice(0, 64)}': \`pawket feeds list\` shows the feeds.`);
    return id;
  });
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** A key's feeds as people read them: `*`, or the names of those that still exist. */
export function keyFeedNames(feeds: readonly number[] | null, names: Pick<FeedNames, 'nameOf'>): '*' | string[] {
  if (feeds === null) return '*';
  return feeds.map((id) => names.nameOf(id)).filter((n): n is string => n !== undefined);
}

function keyName(name: string): string {
  const n = name.trim();
  if (n.length === 0 || n.length > 100 || /[\u0000-\u001f\u007f]/.test(n)) throw badRequest('A key name is 1-100 printable characters.');
  return n;
}

/** Whether a key works now. */
export function keyStatus(k: ApiKeyRecord, now: number = Date.now()): 'active' | 'expired' | 'revoked' {
  return k.revoked ? 'revoked' : k.expires && Date.parse(k.expires) <= now ? 'expired' : 'active';
}

/**
 * Creating, listing, revoking and rotating API keys: for admins (the CLI and the admin API) as they ask; people's own
 * keys go through PersonKeys (person-keys.ts), which first checks the request stays within the person's rights.
 */
export class KeyManager {
  constructor(
    private readonly store: AccessDatabase,
    private readonly auth: ApiKeyAuthenticator,
    private readonly audit: AuditLog,
  ) {}

  /**
   * `actor.feeds`: the feeds the creating key is valid on (null or absent: every feed); a key for any other feed, or
   * for every feed, is refused with a 403 so that no key can make a wider one.
   */
  async create(actor: Actor & { readonly feeds?: readonly number[] | null }, request: NewKeyRequest, now: Date = new Date()): Promise<CreatedKey> {
    if (request.feeds?.length === 0) throw badRequest("Name the feeds the key is for, or '*' for every feed.");
    const feeds = request.feeds ? [...new Set(request.feeds)].sort((a, b) => a - b) : null;
    const allowed = actor.feeds ?? null;
    if (allowed !== null && (feeds === null || feeds.some((id) => !allowed.includes(id)))) {
      throw new PawketError(403, `${actor.name} is valid on some feeds only: it may not create a key for ${feeds === null ? 'every feed' : 'feeds it is not valid on'}.`);
    }
    const key = generateApiKey();
    const record: ApiKeyRecord = {
      keyId: `k${randomBytes(6).toString('hex')}`,
      hint: key.slice(-4),
      name: keyName(request.name),
      owner: ownerName(request.owner),
      scopes: parseScopes(request.scopes),
      patterns: parsePatterns(request.patterns),
      created: now.toISOString(),
      createdBy: actor.name,
      expires: parseExpiry(request.expires, now),
      lastUsed: null,
      revoked: null,
      feeds,
      userId: request.userId ?? null,
    };
    await this.store.insertKey({ ...record, hash: hashApiKey(key) });
    const on = feeds === null ? '' : ` on feed ids ${feeds.join(', ')}`;
    await this.audit.record(actor, 'key.create', record.keyId, `${record.name} for ${record.owner}: ${record.scopes.join(', ')}${on}`);
    return { key, record };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.store.listKeys();
  }

  /** The keys a person made. */
  listOf(userId: number): Promise<ApiKeyRecord[]> {
    return this.store.listKeysOf(userId);
  }

  async get(keyId: string): Promise<ApiKeyRecord> {
    const record = await this.store.getKey(keyId);
    if (!record) throw notFound(`There is no API key ${keyId}.`);
    return record;
  }

  async revoke(actor: Actor, keyId: string): Promise<ApiKeyRecord> {
    const record = await this.get(keyId);
    if (!(await this.store.revokeKey(keyId, new Date().toISOString()))) throw notFound(`API key ${keyId} is revoked already.`);
    this.auth.forget(keyId);
    await this.audit.record(actor, 'key.revoke', keyId, record.name);
    return this.get(keyId);
  }

  /**
   * A new secret for the same key (id, name, owner, scopes, patterns); the old secret stops working at once. A key
   * that expires gets its lifetime again from now.
   */
  async rotate(actor: Actor, keyId: string, now: Date = new Date()): Promise<CreatedKey> {
    const old = await this.get(keyId);
    if (old.revoked) throw notFound(`API key ${keyId} is revoked: create a new key instead.`);
    const key = generateApiKey();
    const expires = old.expires ? new Date(now.getTime() + Math.max(0, Date.parse(old.expires) - Date.parse(old.created))).toISOString() : null;
    if (!(await this.store.replaceKeyHash(keyId, hashApiKey(key), key.slice(-4), now.toISOString(), expires))) {
      throw notFound(`API key ${keyId} is revoked: create a new key instead.`);
    }
    this.auth.forget(keyId);
    await this.audit.record(actor, 'key.rotate', keyId, old.name);
    return { key, record: await this.get(keyId) };
  }
}
