import type { AccessDatabase } from '../db/access-database.js';
import { PawketError, notFound } from '../errors.js';
import { isValidPackageId, lowerId as toLowerId } from '../nuget/id.js';
import type { AuditAction, AuditLog } from './audit.js';
import type { FeedRole } from '../db/people-database.js';
import { roleOn, scopesOfRole } from '../people/roles.js';
import { isValidOnFeed, ownersActedFor, type Actor, type ApiKeyAuthenticator, type Principal } from './auth.js';
import { DEFAULT_FEED_SCOPE, type FeedScope } from './feed-scope.js';
import type { Ownership } from './ownership.js';

/** The feed a PackageAccess guards, and how to name the others (a refusal says where a key is valid). */
export interface GuardedFeed {
  readonly scope: FeedScope;
  /** A feed's name by id, from the definitions in memory; undefined for a feed deleted since. */
  readonly nameOf: (feedId: number) => string | undefined;
  /** Whether the feed is private: a person's default role applies only to feeds that are not. */
  readonly isPrivate?: boolean;
}

/**
 * What the publish and manage use cases ask before they change a package, and how they record what they did.
 * Symbol packages (issue 9) use the same checks: `authorizePushToExisting`.
 */
export interface PackageGuard {
  /** Push of a package with this id: creates (and claims) the id when it is new. 403 naming the id when refused. */
  authorizePush(principal: Principal, id: string): Promise<void>;
  /** Unlist, relist or delete a version of this id. 403 naming the id when refused. */
  authorizeUnlist(principal: Principal, id: string): Promise<void>;
  /**
   * Deprecate versions of this id or file (withdraw) an advisory for it: owners with the unlist scope; for an id
   * that has no package here (an upstream one), admins only. 403 naming the id when refused.
   */
  authorizeAdvisory(principal: Principal, id: string): Promise<void>;
  /** Records a change in the audit log; never throws (the change has happened; a failed write is reported). */
  record(actor: Actor, action: AuditAction, target: string, detail?: string | null): Promise<void>;
}

/**
 * Decides who may act on this feed and change which package id: first whether the key is valid on this feed, then
 * its scopes and patterns (ApiKeyAuthenticator), then ownership and prefix reservations (this feed's). The first push
 * of an id claims it for the key's owner; the database's primary key decides between concurrent first pushes.
 * Refusals of authenticated keys are audited as `*.denied`.
 */
export class PackageAccess implements PackageGuard {
  constructor(
    private readonly auth: ApiKeyAuthenticator,
    private readonly store: AccessDatabase,
    private readonly ownership: Ownership,
    private readonly audit: AuditLog,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly feed: GuardedFeed = { scope: DEFAULT_FEED_SCOPE, nameOf: () => undefined },
  ) {}

  /**
   * Whether the principal's key is valid on this feed: the one place that decides it. Every request that carries a key
   * asks it (http/access-control.ts), and so does every check below.
   */
  isValidHere(principal: Principal): boolean {
    return isValidOnFeed(principal, this.feed.scope.id) && (principal.roles === undefined || this.roleHere(principal) !== null);
  }

  /** A person's role on this feed; null for none, and for principals that roles do not apply to. */
  roleHere(principal: Principal): FeedRole | null {
    return principal.roles ? roleOn(principal.roles, this.feed.scope.id, this.feed.isPrivate ?? false) : null;
  }

  /**
   * The principal as it may act here: a person's scopes (a session's, or a key's they made) cut down to their role on
   * this feed. The request authenticator applies it to every principal of a feed's request; the checks below again.
   */
  onFeed(principal: Principal): Principal {
    if (!principal.roles) return principal;
    const role = this.roleHere(principal);
    const allowed = new Set(role ? scopesOfRole(role) : []);
    const scopes = new Set([...principal.scopes].filter((s) => allowed.has(s)));
    return scopes.size === principal.scopes.size ? principal : { ...principal, scopes };
  }

  /** Why a key is refused here, naming the feeds it is valid on. */
  notValidHere(principal: Principal): string {
    if (isValidOnFeed(principal, this.feed.scope.id) && principal.roles) {
      return `${principal.owner} has no role on feed '${this.feed.scope.name}': an owner of the feed or an admin can grant one.`;
    }
    const names = (principal.feeds ?? []).map((id) => this.feed.nameOf(id)).filter((n): n is string => n !== undefined);
    return `This API key is not valid on feed '${this.feed.scope.name}' (it is valid on: ${names.join(', ') || 'no feed that exists now'}).`;
  }

  /** 403 for a key that is not valid on this feed, audited as `action` on `target` (what the request was about). */
  async authorizeFeed(principal: Principal, action: AuditAction = 'access.denied', target = '(this feed)'): Promise<void> {
    await this.denialsAudited(principal, action, target, async () => this.requireFeed(principal));
  }

