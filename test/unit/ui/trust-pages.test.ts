/**
 * "Trusted publishing" (/account/trust) on a real server: a person creates a policy for an owner they act for through
 * the form, disables, enables and deletes it; forms without the session's token or from another site change nothing;
 * another person neither sees nor deletes it; admins see every policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorPrincipal } from '../../../src/feed/auth.js';
import { trustPoliciesOf } from '../../../src/trust/policies.js';
import { startTestServer, type TestServer } from '../../support/app.js';
import { addMember, addUser, createFeed, grant, postForm, signInAs, signInWithKey, type Browser } from './people-support.js';

let server: TestServer;
let alice: Browser;
let bob: Browser;
let admin: Browser;

beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0 });
  await createFeed(server, 'dev');
  const aliceId = await addUser(server, 'alice');
  const bobId = await addUser(server, 'bob');
  await addMember(server, 'contoso', aliceId);
  await grant(server, 'dev', 'alice', 'contributor');
  alice = await signInAs(server, aliceId);
  bob = await signInAs(server, bobId);
  admin = await signInWithKey(server);
});
afterAll(async () => {
  await server?.close();
});

const operator = operatorPrincipal('test');
const policies = () => trustPoliciesOf(server.feed.hub).list(operator);
const page = async (browser: Browser | null, path = '/account/trust') => {
  const res = await fetch(`${server.url}${path}`, { headers: browser ? { cookie: browser.cookie } : {}, redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
};
const widgets = { name: 'widgets release', owner: 'contoso', provider: 'github', repository: 'contoso/widgets', workflow: 'release.yml', 'scopes[]': ['push-new', 'push'], 'feeds[]': ['dev'], keyLifetime: '900' };

describe('Trusted publishing pages', () => {
  it('sends a visitor who is not signed in to the sign-in page, and links the page from the account area', async () => {
    const res = await page(null);
    expect(res.status).toBe(303);
    expect(res.location).toBe('/signin?returnTo=%2Faccount%2Ftrust');
    expect((await page(alice, '/')).body).toContain('<a href="/account/trust">Trusted publishing</a>');
  });

  it('offers the owners the person acts for and the feeds they publish to, without inline script or style', async () => {
    const { status, body } = await page(alice);
    expect(status).toBe(200);
    expect(body).toContain('No trust policies yet');
    expect(body).toMatch(/<select id="policy-owner" name="owner"><option>alice<\/option><option>contoso<\/option><\/select>/);
    expect(body).toContain('value="dev"');
    expect(body).not.toMatch(/<script>|<script(?![^>]*src=)|style=|<style/);
  });

  it('creates a policy through the form (303 back to the list), which the person then disables, enables and deletes', async () => {
    const created = await postForm(server, alice, '/account/trust', widgets);
    expect(created.status, await created.clone().text()).toBe(303);
    const [policy] = await policies();
    expect(policy).toMatchObject({
      name: 'widgets release',
      owner: 'contoso',
      provider: 'github',
      claims: { repository: 'contoso/widgets', repository_owner: 'contoso', workflow: 'release.yml' },
      scopes: ['push-new', 'push'],
      feeds: [server.feed.hub.definition('dev')!.id],
      keyLifetime: 900,
    });
    expect(created.headers.get('location')).toBe(`/account/trust?created=${policy!.policyId}`);
    const listed = await page(alice, created.headers.get('location')!);
    expect(listed.body).toContain(`Created trust policy ${policy!.policyId}.`);
    expect(listed.body).toContain('<code>repository=contoso/widgets</code>');

    // Another person sees nothing of it and cannot delete it; an admin sees it.
    expect((await page(bob)).body).not.toContain('<code>repository=contoso/widgets</code>');
    const theirs = await postForm(server, bob, `/account/trust/${policy!.policyId}/delete`, { confirm: 'yes' });
    expect(theirs.status).toBe(403);
    expect(await theirs.text()).toContain('it belongs to contoso');
    expect(await policies()).toHaveLength(1);
    expect((await page(admin)).body).toContain('<code>repository=contoso/widgets</code>');

    const off = await postForm(server, alice, `/account/trust/${policy!.policyId}/disable`);
    expect(off.status).toBe(303);
    expect((await policies())[0]!.disabled).toBe(true);
    expect((await page(alice)).body).toContain('>Enable</button>');
    expect((await postForm(server, alice, `/account/trust/${policy!.policyId}/enable`)).status).toBe(303);
    expect((await policies())[0]!.disabled).toBe(false);
    const unconfirmed = await postForm(server, alice, `/account/trust/${policy!.policyId}/delete`);
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toContain('Tick &quot;delete&quot;');
    expect(await policies()).toHaveLength(1);
    const gone = await postForm(server, alice, `/account/trust/${policy!.policyId}/delete`, { confirm: 'yes' });
    expect(gone.headers.get('location')).toBe(`/account/trust?deleted=${policy!.policyId}`);
    expect(await policies()).toHaveLength(0);
  });

  it('refuses a form without the session token or from another site, and changes nothing', async () => {
    const noToken = await postForm(server, alice, '/account/trust', widgets, { csrf: null });
    expect(noToken.status).toBe(403);
    expect(await noToken.text()).toContain('security token does not match');
    const crossSite = await postForm(server, alice, '/account/trust', widgets, { headers: { origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    const made = (await trustPoliciesOf(server.feed.hub).create(operator, { name: 'kept', owner: 'contoso', provider: 'gitlab', project: 'contoso/widgets', audience: 'https://nuget.example.com' })).policyId;
    expect((await postForm(server, alice, `/account/trust/${made}/delete`, { confirm: 'yes' }, { csrf: 'wrong' })).status).toBe(403);
    expect((await policies()).map((p) => p.name)).toEqual(['kept']);
    await trustPoliciesOf(server.feed.hub).delete(operator, made);
  });

  it('answers a refused policy with the page, the message and the form as it was sent', async () => {
    const tooBroad = await postForm(server, alice, '/account/trust', { ...widgets, 'feeds[]': [], repository: 'contoso/widgets' });
    expect(tooBroad.status).toBe(403);
    const body = await tooBroad.text();
    expect(body).toContain('every feed (*) is for admins');
    expect(body).toContain('value="widgets release"');
    const bad = await postForm(server, alice, '/account/trust', { ...widgets, repository: 'widgets' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('&#39;widgets&#39; is not a GitHub repository');
    const notTheirs = await postForm(server, bob, '/account/trust', { ...widgets, 'feeds[]': ['dev'] });
    expect(notTheirs.status).toBe(403);
    expect(await policies()).toHaveLength(0);
  });
});
