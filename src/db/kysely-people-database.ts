import type { Generated, Kysely, Selectable } from 'kysely';
import type {
  FeedRole,
  GranteeKind,
  NewUser,
  OrgMembership,
  OrgRecord,
  OrgRole,
  PeopleDatabase,
  RoleGrant,
  SessionRecord,
  SignInRequest,
  UserRecord,
} from './people-database.js';

/** Table shapes of people-migrations.ts. */
export type PeopleTables = {
  users: {
    user_id: Generated<number>;
    name: string;
    lower_name: string;
    display_name: string;
    email: string | null;
    issuer: string;
    subject: string;
    groups: string;
    admin: number;
    disabled: string | null;
    created: string;
    last_sign_in: string | null;
  };
  organisations: { org_id: Generated<number>; name: string; lower_name: string; description: string; created: string };
  org_members: { org_id: number; user_id: number; role: string; source: string };
  feed_roles: { feed_id: number; grantee_kind: string; grantee: string; role: string; created: string };
  sessions: {
    session_hash: string;
    user_id: number | null;
    key_id: string | null;
    csrf: string;
    created: string;
    last_seen: string;
    expires: string;
    address: string | null;
  };
  sign_in_requests: { state_hash: string; provider: string; nonce: string; code_verifier: string; return_to: string; created: string };
};

function toUser(r: Selectable<PeopleTables['users']>): UserRecord {
  return {
    userId: Number(r.user_id),
    name: r.name,
    displayName: r.display_name,
    email: r.email,
    issuer: r.issuer,
    subject: r.subject,
    groups: JSON.parse(r.groups) as string[],
    admin: Number(r.admin) === 1,
    disabled: r.disabled,
    created: r.created,
    lastSignIn: r.last_sign_in,
  };
}

function toOrg(r: Selectable<PeopleTables['organisations']>): OrgRecord {
  return { orgId: Number(r.org_id), name: r.name, description: r.description, created: r.created };
}

function toGrant(r: Selectable<PeopleTables['feed_roles']>): RoleGrant {
  return { feedId: Number(r.feed_id), kind: r.grantee_kind as GranteeKind, grantee: r.grantee, role: r.role as FeedRole, created: r.created };
}

function toSession(r: Selectable<PeopleTables['sessions']>): SessionRecord {
  return {
    hash: r.session_hash,
    userId: r.user_id === null ? null : Number(r.user_id),
    keyId: r.key_id,
    csrf: r.csrf,
    created: r.created,
    lastSeen: r.last_seen,
    expires: r.expires,
    address: r.address,
  };
}

/** PeopleDatabase over the same Kysely instance (and dialects) as the packages. */
export class KyselyPeopleDatabase implements PeopleDatabase {
  constructor(private readonly db: Kysely<PeopleTables>) {}

