/**
 * `pawket orgs ...` and `pawket feeds roles|grant|revoke` (the built binary) beside a running server on the same
 * database: what the commands change, the server's pages and rights show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedAdmin } from '../../src/feed/feed-admin.js';
import { startTestServer, type TestServer } from '../support/app.js';
import { freshBackendSettings } from '../support/backend.js';
import { TEST_ADMIN } from '../unit/auth/support.js';
import { browse, signedInPerson, type SignedIn } from '../unit/people/support.js';
import { describeRun, run } from './support/dotnet.js';
import { pawketMain } from './support/server.js';

let server: TestServer;
let env: Record<string, string>;
let alice: SignedIn;
let bob: SignedIn;
let quinn: SignedIn;

function pawket(...args: string[]) {
  return run(process.execPath, [pawketMain, ...args, '--data-dir', server.dataDir], { env, timeoutMs: 60_000 });
}

async function ok(...args: string[]) {
  const r = await pawket(...args);
  expect(r.code, describeRun(r)).toBe(0);
  return r.stdout;
}

async function fails(message: RegExp, ...args: string[]) {
  const r = await pawket(...args);
  expect(r.code, describeRun(r)).toBe(1);
  expect(r.stderr).toMatch(message);
}

beforeAll(async () => {
  // The same backend for the server and the commands beside it.
  const settings = await freshBackendSettings();
  env = Object.fromEntries(Object.entries(settings).map(([k, v]) => [`PAWKET_${k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}`, String(v)]));
  server = await startTestServer(settings);
  await new FeedAdmin(server.feed.hub).create(TEST_ADMIN, { name: 'dev', settings: { private: true } });
  alice = await signedInPerson(server, 'alice');
  bob = await signedInPerson(server, 'bob');
  quinn = await signedInPerson(server, 'quinn', { groups: ['qa'] });
});
afterAll(async () => {
  await server?.close();
});

describe('pawket orgs and pawket feeds grant', { timeout: 180_000 }, () => {
  it('creates an organisation with its first admin, adds and removes members, and deletes it', async () => {
    expect(await ok('orgs', 'create', 'Acme', '--description', 'Acme builds', '--admin', 'alice')).toMatch(/Created organisation acme with admin alice/);
    await fails(/The name acme is taken/, 'orgs', 'create', 'acme');
    await fails(/There is no user nobody/, 'orgs', 'add-member', 'acme', 'nobody');
    expect(await ok('orgs', 'add-member', 'acme', 'bob')).toMatch(/bob is a member of acme/);
    const list = JSON.parse(await ok('orgs', 'list', '--json')) as Array<{ name: string; description: string }>;
    expect(list).toEqual([expect.objectContaining({ name: 'acme', description: 'Acme builds' })]);
    const shown = JSON.parse(await ok('orgs', 'show', 'acme', '--json')) as { members: Array<{ user: string; role: string }> };
    expect(shown.members.map((m) => `${m.user}:${m.role}`)).toEqual(['alice:admin', 'bob:member']);
    expect(await ok('orgs', 'show', 'acme')).toMatch(/MEMBER\s+ROLE\s+SOURCE\nalice\s+admin\s+direct\nbob\s+member\s+direct/);

    // The running server shows what the commands did.
    expect(await (await browse(server, bob, '/orgs')).text()).toContain('href="/orgs/acme"');
    await fails(/alice is the last admin of acme/, 'orgs', 'remove-member', 'acme', 'alice');
    expect(await ok('orgs', 'remove-member', 'acme', 'bob')).toMatch(/Removed bob from acme/);
    expect((await browse(server, bob, '/orgs/acme')).status).toBe(404);

    expect(await ok('orgs', 'delete', 'acme')).toMatch(/Deleted organisation acme/);
    await fails(/There is no organisation acme/, 'orgs', 'show', 'acme');
  });

  it('grants, lists and revokes roles on a feed; the running server applies them', async () => {
    expect((await browse(server, quinn, '/f/dev/')).status).not.toBe(200);
    expect(await ok('feeds', 'grant', 'dev', '--group', 'qa', '--role', 'reader')).toMatch(/Granted reader on dev to group qa/);
    expect(await ok('feeds', 'grant', 'dev', '--user', 'alice', '--role', 'owner')).toMatch(/Granted owner on dev to user alice/);
    await fails(/exactly one of --user NAME, --org NAME or --group VALUE/, 'feeds', 'grant', 'dev', '--user', 'alice', '--group', 'qa', '--role', 'reader');
    await fails(/'boss' is not a feed role/, 'feeds', 'grant', 'dev', '--user', 'alice', '--role', 'boss');
    await fails(/There is no feed 'nowhere'/, 'feeds', 'grant', 'nowhere', '--user', 'alice', '--role', 'reader');
    const roles = JSON.parse(await ok('feeds', 'roles', 'dev', '--json')) as Array<{ kind: string; grantee: string; role: string }>;
    expect(roles.map((g) => `${g.kind}:${g.grantee}:${g.role}`).sort()).toEqual(['group:qa:reader', 'user:alice:owner']);
    expect((await browse(server, quinn, '/f/dev/')).status).toBe(200);
    expect(await (await browse(server, alice, '/admin/feeds')).text()).toContain('id="feed-dev"');

    expect(await ok('feeds', 'revoke', 'dev', '--group', 'qa')).toMatch(/Revoked the role of group qa on dev/);
    await fails(/The group qa has no role on the feed 'dev'/, 'feeds', 'revoke', 'dev', '--group', 'qa');
    expect((await browse(server, quinn, '/f/dev/')).status).not.toBe(200);
    expect(await ok('feeds', 'roles', 'dev')).toMatch(/KIND\s+NAME\s+ROLE\s+SINCE\nuser\s+alice\s+owner/);
  });
});
