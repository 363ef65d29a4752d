import type { SignInConfig } from '../config/schema.js';
import type { KeyScope } from '../db/access-database.js';
import type { FeedRole, OrgMembership, PeopleDatabase, UserRecord } from '../db/people-database.js';
import { PawketError } from '../errors.js';
import type { KeyHolders, Principal } from '../feed/auth.js';
import { strongerRole, type PersonRoles } from './roles.js';

/** What a person may do wherever their role allows it; admins have `admin` instead. */
const PERSON_SCOPES: readonly KeyScope[] = ['read', 'push-new', 'push', 'unlist', 'stage'];

/** How long a person's organisations and roles are used before they are read again (ms): changes apply within this. */
const HOLDER_TTL_MS = 5_000;
const HOLDER_CACHE_MAX = 10_000;

/** A person with what they belong to, read at once. */
export interface Person {
  readonly user: UserRecord;
  readonly memberships: readonly OrgMembership[];
  /** Absent for admins: roles do not limit them. */
  readonly roles: PersonRoles | undefined;
}

/**
 * People (docs/SIGN-IN.md): who a signed-in user is, what they belong to, and what they may do, as a Principal, the
 * same type keys resolve to, so that the web UI, the APIs and the command line decide rights in one place
 * (feed/access.ts with the person's roles, ownership with their organisations).
 */
export class People implements KeyHolders {
  private readonly holders = new Map<number, { person: Person | null; until: number }>();

  constructor(
    readonly db: PeopleDatabase,
    readonly config: SignInConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** A user with their organisations and roles; null when there is no such user. */
  async person(userId: number): Promise<Person | null> {
    const user = await this.db.getUser(userId);
    if (!user) return null;
    const memberships = await this.db.membershipsOf(userId);
    return { user, memberships, roles: this.isAdmin(user) ? undefined : await this.rolesOf(user, memberships) };
  }

  /** Admins: marked in the database (`pawket users update --admin`), or named in `signIn.admins`. */
  isAdmin(user: UserRecord): boolean {
    return user.admin || this.config.admins.some((name) => name.toLowerCase() === user.name);
  }

  /** Roles granted to the user, their organisations and their groups, on every feed; plus the default role. */
  async rolesOf(user: UserRecord, memberships: readonly OrgMembership[]): Promise<PersonRoles> {
    const grants = await this.db.rolesOf({ users: [user.name], orgs: memberships.map((m) => m.org), groups: user.groups });
    const granted = new Map<number, FeedRole>();
    for (const g of grants) granted.set(g.feedId, strongerRole(granted.get(g.feedId), g.role)!);
    const everyPublicFeed = this.config.defaultRole === 'none' ? null : this.config.defaultRole;
    return { granted, everyPublicFeed };
  }

  /** The principal of a person acting in the browser (a session). */
  principalOf(person: Person, address: string | null): Principal {
    const { user } = person;
    return {
      name: user.name,
      keyId: null,
      owner: user.name,
      actsFor: person.memberships.map((m) => m.org),
      scopes: new Set<KeyScope>(person.roles ? PERSON_SCOPES : ['admin']),
      patterns: [],
      feeds: null,
      address,
      userId: user.userId,
      ...(person.roles ? { roles: person.roles } : {}),
    };
  }

  /** Why a person may not act (disabled), or null. */
  refusal(user: UserRecord): string | null {
    return user.disabled ? `the account ${user.name} was disabled on ${user.disabled}.` : null;
  }

  /** KeyHolders: a key a person made acts for them (or one of their organisations) with their roles of now. */
  async holderOf(userId: number, keyOwner: string): Promise<Pick<Principal, 'userId' | 'actsFor' | 'roles'> | { readonly refused: string }> {
    const person = await this.cachedPerson(userId);
    if (!person) return { refused: 'the account that made it no longer exists.' };
    const refusal = this.refusal(person.user);
    if (refusal) return { refused: refusal };
    if (keyOwner !== person.user.name && !person.memberships.some((m) => m.org === keyOwner)) {
      return { refused: `${person.user.name} is no longer a member of ${keyOwner}.` };
    }
    // A key made for an organisation acts for it alone; a personal key for the person and their organisations.
    const actsFor = keyOwner === person.user.name ? person.memberships.map((m) => m.org) : [];
    return { userId, actsFor, ...(person.roles ? { roles: person.roles } : {}) };
  }

  /** Forgets what is cached about a person (after their memberships, roles or state changed on this node). */
  forget(userId?: number): void {
    if (userId === undefined) this.holders.clear();
    else this.holders.delete(userId);
  }

  /** A user by name, or a 404 naming it. */
  async requireUser(name: string): Promise<UserRecord> {
    const user = await this.db.findUser(name);
    if (!user) throw new PawketError(404, `There is no user ${name.slice(0, 80)}.`);
    return user;
  }

  private async cachedPerson(userId: number): Promise<Person | null> {
    const now = this.now();
    const cached = this.holders.get(userId);
    if (cached && cached.until > now) return cached.person;
    const person = await this.person(userId);
    if (this.holders.size >= HOLDER_CACHE_MAX) this.holders.clear();
    this.holders.set(userId, { person, until: now + HOLDER_TTL_MS });
    return person;
  }
}