  async findUserByIdentity(issuer: string, subject: string): Promise<UserRecord | null> {
    const row = await this.db.selectFrom('users').selectAll().where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async getUser(userId: number): Promise<UserRecord | null> {
    const row = await this.db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findUser(name: string): Promise<UserRecord | null> {
    const row = await this.db.selectFrom('users').selectAll().where('lower_name', '=', name.toLowerCase()).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.db.selectFrom('users').selectAll().orderBy('lower_name').execute()).map(toUser);
  }

  async insertUser(user: NewUser): Promise<number | null> {
    const lower = user.name.toLowerCase();
    return this.db.transaction().execute(async (tx) => {
      // Users and organisations share one namespace of owner names.
      const org = await tx.selectFrom('organisations').select('org_id').where('lower_name', '=', lower).executeTakeFirst();
      if (org) return null;
      const row = await tx
        .insertInto('users')
        .values({
          name: user.name,
          lower_name: lower,
          display_name: user.displayName,
          email: user.email,
          issuer: user.issuer,
          subject: user.subject,
          groups: JSON.stringify(user.groups),
          admin: user.admin ? 1 : 0,
          created: user.created,
          last_sign_in: user.lastSignIn,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('user_id')
        .executeTakeFirst();
      return row ? Number(row.user_id) : null;
    });
  }

  async updateUserAtSignIn(
    userId: number,
    fields: Pick<UserRecord, 'displayName' | 'email' | 'groups' | 'lastSignIn'> & { readonly admin?: boolean },
  ): Promise<void> {
    await this.db
      .updateTable('users')
      .set({
        display_name: fields.displayName,
        email: fields.email,
        groups: JSON.stringify(fields.groups),
        last_sign_in: fields.lastSignIn,
        ...(fields.admin === undefined ? {} : { admin: fields.admin ? 1 : 0 }),
      })
      .where('user_id', '=', userId)
      .execute();
  }

  async setUserDisabled(userId: number, at: string | null): Promise<boolean> {
    const result = await this.db.updateTable('users').set({ disabled: at }).where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async setUserAdmin(userId: number, admin: boolean): Promise<boolean> {
    const result = await this.db.updateTable('users').set({ admin: admin ? 1 : 0 }).where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async isOwnerNameTaken(lowerName: string): Promise<boolean> {
    const user = await this.db.selectFrom('users').select('user_id').where('lower_name', '=', lowerName).executeTakeFirst();
    if (user) return true;
    const org = await this.db.selectFrom('organisations').select('org_id').where('lower_name', '=', lowerName).executeTakeFirst();
    return org !== undefined;
  }

  async insertOrg(name: string, description: string, at: string): Promise<boolean> {
    const lower = name.toLowerCase();
    return this.db.transaction().execute(async (tx) => {
      const user = await tx.selectFrom('users').select('user_id').where('lower_name', '=', lower).executeTakeFirst();
      if (user) return false;
      const row = await tx
        .insertInto('organisations')
        .values({ name: lower, lower_name: lower, description, created: at })
        .onConflict((oc) => oc.column('lower_name').doNothing())
        .returning('org_id')
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  async findOrg(name: string): Promise<OrgRecord | null> {
    const row = await this.db.selectFrom('organisations').selectAll().where('lower_name', '=', name.toLowerCase()).executeTakeFirst();
    return row ? toOrg(row) : null;
  }

  async listOrgs(): Promise<OrgRecord[]> {
    return (await this.db.selectFrom('organisations').selectAll().orderBy('lower_name').execute()).map(toOrg);
  }

  async updateOrg(name: string, description: string): Promise<boolean> {
    const result = await this.db.updateTable('organisations').set({ description }).where('lower_name', '=', name.toLowerCase()).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteOrg(name: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const org = await tx.selectFrom('organisations').select('org_id').where('lower_name', '=', name.toLowerCase()).executeTakeFirst();
      if (!org) return false;
      await tx.deleteFrom('org_members').where('org_id', '=', org.org_id).execute();
      await tx.deleteFrom('organisations').where('org_id', '=', org.org_id).execute();
      return true;
    });
  }

  private membershipQuery() {
    return this.db
      .selectFrom('org_members')
      .innerJoin('organisations', 'organisations.org_id', 'org_members.org_id')
      .innerJoin('users', 'users.user_id', 'org_members.user_id')
      .select(['org_members.org_id', 'organisations.name as org', 'org_members.user_id', 'users.name as user', 'org_members.role', 'org_members.source']);
  }

  async members(orgId: number): Promise<OrgMembership[]> {
    const rows = await this.membershipQuery().where('org_members.org_id', '=', orgId).orderBy('users.lower_name').execute();
    return rows.map(toMembership);
  }

  async membershipsOf(userId: number): Promise<OrgMembership[]> {
    const rows = await this.membershipQuery().where('org_members.user_id', '=', userId).orderBy('organisations.lower_name').execute();
    return rows.map(toMembership);
  }

  async putMember(orgId: number, userId: number, role: OrgRole, source: OrgMembership['source']): Promise<void> {
    await this.db
      .insertInto('org_members')
      .values({ org_id: orgId, user_id: userId, role, source })
      .onConflict((oc) => oc.columns(['org_id', 'user_id']).doUpdateSet({ role, source }))
      .execute();
  }

  async removeMember(orgId: number, userId: number): Promise<boolean> {
    const result = await this.db.deleteFrom('org_members').where('org_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async replaceGroupMemberships(userId: number, memberships: ReadonlyArray<{ readonly orgId: number; readonly role: OrgRole }>): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('org_members').where('user_id', '=', userId).where('source', '=', 'groups').execute();
      const direct = new Set(
        (await tx.selectFrom('org_members').select('org_id').where('user_id', '=', userId).execute()).map((r) => Number(r.org_id)),
      );
      const rows = memberships.filter((m) => !direct.has(m.orgId)).map((m) => ({ org_id: m.orgId, user_id: userId, role: m.role, source: 'groups' }));
      if (rows.length > 0) await tx.insertInto('org_members').values(rows).execute();
    });
  }

  async putRole(grant: RoleGrant): Promise<void> {
    await this.db
      .insertInto('feed_roles')
      .values({ feed_id: grant.feedId, grantee_kind: grant.kind, grantee: grant.grantee, role: grant.role, created: grant.created })
      .onConflict((oc) => oc.columns(['feed_id', 'grantee_kind', 'grantee']).doUpdateSet({ role: grant.role }))
      .execute();
  }

  async removeRole(feedId: number, kind: GranteeKind, grantee: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('feed_roles')
      .where('feed_id', '=', feedId)
      .where('grantee_kind', '=', kind)
      .where('grantee', '=', grantee)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listRoles(feedId?: number): Promise<RoleGrant[]> {
    let query = this.db.selectFrom('feed_roles').selectAll();
    if (feedId !== undefined) query = query.where('feed_id', '=', feedId);
    return (await query.orderBy('feed_id').orderBy('grantee_kind').orderBy('grantee').execute()).map(toGrant);
  }

  async rolesOf(grantees: { readonly users: readonly string[]; readonly orgs: readonly string[]; readonly groups: readonly string[] }): Promise<RoleGrant[]> {
    const pairs: Array<[GranteeKind, readonly string[]]> = [['user', grantees.users], ['org', grantees.orgs], ['group', grantees.groups]];
    const wanted = pairs.filter(([, names]) => names.length > 0);
    if (wanted.length === 0) return [];
    const rows = await this.db
      .selectFrom('feed_roles')
      .selectAll()
      .where((eb) => eb.or(wanted.map(([kind, names]) => eb.and([eb('grantee_kind', '=', kind), eb('grantee', 'in', [...names])]))))
      .execute();
    return rows.map(toGrant);
  }

  async insertSession(session: SessionRecord): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        session_hash: session.hash,
        user_id: session.userId,
        key_id: session.keyId,
        csrf: session.csrf,
        created: session.created,
        last_seen: session.lastSeen,
        expires: session.expires,
        address: session.address,
      })
      .execute();
  }

  async findSession(hash: string): Promise<SessionRecord | null> {
    const row = await this.db.selectFrom('sessions').selectAll().where('session_hash', '=', hash).executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async touchSession(hash: string, at: string): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen: at }).where('session_hash', '=', hash).execute();
  }

  async deleteSession(hash: string): Promise<boolean> {
    const result = await this.db.deleteFrom('sessions').where('session_hash', '=', hash).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteUserSessions(userId: number): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async prune(now: string, idleBefore: string, requestsBefore: string): Promise<void> {
    await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires', '<=', now), eb('last_seen', '<', idleBefore)]))
      .execute();
    await this.db.deleteFrom('sign_in_requests').where('created', '<', requestsBefore).execute();
  }

  async insertSignInRequest(request: SignInRequest): Promise<void> {
    await this.db
      .insertInto('sign_in_requests')
      .values({
        state_hash: request.stateHash,
        provider: request.provider,
        nonce: request.nonce,
        code_verifier: request.codeVerifier,
        return_to: request.returnTo,
        created: request.created,
      })
      .execute();
  }

  async takeSignInRequest(stateHash: string): Promise<SignInRequest | null> {
    // DELETE ... RETURNING: of two callbacks with one state, only one gets the row.
    const row = await this.db.deleteFrom('sign_in_requests').where('state_hash', '=', stateHash).returningAll().executeTakeFirst();
    if (!row) return null;
    return {
      stateHash: row.state_hash,
      provider: row.provider,
      nonce: row.nonce,
      codeVerifier: row.code_verifier,
      returnTo: row.return_to,
      created: row.created,
    };
  }

  async countSignInRequests(since: string): Promise<number> {
    const row = await this.db
      .selectFrom('sign_in_requests')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('created', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function toMembership(r: { org_id: number; org: string; user_id: number; user: string; role: string; source: string }): OrgMembership {
  return {
    orgId: Number(r.org_id),
    org: r.org,
    userId: Number(r.user_id),
    user: r.user,
    role: r.role as OrgRole,
    source: r.source as OrgMembership['source'],
  };
}
