/**
 * A feed's signer policy pages (`{prefix}/admin/signers`) on a real server, signed in as a browser would be; and who
 * signed a package, on its page and in its registration, from the signature kept with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { addUser, createFeed, grant, postForm, signInAs, type Browser } from './people-support.js';

const FP = 'C3'.repeat(32);
let server: TestServer;
let admin: Browser;
let owner: Browser;

beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0, signIn: { admins: ['root'] } });
  await createFeed(server, 'dev');
  admin = await signInAs(server, await addUser(server, 'root'));
  await addUser(server, 'dave');
  await grant(server, 'dev', 'dave', 'owner');
  owner = await signInAs(server, (await server.feed.hub.shared.people.db.findUser('dave'))!.userId);
});
afterAll(async () => {
  await server?.close();
});

const get = (path: string, browser: Browser | null) => fetch(`${server.url}${path}`, { headers: browser ? { cookie: browser.cookie } : {}, redirect: 'manual' });
const devPolicies = async () => (await server.feed.hub.feed('dev'))!.signers.list();

describe('the signer policy pages', () => {
  it('are for admins of the feed: owners are refused, nobody signed in is sent to sign in', async () => {
    const anonymous = await get('/f/dev/admin/signers', null);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/signin?returnTo=%2Ff%2Fdev%2Fadmin%2Fsigners');
    const refused = await get('/f/dev/admin/signers', owner);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Only an admin of the feed dev may manage its signer policies');
    expect((await postForm(server, owner, '/f/dev/admin/signers', { name: 'x', owner: 'x', mode: 'verify' })).status).toBe(403);
    expect((await postForm(server, admin, '/f/dev/admin/signers', { name: 'x', owner: 'x', mode: 'verify' }, { csrf: null })).status).toBe(403);
    expect(await devPolicies()).toEqual([]);
  });

  it('add a policy, show it, refuse a bad one with the form filled in, and remove it', async () => {
    expect(await (await get('/f/dev/admin/signers', admin)).text()).toContain('This feed has no signer policies.');
    const added = await postForm(server, admin, '/f/dev/admin/signers', { name: 'contoso', pattern: 'Contoso.*', owner: '', mode: 'require', fingerprints: `${FP}\n` });
    expect(added.status).toBe(303);
    expect(added.headers.get('location')).toBe('/f/dev/admin/signers?done=added');
    const page = await (await get('/f/dev/admin/signers?done=added', admin)).text();
    expect(page).toContain('The policy was added');
    expect(page).toMatch(/<td><code>Contoso\.\*<\/code><\/td>\s*<td><span class="muted">any<\/span><\/td>\s*<td>require<\/td>/);
    expect(page).toContain(`<code class="fingerprint">${FP}</code>`);
    // Only on its own feed.
    expect(await (await get('/admin/signers', admin)).text()).toContain('This feed has no signer policies.');

    const bad = await postForm(server, admin, '/f/dev/admin/signers', { name: 'fab', pattern: 'Fabrikam.*', mode: 'require', fingerprints: 'not-a-fingerprint' });
    expect(bad.status).toBe(400);
    const again = await bad.text();
    expect(again).toContain('fingerprints: &#39;not-a-fingerprint&#39; is not a SHA-256 certificate fingerprint');
    expect(again).toContain('value="Fabrikam.*"');

    const removed = await postForm(server, admin, '/f/dev/admin/signers/contoso/remove', { confirm: 'yes' });
    expect(removed.status).toBe(303);
    expect(await devPolicies()).toEqual([]);
    const audit = await server.feed.accessDb.listAudit({ limit: 20, feedId: server.feed.hub.definition('dev')!.id });
    expect(audit.filter((e) => e.action.startsWith('signers.')).map((e) => [e.action, e.owner])).toEqual([
      ['signers.remove', 'root'],
      ['signers.add', 'root'],
    ]);
  });
});

describe('who signed a package', () => {
  it('is on its page and in its registration: author and repository subject and fingerprint', async () => {
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Signed', version: '1.0.0' }))).status).toBe(201);
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Contoso.Signed', version: '2.0.0' }))).status).toBe(201);
    // What ingestion keeps with a signed package (the verdict's signature), written here as it would be.
    const signer = (subject: string, sha256: string) => ({ subject, issuer: 'CN=Test Root', sha256, notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z' });
    const signature = {
      author: { ...signer('CN=Contoso Release <Signing>', FP), timestamp: '2026-06-01T12:00:00.000Z' },
      repository: { ...signer('CN=Pawket Repository', 'D4'.repeat(32)), serviceIndex: 'https://nuget.example.com/v3/index.json', owners: ['contoso'] },
    };
    const k = server.feed.hub.shared.kysely as unknown as Kysely<{ packages: { metadata: string; lower_id: string; lower_version: string } }>;
    const row = await k.selectFrom('packages').select('metadata').where('lower_id', '=', 'contoso.signed').where('lower_version', '=', '1.0.0').executeTakeFirstOrThrow();
    const metadata = JSON.stringify({ ...(JSON.parse(row.metadata) as object), signature });
    await k.updateTable('packages').set({ metadata }).where('lower_id', '=', 'contoso.signed').where('lower_version', '=', '1.0.0').execute();
    server.feed.events.packageChanged('contoso.signed');

    const page = await (await get('/packages/Contoso.Signed/1.0.0', null)).text();
    expect(page).toMatch(/<dt>Author signature<\/dt><dd class="signer">CN=Contoso Release &lt;Signing&gt;<br><code class="fingerprint"[^>]*>C3C3/);
    expect(page).toContain('timestamped');
    expect(page).toMatch(/<dt>Repository signature<\/dt><dd class="signer">CN=Pawket Repository<br><code class="fingerprint"[^>]*>D4D4/);
    // An unsigned version says nothing it does not know.
    expect(await (await get('/packages/Contoso.Signed/2.0.0', null)).text()).not.toContain('signature</dt>');

    const index = (await (await get('/v3/registration/contoso.signed/index.json', null)).json()) as { items: Array<{ items: Array<{ catalogEntry: Record<string, unknown> }> }> };
    const [v1, v2] = index.items[0]!.items.map((i) => i.catalogEntry);
    expect(v1!.signature).toEqual({ author: { subject: 'CN=Contoso Release <Signing>', sha256: FP }, repository: { subject: 'CN=Pawket Repository', sha256: 'D4'.repeat(32) } });
    expect(v2!.signature).toBeUndefined();
  });
});
