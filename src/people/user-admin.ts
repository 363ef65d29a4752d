import type { AccessDatabase, ApiKeyRecord } from '../db/access-database.js';
import type { OrgMembership, UserRecord } from '../db/people-database.js';
import { PawketError } from '../errors.js';
import type { AuditLog } from '../feed/audit.js';
import type { Actor } from '../feed/auth.js';
import type { People } from './people.js';
import type { SessionStore } from './sessions.js';

/** A user as the admin pages and `pawket users` show them. */
export interface UserSummary {
  readonly user: UserRecord;
  /** Admin in the database or by `signIn.admins`. */
  readonly admin: boolean;
  /** Admin because `signIn.admins` names them (the database flag cannot take it away). */
  readonly adminByConfig: boolean;
  readonly memberships: readonly OrgMembership[];
}

/**
 * Managing users (the admin pages, `pawket users`): listing, disabling and enabling, the admin flag; each audited.
 * Disabling ends the user's sessions everywhere (they are in the database) and stops their keys: at once on this
 * node (its caches forget them), within the caches' 5 s on other nodes.
 */
export class UserAdmin {
  constructor(
    private readonly people: People,
    private readonly sessions: SessionStore,
    private readonly keys: Pick<AccessDatabase, 'listKeysOf'>,
    private readonly audit: AuditLog,
    /** This node's key cache (none from the command line). */
    private readonly keyCache: { forget(keyId: string): void } | null = null,
  ) {}

  async list(): Promise<UserSummary[]> {
    const db = this.people.db;
    const users = await db.listUsers();
    // One query per organisation rather than per user: companies have far fewer organisations than people.
    const byUser = new Map<number, OrgMembership[]>();
    for (const org of await db.listOrgs()) {
      for (const m of await db.members(org.orgId)) byUser.set(m.userId, [...(byUser.get(m.userId) ?? []), m]);
    }
    return users.map((user) => ({
      user,
      admin: this.people.isAdmin(user),
      adminByConfig: this.adminByConfig(user),
      memberships: (byUser.get(user.userId) ?? []).sort((a, b) => a.org.localeCompare(b.org)),
    }));
  }

  /** A user with their organisations and the keys they made. */
  async show(name: string): Promise<UserSummary & { readonly keys: readonly ApiKeyRecord[] }> {
    const user = await this.people.requireUser(name);
    return { ...(await this.summary(user)), keys: await this.keys.listKeysOf(user.userId) };
  }

  /** Disables (or enables) a user; disabling ends their sessions and stops their keys. */
  async setDisabled(actor: Actor, name: string, disabled: boolean): Promise<{ user: UserRecord; sessionsEnded: number; changed: boolean }> {
    const user = await this.people.requireUser(name);
    if (Boolean(user.disabled) === disabled) return { user, sessionsEnded: 0, changed: false };
    await this.people.db.setUserDisabled(user.userId, disabled ? new Date().toISOString() : null);
    let sessionsEnded = 0;
    if (disabled) {
      sessionsEnded = await this.sessions.endAllOf(user.userId);
      for (const key of await this.keys.listKeysOf(user.userId)) this.keyCache?.forget(key.keyId);
    }
    this.people.forget(user.userId);
    await this.audit.record(actor, disabled ? 'user.disable' : 'user.enable', user.name, disabled ? `${sessionsEnded} session(s) ended` : null);
    return { user: (await this.people.db.getUser(user.userId))!, sessionsEnded, changed: true };
  }

  /** Makes a user an admin, or no longer one (in the database: `signIn.admins` still counts). */
  async setAdmin(actor: Actor, name: string, admin: boolean): Promise<{ user: UserRecord; changed: boolean; adminByConfig: boolean }> {
    const user = await this.people.requireUser(name);
    const adminByConfig = this.adminByConfig(user);
    if (user.admin === admin) return { user, changed: false, adminByConfig };
    if (!(await this.people.db.setUserAdmin(user.userId, admin))) throw new PawketError(404, `There is no user ${user.name}.`);
    this.people.forget(user.userId);
    await this.audit.record(actor, 'user.admin', user.name, admin ? 'made an admin' : 'no longer an admin');
    return { user: (await this.people.db.getUser(user.userId))!, changed: true, adminByConfig };
  }

  private adminByConfig(user: UserRecord): boolean {
    return this.people.isAdmin({ ...user, admin: false });
  }

  private async summary(user: UserRecord): Promise<UserSummary> {
    return { user, admin: this.people.isAdmin(user), adminByConfig: this.adminByConfig(user), memberships: await this.people.db.membershipsOf(user.userId) };
  }
}
