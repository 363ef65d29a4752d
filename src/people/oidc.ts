import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import type { SignInProviderConfig } from '../config/schema.js';
import type { OrgRole, PeopleDatabase, UserRecord } from '../db/people-database.js';
import { PawketError } from '../errors.js';
import type { AuditLog } from '../feed/audit.js';
import type { Actor } from '../feed/auth.js';
import type { People } from './people.js';
import { SIGN_IN_REQUEST_TTL_MS } from './sessions.js';

/** A provider's discovery document and every request to it must answer within this long (seconds). */
const PROVIDER_TIMEOUT_S = 10;
/** After discovery failed, sign-ins are refused for this long before it is tried again (ms): no client can make us hammer it. */
const DISCOVERY_RETRY_MS = 10_000;
/** Sign-ins waiting for their callback, over every provider and node: anonymous clients create them. */
export const MAX_PENDING_SIGN_INS = 10_000;
/** What is kept of a groups claim: bounded, whatever a provider sends. */
const MAX_GROUPS = 500;
const MAX_CLAIM_LENGTH = 256;

const hashState = (state: string) => createHash('sha256').update(state, 'utf8').digest('hex');

/** Lower case, letters, digits, `.`, `_` and `-`, as every owner name (feed/ownership.ts). */
const OWNER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * An owner name made from a claim's value: lower case, other characters replaced by `-`, at most 58 characters (room
 * for a `-N` suffix), never empty.
 * @example userNameFrom('Alice Smith') // 'alice-smith'
 */
export function userNameFrom(value: string): string {
  const name = value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 58)
    .replace(/[._-]+$/, '');
  return OWNER_NAME.test(name) ? name : 'user';
}

/** What a person's claims say, once read from the ID token (and userinfo). */
export interface SignInClaims {
  readonly issuer: string;
  readonly subject: string;
  readonly name: string | null;
  readonly displayName: string | null;
  readonly email: string | null;
  /** `email_verified` as sent; undefined when the provider does not send it. */
  readonly emailVerified: boolean | undefined;
  readonly groups: readonly string[];
}

/** Where to send the browser to sign in, and the state to bind to it (a cookie). */
export interface SignInStart {
  readonly location: string;
  readonly state: string;
}

/** A finished sign-in: the user and where the browser goes next. */
export interface SignInDone {
  readonly user: UserRecord;
  readonly created: boolean;
  readonly returnTo: string;
}

/** One configured provider: its discovery is read on first use and again after it failed. */
class ProviderClient {
  private discovered: Promise<oidc.Configuration> | null = null;
  private failedUntil = 0;
  private lastFailure = '';

  constructor(
    readonly config: SignInProviderConfig,
    private readonly now: () => number,
  ) {}

  get label(): string {
    return this.config.label ?? this.config.name;
  }

  async configuration(): Promise<oidc.Configuration> {
    if (this.now() < this.failedUntil) throw this.unreachable(this.lastFailure);
    this.discovered ??= this.discover();
    try {
      return await this.discovered;
    } catch (err) {
      this.discovered = null;
      this.failedUntil = this.now() + DISCOVERY_RETRY_MS;
      this.lastFailure = err instanceof Error ? err.message : String(err);
      throw this.unreachable(this.lastFailure);
    }
  }

  private async discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.config.issuer);
    const auth = this.config.clientSecret ? oidc.ClientSecretBasic(this.config.clientSecret) : oidc.None();
    // http issuers (a provider on the same host or in tests) are the administrator's choice; https is the norm.
    const execute = issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [];
    const configuration = await oidc.discovery(issuer, this.config.clientId, undefined, auth, { execute, timeout: PROVIDER_TIMEOUT_S });
    configuration.timeout = PROVIDER_TIMEOUT_S;
    return configuration;
  }

  private unreachable(reason: string): PawketError {
    return new PawketError(503, `Signing in with ${this.label} is not possible right now: its provider could not be reached (${reason.slice(0, 200)}). Try again in a minute.`);
  }
}