  async authorizePush(given: Principal, id: string): Promise<void> {
    const principal = this.onFeed(given);
    await this.denialsAudited(principal, 'push.denied', id, async () => {
      this.requireFeed(principal);
      const lid = toLowerId(id);
      let registration = await this.store.registration(lid);
      if (!registration.registered && !(await this.store.hasPackages(lid))) {
        this.auth.authorizePush(principal, id, { isNew: true });
        const reservation = await this.reservationAllowing(principal, id, lid, 'create');
        // An admin creating an id under someone's prefix creates it for them too.
        const owners = reservation && reservation.owner !== principal.owner ? [principal.owner, reservation.owner] : [principal.owner];
        if (await this.store.claimId(lid, owners, new Date().toISOString())) return;
        // Another first push won the race: decide as for an existing id.
        registration = await this.store.registration(lid);
      }
      this.auth.authorizePush(principal, id, { isNew: false });
      this.requireOwner(principal, id, registration.owners, 'push');
    });
  }

  /** May this key push anything at all? Asked before a pushed body is read (the id is not known yet). */
  async authorizeAnyPush(given: Principal): Promise<void> {
    const principal = this.onFeed(given);
    await this.denialsAudited(principal, 'push.denied', '(any package)', async () => {
      this.requireFeed(principal);
      this.auth.authorizeAnyPush(principal);
    });
  }

  /** May this key stage anything at all (`stage` or a push scope)? Asked before an uploaded body is read. */
  async authorizeAnyStage(given: Principal): Promise<void> {
    const principal = this.onFeed(given);
    await this.denialsAudited(principal, 'stage.denied', '(any package)', async () => {
      this.requireFeed(principal);
      this.auth.authorizeAnyStage(principal);
    });
  }

  /**
   * Staging a package with this id: the checks of a push (key valid here, scopes, id patterns, prefix reservations,
   * ownership of an existing id) without claiming a new id: promotion claims it. 403 naming the id when refused.
   */
  async authorizeStage(given: Principal, id: string): Promise<void> {
    const principal = this.onFeed(given);
    await this.denialsAudited(principal, 'stage.denied', id, async () => {
      this.requireFeed(principal);
      const lid = toLowerId(id);
      const registration = await this.store.registration(lid);
      if (!registration.registered && !(await this.store.hasPackages(lid))) {
        this.auth.authorizeStage(principal, id, { isNew: true });
        await this.reservationAllowing(principal, id, lid, 'stage');
        return;
      }
      this.auth.authorizeStage(principal, id, { isNew: false });
      this.requireOwner(principal, id, registration.owners, 'stage');
    });
  }

  /**
   * Promoting a package staged by `stagedOwner`: the rights of a push of this id (scopes, prefix reservations,
   * ownership of an existing id), checked without claiming a new id: the promotion's transaction registers it, for the
   * owners returned (empty when the id is registered already). 403 naming the id when refused.
   */
  async authorizePromote(given: Principal, id: string, stagedOwner: string): Promise<string[]> {
    const principal = this.onFeed(given);
    return this.denialsAudited(principal, 'promote.denied', id, async () => {
      this.requireFeed(principal);
      const lid = toLowerId(id);
      const registration = await this.store.registration(lid);
      if (!registration.registered && !(await this.store.hasPackages(lid))) {
        this.auth.authorizePush(principal, id, { isNew: true });
        const reservation = await this.reservationAllowing(principal, id, lid, 'promote');
        return reservation && reservation.owner !== stagedOwner ? [stagedOwner, reservation.owner] : [stagedOwner];
      }
      this.auth.authorizePush(principal, id, { isNew: false });
      this.requireOwner(principal, id, registration.owners, 'promote');
      return [];
    });
  }

  /** For pushes that need the id to exist already (symbol packages): never claims. 404 for an unknown id. */
  async authorizePushToExisting(given: Principal, id: string): Promise<void> {
    const principal = this.onFeed(given);
    await this.denialsAudited(principal, 'push.denied', id, async () => {
      this.requireFeed(principal);
      const lid = toLowerId(id);
      const registration = await this.store.registration(lid);
      if (!registration.registered && !(await this.store.hasPackages(lid))) {
        throw notFound(`Package ${id} was not found on this feed: push the package first.`);
      }
      this.auth.authorizePush(principal, id, { isNew: false });
      this.requireOwner(principal, id, registration.owners, 'push');
    });
  }

  async authorizeUnlist(given: Principal, id: string): Promise<void> {
    const principal = this.onFeed(given);
    await this.denialsAudited(principal, 'unlist.denied', id, async () => {
      // An unknown id: let the use case answer 404.
      await this.requireManager(principal, id, 'unlist, relist or delete');
    });
  }

