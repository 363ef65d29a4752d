import type { KeyScope } from '../../../src/db/access-database.js';
import type { Actor } from '../../../src/feed/auth.js';
import type { NewKeyRequest } from '../../../src/feed/keys.js';
import { lowerId } from '../../../src/nuget/id.js';
import { pushRaw, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

/** The admin acting in tests (as the command line would). */
export const TEST_ADMIN: Actor = { name: 'test admin', keyId: null, owner: null, address: null };

export type KeyState = 'active' | 'expired' | 'revoked';

/** Creates a key directly in the feed (as `pawket keys create` does) and returns the key itself. */
export async function createKey(
  server: TestServer,
  request: Omit<NewKeyRequest, 'name'> & { name?: string },
  state: KeyState = 'active',
): Promise<string> {
  const { key, record } = await server.feed.keys.create(TEST_ADMIN, {
    name: request.name ?? `${request.owner}-${request.scopes.join('+')}-${state}`,
    ...request,
    expires: state === 'expired' ? '2020-01-01T00:00:00Z' : request.expires,
  });
  if (state === 'revoked') await server.feed.keys.revoke(TEST_ADMIN, record.keyId);
  return key;
}

export function keyFor(server: TestServer, owner: string, scopes: KeyScope[], state: KeyState = 'active', patterns?: string[]) {
  return createKey(server, { owner, scopes, patterns }, state);
}

export async function push(server: TestServer, key: string, id: string, version: string): Promise<Response> {
  return pushRaw(server.url, await buildNupkg({ id, version }), key);
}

export function unlist(server: TestServer, key: string, id: string, version: string): Promise<Response> {
  return fetch(`${server.url}/api/v2/package/${id}/${version}`, { method: 'DELETE', headers: { 'x-nuget-apikey': key } });
}

export function relist(server: TestServer, key: string, id: string, version: string): Promise<Response> {
  return fetch(`${server.url}/api/v2/package/${id}/${version}`, { method: 'POST', headers: { 'x-nuget-apikey': key } });
}

/** What a refusal must leave untouched: every version with its listed state, and the id's registration. */
export async function snapshot(server: TestServer, id: string) {
  const lid = lowerId(id);
  const versions = (await server.feed.db.listVersions(lid))
    .map((v) => `${v.lowerVersion}:${v.listed ? 'listed' : 'unlisted'}:${v.sha512}`)
    .sort();
  const registration = await server.feed.accessDb.registration(lid);
  return { versions, registered: registration.registered, owners: [...registration.owners].sort() };
}
