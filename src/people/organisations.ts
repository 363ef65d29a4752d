import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { KyselyTrustDatabase } from '../db/kysely-trust-database.js';
import { ORG_ROLES, type OrgMembership, type OrgRecord, type OrgRole, type UserRecord } from '../db/people-database.js';
import { badRequest, notFound, PawketError } from '../errors.js';
import { AuditLog } from '../feed/audit.js';
import type { FeedHub } from '../feed/hub.js';
import { ownerName } from '../feed/ownership.js';
import type { Acting } from './acting.js';
import type { People } from './people.js';

const MAX_DESCRIPTION = 1000;

/** An organisation as a list shows it, with the asker's role in it (null: not a member). */
export interface OrgSummary extends OrgRecord {
  readonly yourRole: OrgRole | null;
}

/** An organisation with its members, as its page and `pawket orgs show` show it. */
export interface OrgDetails {
  readonly org: OrgRecord;
  readonly members: readonly OrgMembership[];
  /** Whether the asker may change its members and description. */
  readonly canManage: boolean;
}

/** What an owner name holds on one feed: the ids it owns and the prefixes reserved for it. */
export interface Holdings {
  readonly feedId: number;
  readonly feed: string;
  readonly ids: readonly string[];
  readonly prefixes: readonly string[];
}

export function checkOrgRole(role: string): OrgRole {
  const r = role.trim().toLowerCase();
  if (!(ORG_ROLES as readonly string[]).includes(r)) throw badRequest(`'${role.slice(0, 40)}' is not an organisation role: use ${ORG_ROLES.join(' or ')}.`);
  return r as OrgRole;
}

function checkDescription(description: string): string {
  if (description.length > MAX_DESCRIPTION) throw badRequest(`The description may have at most ${MAX_DESCRIPTION} characters.`);
  return description.trim();
}

/**
 * Organisations (docs/ORGANISATIONS.md): owner names that people belong to, as `member` (acts for its packages) or `admin`
 * (also manages its members and description). Any signed-in person may create one and becomes its first admin, as on
 * public package hosts; server admins manage every organisation, and only they delete one (never while it owns
 * packages or holds prefixes: those would lose their owner). Every change is audited in the default feed's log
 * (organisations are the server's, like keys), and forgets the cached rights of this node (others within 5 s).
 */
export class Organisations {
  private readonly audit: AuditLog;

  constructor(
    private readonly people: People,
    private readonly hub: FeedHub,
  ) {
    this.audit = new AuditLog(new KyselyAccessDatabase(hub.shared.kysely, DEFAULT_FEED_ID));
  }

  private get db() {
    return this.people.db;
  }

  /** Admins: every organisation; anyone else: their own. */
  async list(acting: Acting): Promise<OrgSummary[]> {
    const mine = acting.userId === null ? [] : await this.db.membershipsOf(acting.userId);
    const roleIn = new Map(mine.map((m) => [m.orgId, m.role]));
    if (acting.admin) return (await this.db.listOrgs()).map((o) => ({ ...o, yourRole: roleIn.get(o.orgId) ?? null }));
    const orgs = await Promise.all(mine.map((m) => this.db.findOrg(m.org)));
    return orgs.filter((o): o is OrgRecord => o !== null).map((o) => ({ ...o, yourRole: roleIn.get(o.orgId) ?? null }));
  }

  /**
   * Creates an organisation. A person creating it becomes its admin; a server admin may name its first admin
   * (`firstAdmin`, a user name) instead.
   */
  async create(acting: Acting, input: { name: string; description?: string; firstAdmin?: string | undefined }): Promise<OrgDetails> {
    if (!acting.admin && acting.userId === null) throw new PawketError(403, 'Only a signed-in person or an admin may create an organisation.');
    const name = ownerName(input.name);
    const description = checkDescription(input.description ?? '');
    let first: UserRecord | null = null;
    if (input.firstAdmin) {
      if (!acting.admin) throw new PawketError(403, 'Only an admin may make someone else the first admin of a new organisation.');
      first = await this.people.requireUser(input.firstAdmin);
    } else if (acting.userId !== null) {
      first = await this.db.getUser(acting.userId);
    }
    if (!(await this.db.insertOrg(name, description, new Date().toISOString()))) {
      throw new PawketError(409, `The name ${name} is taken by a user or an organisation (owner names are one namespace).`);
    }
    const org = (await this.db.findOrg(name))!;
    if (first) await this.db.putMember(org.orgId, first.userId, 'admin', 'direct');
    await this.audit.record(acting.actor, 'org.create', name, first ? `admin: ${first.name}` : null);
    if (first) this.people.forget(first.userId);
    return this.show(acting, name);
  }

  /** An organisation with its members: for its members and admins (404 for anyone else: it says nothing). */
  async show(acting: Acting, name: string): Promise<OrgDetails> {
    const org = await this.requireOrg(name);
    const members = await this.db.members(org.orgId);
    const me = members.find((m) => m.userId === acting.userId);
    if (!acting.admin && !me) throw noSuchOrg(name);
    return { org, members, canManage: acting.admin || me?.role === 'admin' };
  }

  async updateDescription(acting: Acting, name: string, description: string): Promise<OrgRecord> {
    const { org } = await this.requireManager(acting, name);
    const text = checkDescription(description);
    await this.db.updateOrg(org.name, text);
    await this.audit.record(acting.actor, 'org.update', org.name, text ? `description: ${text.slice(0, 200)}` : 'description removed');
    return { ...org, description: text };
  }

