import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.js';
import { startPawket, type PawketServer } from './support/server.js';

/**
 * Signing in with OpenID Connect to the built server, configured as an administrator would (PAWKET_SIGN_IN), on a
 * private feed behind a proxy that says the browser used HTTPS.
 */

let idp: OidcTestProvider;
let pawket: PawketServer;

beforeAll(async () => {
  idp = await startOidcProvider({
    users: [{ sub: 'u-rita', preferred_username: 'rita', email: 'rita@example.com', email_verified: true, name: 'Rita Reader', groups: ['pawket-admins'] }],
  });
  const signIn = {
    providers: [{ name: 'company', label: 'Company', issuer: idp.issuer, clientId: 'pawket-e2e', clientSecret: 'e2e-secret', scopes: ['openid', 'profile', 'email', 'groups'], adminGroups: ['pawket-admins'] }],
  };
  pawket = await startPawket({
    env: { PAWKET_API_KEY: 'e2e-admin-key-0123456789', PAWKET_PRIVATE: 'true', PAWKET_TRUST_PROXY: 'true', PAWKET_SIGN_IN: JSON.stringify(signIn) },
  });
  const https = pawket.baseUrl.replace(/^http:/, 'https:');
  idp.addClient({
    client_id: 'pawket-e2e',
    client_secret: 'e2e-secret',
    redirect_uris: [`${pawket.baseUrl}/signin/company/callback`, `${https}/signin/company/callback`],
  });
}, 60_000);

afterAll(async () => {
  await pawket?.stop();
  await idp?.close();
});

async function get(url: string, jar: CookieJar, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(), ...headers } });
  jar.store(response);
  return response;
}

describe('signing in to a private feed', () => {
  it('signs in through the provider on a private feed (the flow is open to anonymous browsers); the admin then browses it', async () => {
    const anonymous = await fetch(`${pawket.baseUrl}/`, { redirect: 'manual' });
    expect(anonymous.status).not.toBe(200);

    const jar = new CookieJar();
    const start = await get(`${pawket.baseUrl}/signin/company?returnTo=${encodeURIComponent('/?q=contoso')}`, jar);
    expect(start.status).toBe(302);
    const authorization = new URL(start.headers.get('location')!);
    expect(authorization.origin).toBe(idp.issuer);
    expect(authorization.searchParams.get('redirect_uri')).toBe(`${pawket.baseUrl}/signin/company/callback`);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('state')).toBeTruthy();
    expect(authorization.searchParams.get('nonce')).toBeTruthy();

    const done = await get(await idp.login(authorization.toString(), 'u-rita'), jar);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/?q=contoso');
    const home = await get(`${pawket.baseUrl}/`, jar);
    expect(home.status).toBe(200);
    const page = await home.text();
    expect(page).toContain('Rita Reader');
    expect(page).toContain('href="/admin"');
  });

  it('marks the cookies Secure when the proxy says the browser used HTTPS, with an https redirect URI', async () => {
    const proxied = { 'x-forwarded-proto': 'https' };
    const jar = new CookieJar();
    const start = await get(`${pawket.baseUrl}/signin/company`, jar, proxied);
    expect(start.status).toBe(302);
    expect(start.headers.getSetCookie().find((c) => c.startsWith('pawket_signin='))).toMatch(/; Secure/);
    const authorization = new URL(start.headers.get('location')!);
    const https = pawket.baseUrl.replace(/^http:/, 'https:');
    expect(authorization.searchParams.get('redirect_uri')).toBe(`${https}/signin/company/callback`);

    // The browser comes back through the proxy: plain HTTP from the proxy to Pawket.
    const callbackUrl = (await idp.login(authorization.toString(), 'u-rita')).replace(/^https:/, 'http:');
    const done = await get(callbackUrl, jar, proxied);
    expect(done.status).toBe(303);
    const session = done.headers.getSetCookie().find((c) => c.startsWith('pawket_session='))!;
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
  });

  it('logs no secret of the sign-in', () => {
    const log = pawket.output();
    expect(log).toContain('signed in');
    expect(log).not.toContain('e2e-secret');
  });
});
