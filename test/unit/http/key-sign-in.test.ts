/** Signing in to the web UI with an API key (what a server without an identity provider offers), and signing out. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeReturnPath } from '../../../src/http/session.js';
import { startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { TEST_ADMIN } from '../auth/support.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ badKeyLimit: 0 });
});
afterAll(async () => {
  await server?.close();
});

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  redirect: 'manual' as const,
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
});

async function signIn(key: string, returnTo = '/'): Promise<{ res: Response; cookie: string | null }> {
  const res = await fetch(`${server.url}/signin/key`, form({ apikey: key, returnTo }));
  const set = res.headers.get('set-cookie');
  return { res, cookie: set ? set.split(';')[0]! : null };
}

const page = (path: string, cookie: string) => fetch(`${server.url}${path}`, { headers: { cookie } }).then((r) => r.text());
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

describe('signing in with an API key', () => {
  it('starts a session in an HttpOnly SameSite=Lax cookie and comes back to the page asked for', async () => {
    const { res, cookie } = await signIn(TEST_KEY, '/packages/Some.Id');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/packages/Some.Id');
    expect(res.headers.get('set-cookie')).toMatch(/^pawket_session=[\w-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    const home = await page('/', cookie!);
    expect(home).toContain('<a href="/account/keys">My keys</a>');
    expect(home).toContain('<a href="/admin">Admin</a>');
    expect(csrfOf(home)).toBeTruthy();
  });

  it('refuses a bad key with the sign-in page and a 401, and sets no cookie', async () => {
    const { res, cookie } = await signIn('not-a-key');
    expect(res.status).toBe(401);
    expect(cookie).toBeNull();
    expect(await res.text()).toContain('invalid');
  });

  it('never sends the browser to another site afterwards', async () => {
    for (const evil of ['https://evil.example/', '//evil.example/', '/\\evil.example', '/\t/evil.example', 'javascript:alert(1)']) {
      const { res } = await signIn(TEST_KEY, evil);
      expect(res.headers.get('location')).toBe('/');
    }
    expect(safeReturnPath('/f/dev/packages/A?x=1')).toBe('/f/dev/packages/A?x=1');
    expect(safeReturnPath('/%2F%2Fevil.example')).toBe('/%2F%2Fevil.example');
  });

  it('refuses a sign-in form posted from another site', async () => {
    const res = await fetch(`${server.url}/signin/key`, form({ apikey: TEST_KEY, returnTo: '/' }, { origin: 'https://evil.example' }));
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('signs out only with the page\'s token, and the old cookie opens nothing afterwards', async () => {
    const { cookie } = await signIn(TEST_KEY);
    const csrf = csrfOf(await page('/', cookie!))!;
    const forged = await fetch(`${server.url}/signout`, form({ _csrf: 'forged' }, { cookie: cookie! }));
    expect(forged.status).toBe(403);
    expect(await page('/', cookie!)).toContain('My keys');

    const out = await fetch(`${server.url}/signout`, form({ _csrf: csrf }, { cookie: cookie! }));
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^pawket_session=; Path=\/; Max-Age=0/);
    const after = await page('/', cookie!);
    expect(after).not.toContain('My keys');
    expect(after).toContain('Sign in');
  });

  it('ends a key session when its key is revoked', async () => {
    const { key, record } = await server.feed.keys.create(TEST_ADMIN, { name: 'ui', owner: 'ops', scopes: ['read'] });
    const { cookie } = await signIn(key);
    expect(await page('/', cookie!)).toContain('My keys');
    await server.feed.keys.revoke(TEST_ADMIN, record.keyId);
    server.feed.auth.forget(record.keyId);
    expect(await page('/', cookie!)).not.toContain('My keys');
  });
});