  /**
   * Server admins only; refused (409, naming them) while the organisation owns package ids, holds prefixes or has
   * trust policies.
   */
  async delete(acting: Acting, name: string): Promise<OrgRecord> {
    if (!acting.admin) throw new PawketError(403, 'Only an admin may delete an organisation.');
    const org = await this.requireOrg(name);
    const held = (await this.holdings(org.name)).filter((h) => h.ids.length > 0 || h.prefixes.length > 0);
    if (held.length > 0) {
      const what = held.map((h) => {
        const parts = [];
        if (h.ids.length) parts.push(`owns ${list(h.ids)}`);
        if (h.prefixes.length) parts.push(`holds the prefix${h.prefixes.length > 1 ? 'es' : ''} ${list(h.prefixes)}`);
        return `on feed '${h.feed}' it ${parts.join(' and ')}`;
      });
      throw new PawketError(409, `The organisation ${org.name} cannot be deleted: ${what.join('; ')}. Give them other owners (or release the prefixes) first.`);
    }
    // A policy left behind would issue keys for whoever takes the name next.
    const policies = (await new KyselyTrustDatabase(this.hub.shared.kysely).listPolicies()).filter((p) => p.owner === org.name);
    if (policies.length > 0) {
      throw new PawketError(409, `The organisation ${org.name} cannot be deleted: it has trust policies (${list(policies.map((p) => `${p.policyId} ${p.name}`))}). Delete them first (\`pawket trust delete ID\`).`);
    }
    const members = await this.db.members(org.orgId);
    await this.db.deleteOrg(org.name);
    await this.audit.record(acting.actor, 'org.delete', org.name, members.length ? `members: ${members.map((m) => m.user).join(', ')}` : null);
    this.people.forget();
    return org;
  }

  /**
   * Adds a member or changes their role (a membership from group claims becomes a direct one). Org admins and server
   * admins; the last admin cannot be made a member.
   */
  async putMember(acting: Acting, orgName: string, userName: string, roleText: string): Promise<OrgMembership> {
    const role = checkOrgRole(roleText);
    const { org, members } = await this.requireManager(acting, orgName);
    const user = await this.people.requireUser(userName);
    const before = members.find((m) => m.userId === user.userId);
    if (before?.role === 'admin' && role !== 'admin') this.refuseLastAdmin(org, members, user, 'made a member');
    await this.db.putMember(org.orgId, user.userId, role, 'direct');
    const action = before ? 'org.member.change' : 'org.member.add';
    await this.audit.record(acting.actor, action, org.name, `${user.name}: ${before ? `${before.role} -> ` : ''}${role}`);
    this.people.forget(user.userId);
    return { orgId: org.orgId, org: org.name, userId: user.userId, user: user.name, role, source: 'direct' };
  }

  /** Removes a member: org admins and server admins, or the member themselves (leaving); never the last admin. */
  async removeMember(acting: Acting, orgName: string, userName: string): Promise<void> {
    const org = await this.requireOrg(orgName);
    const members = await this.db.members(org.orgId);
    const user = await this.people.requireUser(userName);
    const self = acting.userId === user.userId;
    if (!self) await this.requireManager(acting, orgName, { org, members });
    const membership = members.find((m) => m.userId === user.userId);
    if (!membership) throw notFound(`${user.name} is not a member of ${org.name}.`);
    if (membership.role === 'admin') this.refuseLastAdmin(org, members, user, 'removed');
    await this.db.removeMember(org.orgId, user.userId);
    const note = membership.source === 'groups' ? ' (from the identity provider\'s groups: it comes back at their next sign-in while the group still maps to it)' : '';
    await this.audit.record(acting.actor, 'org.member.remove', org.name, `${user.name} (${membership.role})${note}`);
    this.people.forget(user.userId);
  }

  /** What an owner name holds on each feed that stores packages (ids it owns, prefixes reserved for it). */
  async holdings(name: string, maxIds = 1000): Promise<Holdings[]> {
    const lower = name.toLowerCase();
    await this.hub.reloadDefinitions();
    const result: Holdings[] = [];
    for (const d of this.hub.definitions()) {
      if (d.virtual) continue;
      const store = new KyselyAccessDatabase(this.hub.shared.kysely, d.id);
      const [ids, prefixes] = await Promise.all([store.idsOwnedBy(lower), store.listPrefixes()]);
      result.push({ feedId: d.id, feed: d.name, ids: ids.slice(0, maxIds), prefixes: prefixes.filter((p) => p.owner === lower).map((p) => p.pattern) });
    }
    return result;
  }

  private async requireOrg(name: string): Promise<OrgRecord> {
    const org = await this.db.findOrg(name.toLowerCase());
    if (!org) throw noSuchOrg(name);
    return org;
  }

  /** The organisation for one who may manage it (a server admin or one of its admins); 403 for other members. */
  private async requireManager(
    acting: Acting,
    name: string,
    known?: { org: OrgRecord; members: OrgMembership[] },
  ): Promise<{ org: OrgRecord; members: OrgMembership[] }> {
    const org = known?.org ?? (await this.requireOrg(name));
    const members = known?.members ?? (await this.db.members(org.orgId));
    if (acting.admin) return { org, members };
    const me = members.find((m) => m.userId === acting.userId);
    if (!me) throw noSuchOrg(name);
    if (me.role !== 'admin') throw new PawketError(403, `Only an admin of ${org.name} may change its members or description; you are a member.`);
    return { org, members };
  }

  private refuseLastAdmin(org: OrgRecord, members: readonly OrgMembership[], user: UserRecord, what: string): void {
    if (members.filter((m) => m.role === 'admin').length <= 1) {
      throw new PawketError(409, `${user.name} is the last admin of ${org.name} and cannot be ${what}: make another member an admin first.`);
    }
  }
}

function list(items: readonly string[], max = 10): string {
  return items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ');
}

const noSuchOrg = (name: string) => notFound(`There is no organisation ${name.slice(0, 80)} (or you are not a member of it).`);
