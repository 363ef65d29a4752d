import type { ApiKeyRecord, KeyScope } from '../db/access-database.js';
import { PawketError, badRequest } from '../errors.js';
import { scopesOfRole } from '../people/roles.js';
import type { PackageAccess } from './access.js';
import { ownersActedFor, type Principal } from './auth.js';
import { feedNamesOf, parseKeyFeeds, parsePatterns, parseScopes, type CreatedKey, type KeyManager } from './keys.js';

/** A key's lifetime when a person makes one (days): keys people make always expire. */
export const PERSON_KEY_DAYS = { default: 90, max: 365 } as const;

/** What a person asks for on "My keys". */
export interface PersonKeyRequest {
  readonly name: string;
  /** Their own name, or an organisation they are a member of. */
  readonly owner: string;
  readonly scopes: readonly string[];
  /** Feed names, or `*` for every feed (admins only). */
  readonly feeds: readonly string[] | '*';
  readonly patterns?: readonly string[];
  /** Days until it expires: 1 to PERSON_KEY_DAYS.max. */
  readonly days: number;
}

/** The feeds of the server, as person-keys.ts reads them (FeedHub). */
export interface KeyFeeds {
  definitions(): ReadonlyArray<{ readonly id: number; readonly name: string }>;
  feed(name: string): Promise<{ readonly access: Pick<PackageAccess, 'roleHere'> } | null>;
}

/** Whether a principal is a server admin: the admin scope on every feed, no roles limiting it. */
const isServerAdmin = (p: Principal) => p.scopes.has('admin') && p.feeds === null && p.roles === undefined;

/**
 * Keys people make for themselves ("My keys"): never wider than the rights the person holds when making it. Each
 * scope must be allowed by their role on every feed named; every feed (`*`) and the admin scope are for server
 * admins; the owner is the person or one of their organisations (any member may: membership already lets them act
 * for the organisation's packages). The key carries the person's user id, so it works only while they are enabled and,
 * at each use, with their roles of then (ApiKeyAuthenticator asks People.holderOf).
 */
export class PersonKeys {
  constructor(
    private readonly keys: KeyManager,
    private readonly feeds: KeyFeeds,
  ) {}

  /**
   * `person`: the person's principal as People.principalOf makes it (not cut to any feed). A request wider than their
   * rights is a 403 naming every part that is too broad; nothing is created.
   */
  async create(person: Principal, request: PersonKeyRequest, now: Date = new Date()): Promise<CreatedKey> {
    if (person.userId == null) throw new PawketError(403, 'Only a person signed in with their account makes keys here.');
    const scopes = parseScopes(request.scopes);
    const patterns = parsePatterns(request.patterns);
    const feeds = parseKeyFeeds(request.feeds === '*' ? '*' : request.feeds, feedNamesOf(this.feeds.definitions()));
    const days = keyDays(request.days);
    const owner = request.owner.trim().toLowerCase();
    const tooBroad = await this.beyondRights(person, owner, scopes, feeds);
    if (tooBroad.length > 0) {
      throw new PawketError(403, `This key would be broader than your rights, so it was not created: ${tooBroad.join('; ')}.`);
    }
    return this.keys.create(
      person,
      { name: request.name, owner, scopes, patterns, feeds, expires: `${days}d`, userId: person.userId },
      now,
    );
  }

  /** The keys the person made, newest first. */
  async list(userId: number): Promise<ApiKeyRecord[]> {
    return (await this.keys.listOf(userId)).reverse();
  }

  /** Revokes one of the person's keys (`admin`: anyone's). */
  async revoke(actor: Principal, keyId: string, admin: boolean): Promise<ApiKeyRecord> {
    await this.ownKey(actor, keyId, admin, 'revoke');
    return this.keys.revoke(actor, keyId);
  }

  /** A new secret for one of the person's keys (`admin`: anyone's); shown once. */
  async rotate(actor: Principal, keyId: string, admin: boolean): Promise<CreatedKey> {
    await this.ownKey(actor, keyId, admin, 'rotate');
    return this.keys.rotate(actor, keyId);
  }

  private async ownKey(actor: Principal, keyId: string, admin: boolean, what: string): Promise<ApiKeyRecord> {
    const record = await this.keys.get(keyId);
    if (admin || (actor.userId != null && record.userId === actor.userId)) return record;
    throw new PawketError(403, `The key ${keyId} is not one you made: you may ${what} only your own keys.`);
  }

  /** Every way the request exceeds what the person may do (empty: within their rights). */
  private async beyondRights(person: Principal, owner: string, scopes: readonly KeyScope[], feeds: readonly number[] | null): Promise<string[]> {
    const problems: string[] = [];
    const owners = ownersActedFor(person);
    if (!owners.includes(owner)) {
      problems.push(`the owner ${owner.slice(0, 64)} is neither you nor an organisation you are a member of (you may use ${owners.join(', ')})`);
    }
    if (isServerAdmin(person)) return problems;
    if (scopes.includes('admin')) problems.push('the admin scope is for server admins');
    if (feeds === null) {
      problems.push('every feed (*) is for server admins: choose the feeds the key is for');
      return problems;
    }
    for (const id of feeds) {
      const name = this.feeds.definitions().find((d) => d.id === id)?.name;
      const feed = name === undefined ? null : await this.feeds.feed(name);
      const role = feed ? feed.access.roleHere(person) : null;
      if (!role) {
        problems.push(`you have no role on the feed ${name ?? `#${id}`}`);
        continue;
      }
      const allowed = scopesOfRole(role);
      const beyond = scopes.filter((s) => s !== 'admin' && !allowed.includes(s));
      if (beyond.length > 0) problems.push(`on the feed ${name} you are a ${role}, which does not allow ${beyond.join(', ')}`);
    }
    return problems;
  }
}

/** A key's lifetime in days, bounded. */
function keyDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > PERSON_KEY_DAYS.max) {
    throw badRequest(`A key expires after 1 to ${PERSON_KEY_DAYS.max} days.`);
  }
  return days;
}
