/** Roles on a feed, weakest first: each includes the ones before it. */
export const FEED_ROLES = ['reader', 'contributor', 'owner'] as const;
export type FeedRole = (typeof FEED_ROLES)[number];

/** Roles in an organisation: members act for its packages; admins also manage its members. */
export const ORG_ROLES = ['member', 'admin'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** Who a feed role is granted to: a user or organisation by name, or everyone whose group claim holds a value. */
export const GRANTEE_KINDS = ['user', 'org', 'group'] as const;
export type GranteeKind = (typeof GRANTEE_KINDS)[number];

export interface UserRecord {
  readonly userId: number;
  /** The owner name the user acts as (lower case, unique among users and organisations). */
  readonly name: string;
  readonly displayName: string;
  readonly email: string | null;
  readonly issuer: string;
  readonly subject: string;
  /** The group claim's values at the last sign-in. */
  readonly groups: readonly string[];
  readonly admin: boolean;
  /** ISO time the user was disabled, or null. */
  readonly disabled: string | null;
  readonly created: string;
  readonly lastSignIn: string | null;
}

export type NewUser = Omit<UserRecord, 'userId' | 'admin' | 'disabled'> & { readonly admin?: boolean };

export interface OrgRecord {
  readonly orgId: number;
  /** Lower case; an owner name. */
  readonly name: string;
  readonly description: string;
  readonly created: string;
}

export interface OrgMembership {
  readonly orgId: number;
  readonly org: string;
  readonly userId: number;
  readonly user: string;
  readonly role: OrgRole;
  /** `direct`: added by a person; `groups`: from a group claim, replaced at each sign-in. */
  readonly source: 'direct' | 'groups';
}

export interface RoleGrant {
  readonly feedId: number;
  readonly kind: GranteeKind;
  /** A user or organisation name (lower case), or a group claim's value (as the provider sends it). */
  readonly grantee: string;
  readonly role: FeedRole;
  readonly created: string;
}

export interface SessionRecord {
  /** SHA-256 (hex) of the cookie's value. */
  readonly hash: string;
  readonly userId: number | null;
  /** The API key signed in with, when there is no user. */
  readonly keyId: string | null;
  readonly csrf: string;
  readonly created: string;
  readonly lastSeen: string;
  /** Absolute end, ISO. */
  readonly expires: string;
  readonly address: string | null;
}

export interface SignInRequest {
  /** SHA-256 (hex) of `state`. */
  readonly stateHash: string;
  readonly provider: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** A local path the browser returns to. */
  readonly returnTo: string;
  readonly created: string;
}

/**
 * People in the database: users, organisations and members, feed roles, sessions and pending sign-ins. Server-wide
 * (not per feed); roles name their feed.
 */
export interface PeopleDatabase {
  findUserByIdentity(issuer: string, subject: string): Promise<UserRecord | null>;
  getUser(userId: number): Promise<UserRecord | null>;
  /** By name, case-insensitively. */
  findUser(name: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /** The new user's id; null when the name or identity is taken (a concurrent first sign-in). */
  insertUser(user: NewUser): Promise<number | null>;
  /** What a sign-in refreshes. */
  updateUserAtSignIn(userId: number, fields: Pick<UserRecord, 'displayName' | 'email' | 'groups' | 'lastSignIn'> & { readonly admin?: boolean }): Promise<void>;
  setUserDisabled(userId: number, at: string | null): Promise<boolean>;
  setUserAdmin(userId: number, admin: boolean): Promise<boolean>;
  /** Whether a user or an organisation has this (lower-case) name. */
  isOwnerNameTaken(lowerName: string): Promise<boolean>;

  /** False when the name is taken. */
  insertOrg(name: string, description: string, at: string): Promise<boolean>;
  findOrg(name: string): Promise<OrgRecord | null>;
  listOrgs(): Promise<OrgRecord[]>;
  updateOrg(name: string, description: string): Promise<boolean>;
  /** Deletes the organisation and its memberships (its feed roles stay until revoked). */
  deleteOrg(name: string): Promise<boolean>;
  members(orgId: number): Promise<OrgMembership[]>;
  membershipsOf(userId: number): Promise<OrgMembership[]>;
  /** Adds or changes a member (a direct membership replaces one from groups). */
  putMember(orgId: number, userId: number, role: OrgRole, source: OrgMembership['source']): Promise<void>;
  removeMember(orgId: number, userId: number): Promise<boolean>;
  /** Replaces the user's memberships that came from group claims with these (direct ones stay). */
  replaceGroupMemberships(userId: number, memberships: ReadonlyArray<{ readonly orgId: number; readonly role: OrgRole }>): Promise<void>;

  /** Grants or changes a role. */
  putRole(grant: RoleGrant): Promise<void>;
  removeRole(feedId: number, kind: GranteeKind, grantee: string): Promise<boolean>;
  /** Every grant of one feed, or of every feed. */
  listRoles(feedId?: number): Promise<RoleGrant[]>;
  /** The grants to any of these users, organisations or groups, on every feed. */
  rolesOf(grantees: { readonly users: readonly string[]; readonly orgs: readonly string[]; readonly groups: readonly string[] }): Promise<RoleGrant[]>;

  insertSession(session: SessionRecord): Promise<void>;
  findSession(hash: string): Promise<SessionRecord | null>;
  touchSession(hash: string, at: string): Promise<void>;
  deleteSession(hash: string): Promise<boolean>;
  /** Ends every session of a user (sign-out everywhere, a disabled user); the number ended. */
  deleteUserSessions(userId: number): Promise<number>;
  /** Removes sessions whose absolute end or idle limit passed, and sign-in requests older than `requestsBefore`. */
  prune(now: string, idleBefore: string, requestsBefore: string): Promise<void>;

  insertSignInRequest(request: SignInRequest): Promise<void>;
  /** Deletes and returns the request: a state is good for one callback. */
  takeSignInRequest(stateHash: string): Promise<SignInRequest | null>;
  /** Sign-in requests created at or after `since` (pending ones: anonymous clients create them, so they are capped). */
  countSignInRequests(since: string): Promise<number>;
}
