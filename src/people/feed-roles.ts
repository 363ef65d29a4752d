import { FEED_ROLES, GRANTEE_KINDS, type FeedRole, type GranteeKind, type RoleGrant } from '../db/people-database.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { badRequest, notFound, PawketError } from '../errors.js';
import { AuditLog } from '../feed/audit.js';
import { FeedAdmin, type FeedChangeInput, type FeedSummary } from '../feed/feed-admin.js';
import type { FeedDefinition } from '../feed/feed-definitions.js';
import type { FeedHub } from '../feed/hub.js';
import { ownerName } from '../feed/ownership.js';
import type { Acting } from './acting.js';
import type { People } from './people.js';
import { roleOn } from './roles.js';

const MAX_GROUP = 256;

/**
 * Settings an owner of a feed may change; the rest are the server's to decide: upstreams make the server fetch from
 * other hosts, and sizes and quotas bound its disk.
 */
export const OWNER_SETTINGS: readonly string[] = ['private', 'allowOverwrite', 'deleteMode', 'retentionKeepStable', 'retentionKeepPrerelease', 'retentionAction', 'blockShadowing', 'upstreamSearch', 'requireStaging'];

export function checkFeedRole(role: string): FeedRole {
  const r = role.trim().toLowerCase();
  if (!(FEED_ROLES as readonly string[]).includes(r)) throw badRequest(`'${role.slice(0, 40)}' is not a feed role: use ${FEED_ROLES.join(', ')}.`);
  return r as FeedRole;
}

export function checkGranteeKind(kind: string): GranteeKind {
  const k = kind.trim().toLowerCase();
  if (!(GRANTEE_KINDS as readonly string[]).includes(k)) throw badRequest(`'${kind.slice(0, 40)}' is not whom a role is granted to: use ${GRANTEE_KINDS.join(', ')}.`);
  return k as GranteeKind;
}

/** A grant as a page, the API and the command line show it: the feed by name. */
export interface FeedRoleGrant extends Omit<RoleGrant, 'feedId'> {
  readonly feed: string;
}

/**
 * Roles per feed (docs/ORGANISATIONS.md): `reader`, `contributor` or `owner`, granted to a user, an organisation (its members)
 * or a group claim's value. Server admins manage every feed's roles; a person with the `owner` role on a feed manages
 * that feed's. Each change is audited in the feed's log and forgets the cached rights of this node (others within 5 s).
 */
export class FeedRoles {
  constructor(
    private readonly people: People,
    private readonly hub: FeedHub,
  ) {}

  /** Whether the asker may manage this feed (its roles and settings): a server admin or an owner of the feed. */
  canManage(acting: Acting, feed: FeedDefinition): boolean {
    if (acting.admin) return true;
    return acting.roles !== undefined && roleOn(acting.roles, feed.id, feed.config.private) === 'owner';
  }

  /** The feeds the asker manages (every feed for admins). */
  async manageable(acting: Acting): Promise<FeedDefinition[]> {
    await this.hub.reloadDefinitions();
    return this.hub.definitions().filter((d) => this.canManage(acting, d));
  }

  /** A feed the asker manages; 404 for a feed that does not exist, 403 for one they do not own. */
  async requireManaged(acting: Acting, feedName: string): Promise<FeedDefinition> {
    await this.hub.reloadDefinitions();
    const feed = this.hub.definition(feedName);
    if (!feed) throw notFound(`There is no feed '${feedName.slice(0, 80)}' on this server.`);
    if (!this.canManage(acting, feed)) throw new PawketError(403, `Only an admin or an owner of the feed '${feed.name}' may manage its roles and settings.`);
    return feed;
  }

  async list(acting: Acting, feedName: string): Promise<FeedRoleGrant[]> {
    const feed = await this.requireManaged(acting, feedName);
    return (await this.people.db.listRoles(feed.id)).map(({ feedId: _id, ...g }) => ({ ...g, feed: feed.name }));
  }

  /** Grants a role (or changes the one granted) to a user, organisation or group on a feed. */
  async grant(acting: Acting, feedName: string, kindText: string, granteeText: string, roleText: string): Promise<FeedRoleGrant> {
    const feed = await this.requireManaged(acting, feedName);
    const kind = checkGranteeKind(kindText);
    const role = checkFeedRole(roleText);
    const grantee = await this.grantee(kind, granteeText);
    const grant: RoleGrant = { feedId: feed.id, kind, grantee, role, created: new Date().toISOString() };
    await this.people.db.putRole(grant);
    await this.audit(feed).record(acting.actor, 'role.grant', `${kind}:${grantee}`, role);
    this.people.forget();
    return { feed: feed.name, kind, grantee, role, created: grant.created };
  }

  async revoke(acting: Acting, feedName: string, kindText: string, granteeText: string): Promise<void> {
    const feed = await this.requireManaged(acting, feedName);
    const kind = checkGranteeKind(kindText);
    const grantee = kind === 'group' ? checkGroup(granteeText) : ownerName(granteeText);
    const before = (await this.people.db.listRoles(feed.id)).find((g) => g.kind === kind && g.grantee === grantee);
    if (!before || !(await this.people.db.removeRole(feed.id, kind, grantee))) {
      throw notFound(`The ${kind} ${grantee} has no role on the feed '${feed.name}'.`);
    }
    await this.audit(feed).record(acting.actor, 'role.revoke', `${kind}:${grantee}`, before.role);
    this.people.forget();
  }

  /** Changes a feed's description or settings (feed/feed-admin.ts): admins any, the feed's owners those of OWNER_SETTINGS. */
  async updateFeed(acting: Acting, feedName: string, change: FeedChangeInput): Promise<FeedSummary> {
    const feed = await this.requireManaged(acting, feedName);
    if (!acting.admin) {
      if (change.members !== undefined) throw new PawketError(403, "Only an admin may change a virtual feed's members.");
      const refused = Object.keys(change.settings ?? {}).find((k) => !OWNER_SETTINGS.includes(k));
      if (refused !== undefined) throw new PawketError(403, `Only an admin may change the setting '${refused.slice(0, 40)}' of a feed; its owners may change ${OWNER_SETTINGS.join(', ')}.`);
    }
    return new FeedAdmin(this.hub).update(acting.actor, feed.name, change);
  }

  /** A user or organisation must exist (a typo grants nothing); a group is the provider's value as it is. */
  private async grantee(kind: GranteeKind, text: string): Promise<string> {
    if (kind === 'group') return checkGroup(text);
    const name = ownerName(text);
    if (kind === 'user') return (await this.people.requireUser(name)).name;
    if (!(await this.people.db.findOrg(name))) throw notFound(`There is no organisation ${name}.`);
    return name;
  }

  private audit(feed: FeedDefinition): AuditLog {
    return new AuditLog(new KyselyAccessDatabase(this.hub.shared.kysely, feed.id));
  }
}

function checkGroup(text: string): string {
  const group = text.trim();
  if (group.length === 0 || group.length > MAX_GROUP || /[\u0000-\u001f\u007f]/.test(group)) {
    throw badRequest(`A group is the value of the identity provider's group claim: 1-${MAX_GROUP} characters, no control characters.`);
  }
  return group;
}
