/**
 * The full permission matrix of issue 6: each scope x own / foreign / new id x unreserved / reserved-for-me /
 * reserved-for-another prefix x active / expired / revoked key, for push, delete (unlist) and relist. Every case
 * checks the exact status, and that a refusal changes nothing (versions, listed state, ownership).
 *
 * The acting keys belong to owner "alpha"; "beta" is the other team. Delete and relist answer 200 (as before access
 * control; NuGet clients accept any 2xx), push answers 201.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope } from '../../../src/db/access-database.js';
import { startTestServer, type TestServer } from '../../support/app.js';
import { keyFor, push, relist, snapshot, TEST_ADMIN, unlist, type KeyState } from './support.js';

type Target = 'own' | 'foreign' | 'new';
type Prefix = 'unreserved' | 'reserved-mine' | 'reserved-theirs';
type Operation = 'push' | 'delete' | 'relist';

const SCOPES: KeyScope[] = ['read', 'push', 'push-new', 'unlist', 'admin'];
const STATES: KeyState[] = ['active', 'expired', 'revoked'];
const TARGETS: Target[] = ['own', 'foreign', 'new'];
const PREFIXES: Prefix[] = ['unreserved', 'reserved-mine', 'reserved-theirs'];
const OPERATIONS: Operation[] = ['push', 'delete', 'relist'];

/** The specification, written out: what each case must answer. */
function expectedStatus(op: Operation, scope: KeyScope, state: KeyState, target: Target, prefix: Prefix): number {
  if (state !== 'active') return 401;
  const admin = scope === 'admin';
  if (op === 'push') {
    if (!admin && scope !== 'push' && scope !== 'push-new') return 403;
    if (target === 'new') {
      if (!admin && scope !== 'push-new') return 403; // creating an id needs push-new
      if (!admin && prefix === 'reserved-theirs') return 403; // nobody else may create ids under a reserved prefix
      return 201;
    }
    if (!admin && target === 'foreign') return 403; // ownership decides existing ids, prefixes do not
    return 201;
  }
  if (!admin && scope !== 'unlist') return 403;
  if (target === 'new') return 404;
  if (!admin && target === 'foreign') return 403;
  return 200;
}

let server: TestServer;
/** Keys of alpha by scope and state. */
const keys = new Map<string, string>();
let alphaSetup: string;
let betaSetup: string;
let caseNumber = 0;

beforeAll(async () => {
  // Bad keys are part of the matrix: no rate limit here (test/security/keys.test.ts covers it).
  server = await startTestServer({ badKeyLimit: 0 });
  for (const scope of SCOPES) for (const state of STATES) keys.set(`${scope}/${state}`, await keyFor(server, 'alpha', [scope], state));
  alphaSetup = await keyFor(server, 'alpha', ['push-new', 'unlist']);
  betaSetup = await keyFor(server, 'beta', ['push-new', 'unlist']);
});

afterAll(async () => {
  await server?.close();
});

/** Creates the case's id (owned by alpha or beta, version 1.0.0, unlisted for relist cases) and its prefix reservation. */
async function arrange(op: Operation, target: Target, prefix: Prefix): Promise<string> {
  const id = `Case${++caseNumber}.${target}.Lib`;
  if (target !== 'new') {
    const setupKey = target === 'own' ? alphaSetup : betaSetup;
    expect((await push(server, setupKey, id, '1.0.0')).status).toBe(201);
    if (op === 'relist') expect((await unlist(server, setupKey, id, '1.0.0')).status).toBe(200);
  }
  // Reserved after the id exists: existing ids keep their owners.
  if (prefix !== 'unreserved') {
    await server.feed.ownership.reservePrefix(TEST_ADMIN, `Case${caseNumber}.*`, prefix === 'reserved-mine' ? 'alpha' : 'beta');
  }
  return id;
}

async function act(op: Operation, key: string, id: string): Promise<Response> {
  if (op === 'push') return push(server, key, id, '2.0.0');
  if (op === 'delete') return unlist(server, key, id, '1.0.0');
  return relist(server, key, id, '1.0.0');
}

describe.each(OPERATIONS)('%s', (op) => {
  describe.each(SCOPES)('with a %s key', (scope) => {
    for (const state of STATES) {
      for (const target of TARGETS) {
        for (const prefix of PREFIXES) {
          const status = expectedStatus(op, scope, state, target, prefix);
          it(`${state}, ${target} id, ${prefix} prefix: ${status}`, async () => {
            const id = await arrange(op, target, prefix);
            const before = await snapshot(server, id);
            const res = await act(op, keys.get(`${scope}/${state}`)!, id);
            const reason = `${res.status} ${res.statusText}`;
            expect(res.status, reason).toBe(status);
            const after = await snapshot(server, id);
            if (status >= 400) {
              expect(after, 'a refusal changes nothing').toEqual(before);
              // The reason names the package id (403; a key that may not push at all is refused before the package is
              // read, so its reason names the scope instead) or says what is wrong with the key (401).
              if (status === 403) expect(res.statusText).toMatch(op === 'push' && (scope === 'read' || scope === 'unlist') ? /may not push packages/ : id);
              if (status === 401) expect(res.statusText).toMatch(state === 'expired' ? /expired/ : /revoked/);
              return;
            }
            if (op === 'push') {
              expect(after.versions.map((v) => v.split(':')[0])).toEqual([...(target === 'new' ? [] : ['1.0.0']), '2.0.0']);
              const owners = target === 'new' ? (prefix === 'reserved-theirs' ? ['alpha', 'beta'] : ['alpha']) : before.owners;
              expect(after.owners).toEqual(owners);
            } else {
              expect(after.versions).toHaveLength(1);
              expect(after.versions[0]).toContain(op === 'delete' ? ':unlisted:' : ':listed:');
              expect(after.owners).toEqual(before.owners);
            }
          });
        }
      }
    }
  });
});