  /** Add or remove owners of an id: what unlisting needs (an owner with the unlist scope, or an admin). 404 for an unknown id. */
  async authorizeOwners(given: Principal, id: string): Promise<void> {
    const principal = this.onFeed(given);
    await this.denialsAudited(principal, 'owner.denied', id, async () => {
      if (!(await this.requireManager(principal, id, 'manage the owners of'))) throw notFound(`Package ${id} was not found on this feed.`);
    });
  }

  /**
   * Whether the principal may unlist, relist, delete and deprecate versions of an id that has packages here (what a
   * package page asks before it offers those forms): the checks of {@link authorizeUnlist}, answered without auditing.
   */
  async mayManage(given: Principal, id: string): Promise<boolean> {
    try {
      return await this.requireManager(this.onFeed(given), id, 'manage');
    } catch (err) {
      if (err instanceof PawketError && err.status === 403) return false;
      throw err;
    }
  }

  async authorizeAdvisory(given: Principal, id: string): Promise<void> {
    const principal = this.onFeed(given);
    const what = 'deprecate or file advisories for';
    await this.denialsAudited(principal, 'advisory.denied', id, async () => {
      this.requireFeed(principal);
      this.auth.authorizeUnlist(principal, id, what);
      const lid = toLowerId(id);
      const registration = await this.store.registration(lid);
      if (!registration.registered && !(await this.store.hasPackages(lid))) {
        if (this.auth.isAdmin(principal)) return;
        throw new PawketError(403, `Package ${id} has no version on this feed: only an admin may ${what} it.`);
      }
      this.requireOwner(principal, id, registration.owners, what);
    });
  }

  async record(actor: Actor, action: AuditAction, target: string, detail: string | null = null): Promise<void> {
    try {
      await this.audit.record(await this.actingFor(actor, target), action, target, detail);
    } catch (err) {
      this.onError(err);
    }
  }

  /**
   * A person acting on an id through one of their organisations is recorded with that organisation as the owner
   * acted for (the actor stays the person). Targets of package actions start with the id.
   */
  private async actingFor(actor: Actor, target: string): Promise<Actor> {
    const orgs = (actor as Partial<Principal>).actsFor;
    if (!orgs || orgs.length === 0 || actor.owner === null) return actor;
    const id = target.split(' ')[0]!;
    if (!isValidPackageId(id)) return actor;
    const { owners } = await this.store.registration(toLowerId(id));
    if (owners.includes(actor.owner)) return actor;
    const org = orgs.find((o) => owners.includes(o));
    return org ? { ...actor, owner: org } : actor;
  }

  private requireFeed(principal: Principal): void {
    if (!this.isValidHere(principal)) throw new PawketError(403, this.notValidHere(principal));
  }

  /** 403 unless the principal may change the id's versions; false (allowed, nothing to change) for an unknown id. */
  private async requireManager(principal: Principal, id: string, what: string): Promise<boolean> {
    this.requireFeed(principal);
    this.auth.authorizeUnlist(principal, id, what);
    const lid = toLowerId(id);
    const registration = await this.store.registration(lid);
    if (!registration.registered && !(await this.store.hasPackages(lid))) return false;
    this.requireOwner(principal, id, registration.owners, what);
    return true;
  }

  /** The prefix reservation governing a new id, once it allows the principal to `what` it (403 naming it otherwise). */
  private async reservationAllowing(principal: Principal, id: string, lid: string, what: string) {
    const reservation = await this.ownership.governing(lid);
    if (reservation && !ownersActedFor(principal).includes(reservation.owner) && !this.auth.isAdmin(principal)) {
      throw new PawketError(
        403,
        `Package id ${id} is under the prefix ${reservation.pattern} reserved for ${reservation.owner}; the API key ${principal.name} belongs to ${principal.owner} and may not ${what} it.`,
      );
    }
    return reservation;
  }

  private requireOwner(principal: Principal, id: string, owners: readonly string[], what: string): void {
    if (this.auth.isAdmin(principal) || ownersActedFor(principal).some((o) => owners.includes(o))) return;
    if (owners.length === 0) {
      throw new PawketError(403, `Package id ${id} has no owner on this feed: only an admin may ${what} it (an admin can add an owner: pawket owners add ${id} OWNER).`);
    }
    throw new PawketError(
      403,
      `Package id ${id} is owned by ${owners.join(', ')}; the API key ${principal.name} belongs to ${principal.owner} and may not ${what} it.`,
    );
  }

  private async denialsAudited<T>(principal: Principal, action: AuditAction, id: string, check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } catch (err) {
      if (err instanceof PawketError && err.status === 403) await this.record(principal, action, id, err.message);
      throw err;
    }
  }
}
