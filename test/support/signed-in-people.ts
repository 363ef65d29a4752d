import { DEFAULT_FEED_ID } from '../../src/db/feed-migrations.js';
import type { FeedRole } from '../../src/db/people-database.js';
import { SESSION_COOKIE } from '../../src/http/session.js';
import type { TestServer } from './app.js';

/** A person signed in to the web UI of a test server: the cookie and CSRF token of their session. */
export interface SignedIn {
  readonly name: string;
  readonly userId: number;
  readonly cookie: string;
  readonly csrf: string;
}

/** A user as a first sign-in with a provider would make them; their id. */
export async function addTestUser(server: TestServer, name: string, opts: { admin?: boolean; displayName?: string } = {}): Promise<number> {
  const now = new Date().toISOString();
  const userId = await server.feed.hub.shared.people.db.insertUser({
    name,
    displayName: opts.displayName ?? name,
    email: `${name}@example.test`,
    issuer: 'https://idp.example.test',
    subject: `sub-${name}`,
    groups: [],
    created: now,
    lastSignIn: now,
    ...(opts.admin ? { admin: true } : {}),
  });
  if (userId === null) throw new Error(`user ${name} exists`);
  return userId;
}

/** A form's urlencoded body: the fields (repeated names from arrays) and the CSRF token unless it is null. */
export function formBody(fields: Record<string, string | readonly string[]>, csrf: string | null | undefined): URLSearchParams {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
  if (csrf !== null && csrf !== undefined) body.append('_csrf', csrf);
  return body;
}

/**
 * Creates a user (as the sign-in with a provider would), their feed role and organisation memberships, and starts a
 * session for them, as signing in does.
 */
export async function signedInPerson(
  server: TestServer,
  name: string,
  opts: { role?: FeedRole; feedId?: number; orgs?: readonly string[]; admin?: boolean } = {},
): Promise<SignedIn> {
  const { people, sessions } = server.feed.hub.shared;
  const now = new Date().toISOString();
  const userId = await addTestUser(server, name, { displayName: `${name} (display)`, ...opts });
  if (opts.role) await people.db.putRole({ feedId: opts.feedId ?? DEFAULT_FEED_ID, kind: 'user', grantee: name, role: opts.role, created: now });
  for (const org of opts.orgs ?? []) {
    if (!(await people.db.findOrg(org))) await people.db.insertOrg(org, `${org} organisation`, now);
    await people.db.putMember((await people.db.findOrg(org))!.orgId, userId, 'member', 'direct');
  }
  const { token, session } = await sessions.start({ userId }, '127.0.0.1');
  return { name, userId, cookie: `${SESSION_COOKIE}=${token}`, csrf: session.csrf };
}

/** Posts a web UI form as the browser would (urlencoded, the session cookie, the CSRF token unless `csrf` says otherwise). */
export function postForm(
  url: string,
  who: SignedIn | null,
  fields: Record<string, string | readonly string[]> = {},
  opts: { csrf?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const body = formBody(fields, opts.csrf === undefined ? who?.csrf : opts.csrf);
  return fetch(url, { method: 'POST', body, redirect: 'manual', headers: { ...(who ? { cookie: who.cookie } : {}), ...opts.headers } });
}

/** GETs a page as a browser would, with the session cookie when someone is signed in. */
export function getPage(url: string, who: SignedIn | null, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers: { accept: 'text/html,application/xhtml+xml', ...(who ? { cookie: who.cookie } : {}), ...headers } });
}
