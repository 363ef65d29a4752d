/** People and sessions for tests of the signed-in pages, without an OpenID provider: rows and sessions made directly. */
import { expect } from 'vitest';
import type { FeedRole, OrgRole } from '../../../src/db/people-database.js';
import { TEST_KEY, type TestServer } from '../../support/app.js';
import { addTestUser, formBody } from '../../support/signed-in-people.js';

/** A browser's session: its cookie header, and the CSRF token its pages carry. */
export interface Browser {
  readonly cookie: string;
  readonly csrf: string;
}

const people = (server: TestServer) => server.feed.hub.shared.people;

/** A user as a first sign-in would make them. */
export function addUser(server: TestServer, name: string, opts: { admin?: boolean } = {}): Promise<number> {
  return addTestUser(server, name, { displayName: `${name[0]!.toUpperCase()}${name.slice(1)}`, ...opts });
}

export async function addMember(server: TestServer, org: string, userId: number, role: OrgRole = 'member'): Promise<void> {
  const db = people(server).db;
  if (!(await db.findOrg(org))) await db.insertOrg(org, '', new Date().toISOString());
  await db.putMember((await db.findOrg(org))!.orgId, userId, role, 'direct');
  people(server).forget(userId);
}

export async function grant(server: TestServer, feed: string, user: string, role: FeedRole): Promise<void> {
  const definition = server.feed.hub.definition(feed)!;
  await people(server).db.putRole({ feedId: definition.id, kind: 'user', grantee: user, role, created: new Date().toISOString() });
  people(server).forget();
}

/** The CSRF token of the session, read from a page as a browser would. */
export async function csrfOf(server: TestServer, cookie: string): Promise<string> {
  const res = await fetch(`${server.url}/account/keys`, { headers: { cookie }, redirect: 'manual' });
  const token = /name="_csrf" value="([^"]+)"/.exec(await res.text())?.[1];
  expect(token, `no form token on /account/keys (${res.status})`).toBeDefined();
  return token!;
}

/** A person's browser signed in (a session started as the OpenID callback starts it). */
export async function signInAs(server: TestServer, userId: number): Promise<Browser> {
  const { token } = await server.feed.hub.shared.sessions.start({ userId }, '127.0.0.1');
  const cookie = `pawket_session=${token}`;
  return { cookie, csrf: await csrfOf(server, cookie) };
}

/** A browser signed in with an API key through the sign-in form (the configured admin key by default). */
export async function signInWithKey(server: TestServer, key = TEST_KEY): Promise<Browser> {
  const res = await fetch(`${server.url}/signin/key`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ apikey: key, returnTo: '/' }),
    redirect: 'manual',
  });
  expect(res.status).toBe(303);
  const cookie = /pawket_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
  return { cookie, csrf: await csrfOf(server, cookie) };
}

/** Posts a form as the browser would (its CSRF token unless `csrf` says otherwise); repeated names as arrays. */
export function postForm(
  server: TestServer,
  browser: Browser,
  path: string,
  fields: Record<string, string | readonly string[]> = {},
  opts: { csrf?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const body = formBody(fields, opts.csrf === undefined ? browser.csrf : opts.csrf);
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: browser.cookie, ...opts.headers },
    body,
    redirect: 'manual',
  });
}

/** Creates a feed through the admin API. */
export async function createFeed(server: TestServer, name: string, settings: Record<string, unknown> = {}): Promise<void> {
  const res = await fetch(`${server.url}/api/admin/feeds`, {
    method: 'POST',
    headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ name, settings }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}
