import { randomBytes } from 'node:crypto';
import type { KeyScope } from '../../../src/db/access-database.js';
import { generateApiKey, hashApiKey } from '../../../src/feed/auth.js';
import type { TestServer } from '../../support/app.js';

/** A person signed in to the test server: their session's cookie and CSRF token. */
export interface SignedIn {
  readonly userId: number;
  readonly name: string;
  readonly cookie: string;
  readonly csrf: string;
}

/** Creates a user (as a first sign-in would) and starts a session for them. */
export async function signedInPerson(server: TestServer, name: string, opts: { groups?: string[]; admin?: boolean } = {}): Promise<SignedIn> {
  const { people, sessions } = server.feed.hub.shared;
  const userId = await people.db.insertUser({
    name,
    displayName: name,
    email: `${name}@example.test`,
    issuer: 'https://idp.example.test',
    subject: `sub-${name}`,
    groups: opts.groups ?? [],
    created: new Date().toISOString(),
    lastSignIn: null,
    ...(opts.admin ? { admin: true } : {}),
  });
  if (userId === null) throw new Error(`user ${name} exists`);
  const { token, session } = await sessions.start({ userId }, '127.0.0.1');
  return { userId, name, cookie: `pawket_session=${token}`, csrf: session.csrf };
}

/** A key the person made (as "My keys" makes them): it acts with the person's rights of now. */
export async function personKey(server: TestServer, person: SignedIn, owner: string, scopes: KeyScope[] = ['read', 'push-new', 'push', 'unlist']): Promise<string> {
  const key = generateApiKey();
  await server.feed.accessDb.insertKey({
    keyId: `k${randomBytes(5).toString('hex')}`,
    hint: key.slice(-4),
    name: `${person.name}-key`,
    owner,
    scopes,
    patterns: [],
    created: new Date().toISOString(),
    createdBy: person.name,
    expires: null,
    lastUsed: null,
    revoked: null,
    feeds: null,
    userId: person.userId,
    hash: hashApiKey(key),
  });
  return key;
}

/** A page as the person's browser gets it (no redirects followed). */
export function browse(server: TestServer, who: SignedIn | null, path: string): Promise<Response> {
  return fetch(`${server.url}${path}`, { redirect: 'manual', headers: who ? { cookie: who.cookie } : {} });
}

/** A form post from the person's browser on our own page: the session's CSRF token unless `csrf` says otherwise. */
export function submit(
  server: TestServer,
  who: SignedIn,
  path: string,
  fields: Record<string, string>,
  opts: { csrf?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const csrf = opts.csrf === undefined ? who.csrf : opts.csrf;
  const body = new URLSearchParams({ ...fields, ...(csrf !== null ? { _csrf: csrf } : {}) });
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: who.cookie, 'sec-fetch-site': 'same-origin', ...opts.headers },
  });
}
