/**
 * Trusted publishing's token exchange against a real server and a real issuer on loopback (tokens signed by jose):
 * a GitHub-style token becomes a short-lived key that pushes within its policy; the first exchange binds the
 * repository's numeric ids; the answers to what must fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KyselyTrustDatabase } from '../../../src/db/kysely-trust-database.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { OidcIssuer } from '../../support/oidc-issuer.js';

let s: TestServer;
let issuer: OidcIssuer;
let trust: KyselyTrustDatabase;
let policyId: number;

const GITHUB = { repository: 'contoso/widgets', repository_owner: 'contoso', repository_id: '1001', repository_owner_id: '2002', job_workflow_ref: 'contoso/widgets/.github/workflows/release.yml@refs/heads/main', run_id: '77' };

beforeAll(async () => {
  issuer = await new OidcIssuer().start();
  s = await startTestServer();
  trust = new KyselyTrustDatabase(s.feed.hub.shared.kysely);
  policyId = (
    await trust.createPolicy({
      name: 'widgets release',
      owner: 'contoso',
      provider: 'github',
      issuer: issuer.url,
      claims: { repository: 'Contoso/Widgets', repository_owner: 'contoso', workflow: 'release.yml' },
      audience: null,
      scopes: ['push-new', 'push'],
      patterns: ['Contoso.Widgets*'],
      feeds: null,
      keyLifetime: 3600,
      created: new Date().toISOString(),
      createdBy: 'test',
      disabled: false,
    })
  ).policyId;
});
afterAll(async () => {
  await s.close();
  await issuer.stop();
});

async function exchange(token: string | null, body: unknown = { username: 'contoso', tokenType: 'ApiKey' }): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${s.url}/api/v2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('token exchange', () => {
  it('issues a key of at most an hour that pushes within its policy, once per token, and binds the repository ids', async () => {
    const token = await issuer.token({ audience: s.url, claims: GITHUB });
    const res = await exchange(token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const key = res.body.apiKey!;
    expect(key).toMatch(/.{20,}/);
    expect(Date.parse(res.body.expires!) - Date.now()).toBeLessThanOrEqual(3600_000);
    expect((await pushRaw(s.url, await buildNupkg({ id: 'Contoso.Widgets', version: '1.0.0' }), key)).status).toBe(201);
    expect((await pushRaw(s.url, await buildNupkg({ id: 'Contoso.Other', version: '1.0.0' }), key)).status).toBe(403);

    const replay = await exchange(token);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatch(/exchanged already/);
    // The ids are bound now: the same name with another repository id is not trusted.
    expect((await trust.getPolicy(policyId))!.claims).toMatchObject({ repository_id: '1001', repository_owner_id: '2002' });
    const recreated = await exchange(await issuer.token({ audience: s.url, claims: { ...GITHUB, repository_id: '9999' } }));
    expect(recreated.status).toBe(403);
    expect(recreated.body.error).toMatch(/repository_id/);
  });

  it('refuses what it must, saying why', async () => {
    const cases: Array<[string, Promise<{ status: number; body: Record<string, string> }>, number, RegExp]> = [
      ['no token', exchange(null), 401, /Bearer/],
      ['not JSON', exchange(await issuer.token({ audience: s.url, claims: GITHUB }), 'nope'), 400, /not JSON/],
      ['wrong tokenType', exchange(await issuer.token({ audience: s.url, claims: GITHUB }), { username: 'contoso', tokenType: 'Other' }), 400, /tokenType/],
      ['another owner', exchange(await issuer.token({ audience: s.url, claims: GITHUB }), { username: 'fabrikam', tokenType: 'ApiKey' }), 401, /fabrikam/],
      ['another audience', exchange(await issuer.token({ audience: 'https://elsewhere.example', claims: GITHUB })), 403, /audience/],
      ['expired', exchange(await issuer.token({ audience: s.url, claims: GITHUB, expiresIn: -600 })), 401, /expired/],
      ['not yet valid', exchange(await issuer.token({ audience: s.url, claims: GITHUB, notBefore: 600 })), 401, /not valid yet/],
      ['unknown kid', exchange(await issuer.token({ audience: s.url, claims: GITHUB, kid: 'no-such-key' })), 401, /kid/],
      ['another workflow', exchange(await issuer.token({ audience: s.url, claims: { ...GITHUB, job_workflow_ref: 'contoso/widgets/.github/workflows/ci.yml@refs/heads/main' } })), 403, /workflow/],
    ];
    for (const [what, pending, status, message] of cases) {
      const res = await pending;
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(status);
      expect(res.body.error, what).toMatch(message);
    }
    // alg none, and an unknown issuer.
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: issuer.url, aud: s.url, exp: Math.floor(Date.now() / 1000) + 300, iat: Math.floor(Date.now() / 1000), ...GITHUB })).toString('base64url');
    const none = await exchange(`${header}.${payload}.`);
    expect(none.status).toBe(401);
    const stranger = Buffer.from(JSON.stringify({ iss: 'https://issuer.invalid', aud: s.url })).toString('base64url');
    const unknown = await exchange(`${header}.${stranger}.x`);
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toMatch(/No trust policy on this server trusts/);
  });
});