export interface OidcSignInDeps {
  readonly people: People;
  readonly audit: AuditLog;
  readonly providers: readonly SignInProviderConfig[];
  readonly now?: () => number;
  /** Default MAX_PENDING_SIGN_INS. */
  readonly maxPending?: number;
}

/**
 * Signing in with OpenID Connect (docs/SIGN-IN.md): the authorization code flow with PKCE (S256), `state` and `nonce`.
 * The pending request lives in the database (keyed by the SHA-256 of `state`), so the callback may reach any node, and
 * is taken (deleted) by its callback, so a state is good once. openid-client checks state, nonce, PKCE, the ID token's
 * signature, issuer, audience and expiry; this class then decides who the person is: the user with that issuer and
 * subject (never the e-mail), created at first sign-in, refreshed from the claims at every sign-in.
 */
export class OidcSignIn {
  private readonly clients: Map<string, ProviderClient>;
  private readonly now: () => number;

  constructor(private readonly deps: OidcSignInDeps) {
    this.now = deps.now ?? Date.now;
    this.clients = new Map(deps.providers.map((p) => [p.name, new ProviderClient(p, this.now)]));
  }

  private get db(): PeopleDatabase {
    return this.deps.people.db;
  }

  /** A configured provider, or a 404. */
  provider(name: string): ProviderClient {
    const client = this.clients.get(name);
    if (!client) throw new PawketError(404, `There is no sign-in provider named ${name.slice(0, 40)} on this server.`);
    return client;
  }

  /** Records a pending sign-in and returns the provider's authorization URL. */
  async start(name: string, redirectUri: string, returnTo: string): Promise<SignInStart> {
    const client = this.provider(name);
    const at = this.now();
    const pending = await this.db.countSignInRequests(new Date(at - SIGN_IN_REQUEST_TTL_MS).toISOString());
    if (pending >= (this.deps.maxPending ?? MAX_PENDING_SIGN_INS)) {
      throw new PawketError(503, 'Too many sign-ins are in progress on this server: try again in a few minutes.', { 'retry-after': '60' });
    }
    const configuration = await client.configuration();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    await this.db.insertSignInRequest({
      stateHash: hashState(state),
      provider: name,
      nonce,
      codeVerifier,
      returnTo,
      created: new Date(at).toISOString(),
    });
    const scopes = client.config.scopes.includes('openid') ? client.config.scopes : ['openid', ...client.config.scopes];
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { location: url.toString(), state };
  }

  /**
   * Finishes a sign-in from the provider's callback. `query` is the callback's query string; `boundState` the state
   * this browser started with (its cookie): a callback of someone else's sign-in is refused (login CSRF). 400 for a
   * bad, replayed or expired callback or a failed check, 403 for a person who may not sign in.
   */
  async finish(name: string, redirectUri: string, query: URLSearchParams, boundState: string | undefined, address: string | null): Promise<SignInDone> {
    const client = this.provider(name);
    const state = query.get('state');
    const providerError = query.get('error');
    if (!state) {
      if (providerError) throw this.providerRefused(client, providerError, query.get('error_description'));
      throw new PawketError(400, 'This sign-in answer carries no state: start signing in again from the sign-in page.');
    }
    if (boundState !== state) {
      throw new PawketError(400, 'This sign-in was not started in this browser, or another sign-in was started since: start signing in again from the sign-in page.');
    }
    const request = await this.db.takeSignInRequest(hashState(state));
    if (!request || request.provider !== name) {
      throw new PawketError(400, 'This sign-in answer was already used or is unknown: start signing in again from the sign-in page.');
    }
    if (Date.parse(request.created) + SIGN_IN_REQUEST_TTL_MS < this.now()) {
      throw new PawketError(400, 'This sign-in took longer than 10 minutes: start signing in again from the sign-in page.');
    }
    if (providerError) throw this.providerRefused(client, providerError, query.get('error_description'));

    const configuration = await client.configuration();
    const currentUrl = new URL(redirectUri);
    currentUrl.search = query.toString();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw this.exchangeFailed(client, err);
    }
    const claims = await this.readClaims(client, configuration, tokens);
    const user = await this.admit(client, claims, address);
    return { ...user, returnTo: request.returnTo };
  }

  /** The ID token's claims, with userinfo's when a configured claim is not in the ID token. */
  private async readClaims(
    client: ProviderClient,
    configuration: oidc.Configuration,
    tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>,
  ): Promise<SignInClaims> {
    const idClaims = tokens.claims();
    if (!idClaims) throw new PawketError(400, `${client.label} sent no ID token: check that the scopes include openid.`);
    let all: Record<string, unknown> = { ...idClaims };
    const wanted = client.config.claims;
    const missing = [wanted.name[0]!, wanted.email, wanted.displayName, wanted.groups].some((c) => all[c] === undefined);
    if (missing && tokens.access_token && configuration.serverMetadata().userinfo_endpoint) {
      try {
        const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        all = { ...userinfo, ...idClaims };
      } catch (err) {
        throw new PawketError(502, `${client.label} did not answer the request for your profile (userinfo): ${errorText(err)}`);
      }
    }
    const text = (claim: string) => {
      const v = all[claim];
      return typeof v === 'string' && v.trim().length > 0 ? v.trim().slice(0, MAX_CLAIM_LENGTH) : null;
    };
    const rawGroups = all[wanted.groups];
    const groups = (Array.isArray(rawGroups) ? rawGroups : typeof rawGroups === 'string' ? [rawGroups] : [])
      .filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= MAX_CLAIM_LENGTH)
      .slice(0, MAX_GROUPS);
    const verified = all.email_verified;
    return {
      issuer: idClaims.iss,
      subject: idClaims.sub,
      name: wanted.name.map(text).find((v) => v !== null) ?? null,
      displayName: text(wanted.displayName),
      email: text(wanted.email),
      emailVerified: verified === undefined ? undefined : verified === true || verified === 'true',
      groups: [...new Set(groups)],
    };
  }

  /** Applies the provider's rules, then finds or creates the user and refreshes it from the claims. */
  private async admit(client: ProviderClient, claims: SignInClaims, address: string | null): Promise<{ user: UserRecord; created: boolean }> {
    const rules = client.config;
    if (rules.allowedDomains.length > 0) {
      const domain = claims.email?.slice(claims.email.lastIndexOf('@') + 1).toLowerCase();
      if (!claims.email || !domain || !rules.allowedDomains.some((d) => d.toLowerCase() === domain)) {
        throw new PawketError(403, `Only people with an e-mail address at ${rules.allowedDomains.join(', ')} may sign in here${claims.email ? ` (yours is ${claims.email})` : ''}.`);
      }
      if (claims.emailVerified === false) {
        throw new PawketError(403, `Your e-mail address ${claims.email} is not verified at ${client.label}: verify it there, then sign in again.`);
      }
    }
    if (rules.allowedGroups.length > 0 && !rules.allowedGroups.some((g) => claims.groups.includes(g))) {
      throw new PawketError(403, `Only members of ${rules.allowedGroups.join(', ')} may sign in here: ask your administrator to add you to one of these groups.`);
    }

    const at = new Date(this.now()).toISOString();
    let user = await this.db.findUserByIdentity(claims.issuer, claims.subject);
    let created = false;
    if (user) {
      const refusal = this.deps.people.refusal(user);
      if (refusal) throw new PawketError(403, `You may not sign in: ${refusal}`);
    } else {
      user = await this.createUser(claims, at);
      created = true;
    }
    const admin = rules.adminGroups.length > 0 ? rules.adminGroups.some((g) => claims.groups.includes(g)) : undefined;
    await this.db.updateUserAtSignIn(user.userId, {
      displayName: claims.displayName ?? user.displayName,
      email: claims.email,
      groups: claims.groups,
      lastSignIn: at,
      ...(admin === undefined ? {} : { admin }),
    });
    await this.mapGroups(user, rules, claims.groups, at);
    this.deps.people.forget(user.userId);
    const fresh = (await this.db.getUser(user.userId)) ?? user;
    const actor: Actor = { name: fresh.name, keyId: null, owner: fresh.name, address };
    if (created) await this.deps.audit.record(actor, 'user.create', fresh.name, `${claims.issuer} ${claims.subject}`);
    await this.deps.audit.record(actor, 'user.signin', fresh.name, `with ${rules.name}`);
    return { user: fresh, created };
  }

  /** A new user named after the first present name claim; a taken name gets -2, -3, ... */
  private async createUser(claims: SignInClaims, at: string): Promise<UserRecord> {
    const base = userNameFrom(claims.name ?? claims.subject);
    for (let n = 1; n <= 1000; n++) {
      const name = n === 1 ? base : `${base}-${n}`;
      if (await this.db.isOwnerNameTaken(name)) continue;
      const userId = await this.db.insertUser({
        name,
        displayName: claims.displayName ?? claims.name ?? name,
        email: claims.email,
        issuer: claims.issuer,
        subject: claims.subject,
        groups: claims.groups,
        created: at,
        lastSignIn: at,
      });
      // Null: a concurrent first sign-in of the same person, or of someone taking the same name.
      const user = userId !== null ? await this.db.getUser(userId) : await this.db.findUserByIdentity(claims.issuer, claims.subject);
      if (user) return user;
    }
    throw new PawketError(409, `No free user name was found for ${base}: ask your administrator.`);
  }

  /** Memberships from group claims, replaced at each sign-in; organisations named by mappings are created. */
  private async mapGroups(user: UserRecord, rules: SignInProviderConfig, groups: readonly string[], at: string): Promise<void> {
    if (rules.groupMappings.length === 0) return;
    const roles = new Map<string, OrgRole>();
    for (const m of rules.groupMappings) {
      if (!groups.includes(m.group)) continue;
      const org = m.org.trim().toLowerCase();
      if (!OWNER_NAME.test(org)) continue;
      if (roles.get(org) !== 'admin') roles.set(org, m.role);
    }
    const memberships: { orgId: number; role: OrgRole }[] = [];
    for (const [name, role] of roles) {
      let org = await this.db.findOrg(name);
      if (!org) {
        await this.db.insertOrg(name, `Members come from the sign-in provider's ${rules.name} groups.`, at);
        org = await this.db.findOrg(name);
      }
      if (org) memberships.push({ orgId: org.orgId, role });
    }
    await this.db.replaceGroupMemberships(user.userId, memberships);
  }

  private providerRefused(client: ProviderClient, error: string, description: string | null): PawketError {
    const why = error === 'access_denied' ? 'the sign-in was cancelled or refused' : `it answered ${error.slice(0, 80)}`;
    return new PawketError(400, `${client.label} did not sign you in: ${why}${description ? ` (${description.slice(0, 200)})` : ''}.`);
  }

  private exchangeFailed(client: ProviderClient, err: unknown): PawketError {
    if (err instanceof oidc.ResponseBodyError) {
      return new PawketError(400, `${client.label} refused the sign-in code (${err.error}${err.error_description ? `: ${err.error_description.slice(0, 200)}` : ''}): it was used already, has expired, or was not made for this sign-in. Sign in again.`);
    }
    if (err instanceof oidc.AuthorizationResponseError) return this.providerRefused(client, err.error, err.error_description ?? null);
    if (err instanceof oidc.ClientError) {
      // The cause names the check (`unexpected ID Token "nonce" claim value`).
      const detail = err.cause instanceof Error ? err.cause.message : err.message;
      return new PawketError(400, `The answer of ${client.label} failed a check (${detail.slice(0, 200)}): sign in again.`);
    }
    return new PawketError(502, `${client.label} could not be reached to finish the sign-in: ${errorText(err)}`);
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 200);
