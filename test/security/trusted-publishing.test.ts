/**
 * Hostile tokens and requests against trusted publishing's token exchange, on two real nodes that share one database
 * and a real OIDC issuer on loopback: each is refused with a message that says why, and no key is issued. The keys
 * that are issued cannot do more than their policy allows, nor outlive their expiry.
 */
import { createPublicKey } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { KyselyTrustDatabase } from '../../src/db/kysely-trust-database.js';
import type { AccessTables } from '../../src/db/kysely-access-database.js';
import type { NewTrustPolicy, TrustPolicyRecord } from '../../src/db/trust-database.js';
import { hashApiKey } from '../../src/feed/auth.js';
import { openFeed, type Feed } from '../../src/feed/feed.js';
import { buildApp } from '../../src/http/app.js';
import { pushRaw, startTestServer, type TestServer } from '../support/app.js';
import { freshBackendSettings } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { OidcIssuer } from '../support/oidc-issuer.js';

const KEY = 'trust-security-key-0123456789';
/** The public URL both nodes are configured with (they sit behind one name, as nodes do behind a load balancer). */
const PUBLIC_URL = 'https://nuget.contoso.test';
const RATE = 3;

interface Node {
  readonly feed: Feed;
  readonly app: FastifyInstance;
  readonly url: string;
}
interface Answer {
  readonly status: number;
  readonly body: Record<string, string>;
}

let dataDir: string;
const nodes: Node[] = [];
let a: Node;
let b: Node;
let issuer: OidcIssuer;
let trust: KyselyTrustDatabase;
let teamFeedId: number;

async function startNode(config: Config): Promise<Node> {
  const feed = await openFeed(config);
  const app = await buildApp(feed, config);
  return { feed, app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

beforeAll(async () => {
  issuer = await new OidcIssuer().start();
  dataDir = await mkdtemp(join(tmpdir(), 'pawket-trust-'));
  const settings = {
    dataDir,
    apiKeys: [KEY],
    logLevel: 'silent',
    baseUrl: PUBLIC_URL,
    trustExchangesPerMinute: RATE,
    ...(await freshBackendSettings()),
  };
  a = await startNode(configSchema.parse(settings));
  b = await startNode(configSchema.parse(settings));
  nodes.push(a, b);
  trust = new KyselyTrustDatabase(a.feed.hub.shared.kysely);
  const created = await fetch(`${a.url}/api/admin/feeds`, {
    method: 'POST',
    headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'team' }),
  });
  expect(created.status, await created.text()).toBe(201);
  teamFeedId = a.feed.hub.definition('team')!.id;
});

afterAll(async () => {
  for (const node of nodes) {
    await node.app.close();
    await node.feed.close();
  }
  await issuer?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

let policies = 0;

/** A GitHub policy for a repository of its own (rate limits and id bindings are per policy), and its token's claims. */
async function githubPolicy(
  overrides: Partial<NewTrustPolicy> = {},
  of: OidcIssuer = issuer,
): Promise<{ policy: TrustPolicyRecord; claims: Record<string, string> }> {
  const n = ++policies;
  const repository = `contoso/widgets-${n}`;
  const policy = await trust.createPolicy({
    name: `widgets ${n}`,
    owner: 'contoso',
    provider: 'github',
    issuer: of.url,
    claims: { repository, repository_owner: 'contoso', workflow: 'release.yml' },
    audience: null,
    scopes: ['push-new', 'push'],
    patterns: ['Contoso.Widgets*'],
    feeds: null,
    keyLifetime: 3600,
    created: new Date().toISOString(),
    createdBy: 'test',
    disabled: false,
    ...overrides,
  });
  const claims = {
    repository,
    repository_owner: 'contoso',
    repository_id: String(1000 + n),
    repository_owner_id: '2002',
    job_workflow_ref: `${repository}/.github/workflows/release.yml@refs/heads/main`,
    workflow_ref: `${repository}/.github/workflows/release.yml@refs/heads/main`,
    run_id: String(7000 + n),
    sub: `repo:${repository}:ref:refs/heads/main`,
  };
  return { policy, claims };
}

/**
 * POSTs to `{url}/api/v2/token` with node:http, which lets a test choose every header (Host among them) and send any
 * bytes; the defaults are what `NuGet/login` sends.
 */
function exchange(
  url: string,
  token: string | null,
  opts: { body?: string | Buffer; contentType?: string | null; host?: string; username?: string } = {},
): Promise<Answer> {
  const body = opts.body ?? JSON.stringify({ username: opts.username ?? 'contoso', tokenType: 'ApiKey' });
  const target = new URL(`${url}/api/v2/token`);
  const headers: Record<string, string> = { 'user-agent': 'nuget/login-action', 'content-length': String(Buffer.byteLength(body)) };
  if (opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (opts.host) headers.host = opts.host;
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, string>;
        try {
          parsed = JSON.parse(text) as Record<string, string>;
        } catch {
          parsed = { raw: text };
        }
        resolve({ status: res.statusCode!, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function keyCount(): Promise<number> {
  const row = await a.feed.hub.shared.kysely
    .withTables<AccessTables>()
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Asserts that the answer is a refusal with this status and message, and that no key was created by it. */
async function refused(what: string, pending: Promise<Answer>, status: number, message: RegExp): Promise<Answer> {
  const before = await keyCount();
  const res = await pending;
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(status);
  expect(res.body.error, what).toMatch(message);
  expect(res.body.apiKey, what).toBeUndefined();
  expect(await keyCount(), `${what}: a key was created`).toBe(before);
  return res;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSec = () => Math.floor(Date.now() / 1000);

describe('hostile tokens', () => {
  it('refuses an unsigned token (alg none)', async () => {
    const { claims } = await githubPolicy();
    const payload = { iss: issuer.url, aud: PUBLIC_URL, iat: nowSec(), exp: nowSec() + 300, jti: 'none-1', ...claims };
    for (const token of [`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`, `${b64({ alg: 'none', kid: 'key-1' })}.${b64(payload)}.c2ln`]) {
      await refused('alg none', exchange(a.url, token), 401, /signature algorithm is not accepted/);
    }
  });

  it('refuses HS256 signed with the issuer public key as the secret (algorithm confusion)', async () => {
    const { claims } = await githubPolicy();
    const jwk = issuer.publicJwk();
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const secrets = [Buffer.from(pem), Buffer.from(jwk.n!, 'base64url'), Buffer.from(JSON.stringify(jwk))];
    for (const secret of secrets) {
      const token = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'HS256', kid: 'key-1', typ: 'JWT' })
        .setIssuer(issuer.url)
        .setAudience(PUBLIC_URL)
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti(`hs-${secret.length}`)
        .sign(new Uint8Array(secret));
      await refused('HS256 with the public key', exchange(a.url, token), 401, /signature algorithm is not accepted/);
    }
  });

  it('refuses a token signed by a key the issuer does not publish, with the kid of one it does', async () => {
    const { claims } = await githubPolicy();
    const impostor = await new OidcIssuer().start();
    try {
      // Another key pair, same issuer URL and kid: only the signature tells them apart.
      const forged = await impostor.token({ audience: PUBLIC_URL, claims: { ...claims } });
      const [, payload, signature] = forged.split('.');
      const realPayload = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
      const token = `${b64({ alg: 'RS256', kid: 'key-1', typ: 'JWT' })}.${b64({ ...realPayload, iss: issuer.url })}.${signature}`;
      await refused('forged signature', exchange(a.url, token), 401, /signature does not verify/);
    } finally {
      await impostor.stop();
    }
  });

  it('refuses a valid token for another audience, also when the request names that audience as its Host', async () => {
    const { claims } = await githubPolicy();
    const forNuGetOrg = await issuer.token({ audience: 'https://www.nuget.org', claims });
    await refused('another audience', exchange(a.url, forNuGetOrg), 403, /audience https:\/\/www\.nuget\.org, not https:\/\/nuget\.contoso\.test/);
    await refused('no audience', exchange(a.url, await issuer.token({ claims })), 403, /audience \(none\)/);
    // A token meant for another server (its operator could replay it here): the audience is this server's configured
    // public URL, not whatever Host the request names.
    const elsewhere = await issuer.token({ audience: 'http://nuget.elsewhere.test', claims });
    await refused('Host names the audience', exchange(a.url, elsewhere, { host: 'nuget.elsewhere.test' }), 403, /audience/);
  });

  it('without a configured public URL, a policy that names no audience trusts no token (the Host header is not proof)', async () => {
    const lone: TestServer = await startTestServer();
    try {
      const loneTrust = new KyselyTrustDatabase(lone.feed.hub.shared.kysely);
      const base = {
        owner: 'contoso',
        provider: 'github' as const,
        issuer: issuer.url,
        scopes: ['push' as const],
        patterns: [],
        feeds: null,
        keyLifetime: 600,
        created: new Date().toISOString(),
        createdBy: 'test',
        disabled: false,
      };
      await loneTrust.createPolicy({ ...base, name: 'no audience', claims: { repository: 'contoso/lone', repository_owner: 'contoso' }, audience: null });
      const claims = { repository: 'contoso/lone', repository_owner: 'contoso', repository_id: '5', repository_owner_id: '6' };
      const forged = await exchange(lone.url, await issuer.token({ audience: 'http://nuget.elsewhere.test', claims }), { host: 'nuget.elsewhere.test' });
      expect(forged.status, JSON.stringify(forged.body)).toBe(403);
      expect(forged.body.error).toMatch(/names no audience.*baseUrl/);
      expect(forged.body.apiKey).toBeUndefined();
      // Naming the audience in the policy is the other way to make it work.
      await loneTrust.createPolicy({ ...base, name: 'with audience', claims: { repository: 'contoso/lone2', repository_owner: 'contoso' }, audience: lone.url });
      const named = await exchange(lone.url, await issuer.token({ audience: lone.url, claims: { ...claims, repository: 'contoso/lone2' } }));
      expect(named.status, JSON.stringify(named.body)).toBe(200);
    } finally {
      await lone.close();
    }
  });

  it('lets the token through to the exchange on a private feed (the token is the credential), and only a good one', async () => {
    const closed: TestServer = await startTestServer({ private: true });
    try {
      await new KyselyTrustDatabase(closed.feed.hub.shared.kysely).createPolicy({
        name: 'private',
        owner: 'contoso',
        provider: 'github',
        issuer: issuer.url,
        claims: { repository: 'contoso/secret', repository_owner: 'contoso' },
        audience: closed.url,
        scopes: ['push-new'],
        patterns: [],
        feeds: null,
        keyLifetime: 600,
        created: new Date().toISOString(),
        createdBy: 'test',
        disabled: false,
      });
      const claims = { repository: 'contoso/secret', repository_owner: 'contoso', repository_id: '8', repository_owner_id: '9' };
      const bad = await exchange(closed.url, await issuer.token({ audience: 'https://other.test', claims }));
      expect(bad.status, JSON.stringify(bad.body)).toBe(403);
      const good = await exchange(closed.url, await issuer.token({ audience: closed.url, claims }));
      expect(good.status, JSON.stringify(good.body)).toBe(200);
      expect((await pushRaw(closed.url, await buildNupkg({ id: 'Contoso.Secret', version: '1.0.0' }), good.body.apiKey!)).status).toBe(201);
    } finally {
      await closed.close();
    }
  });

  it('refuses expired and not-yet-valid tokens, and tokens issued in the future', async () => {
    const { claims } = await githubPolicy();
    await refused('expired', exchange(a.url, await issuer.token({ audience: PUBLIC_URL, claims, expiresIn: -600 })), 401, /expired/);
    await refused('not yet valid', exchange(a.url, await issuer.token({ audience: PUBLIC_URL, claims, notBefore: 600 })), 401, /not valid yet/);
    const future = await issuer.token({ audience: PUBLIC_URL, claims, issuedAt: 3600, expiresIn: 7200 });
    await refused('issued in the future', exchange(a.url, future), 401, /issued in the future/);
  });

  it('refuses a replay on the same node, on a second node, and lets one of simultaneous uses through', async () => {
    const { claims } = await githubPolicy();
    const token = await issuer.token({ audience: PUBLIC_URL, claims });
    const first = await exchange(a.url, token);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    await refused('replay, same node', exchange(a.url, token), 401, /exchanged already/);
    await refused('replay, second node', exchange(b.url, token), 401, /exchanged already/);
    // A token without jti is remembered by its hash.
    const bare = await issuer.token({ audience: PUBLIC_URL, claims, noJti: true });
    expect((await exchange(b.url, bare)).status).toBe(200);
    await refused('replay without jti', exchange(a.url, bare), 401, /exchanged already/);

    const { claims: raced } = await githubPolicy();
    const contested = await issuer.token({ audience: PUBLIC_URL, claims: raced });
    const answers = await Promise.all([a, b, a, b].map((node) => exchange(node.url, contested)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
  });

  it('refuses a replay within the clock tolerance after used tokens were pruned', async () => {
    const { claims } = await githubPolicy();
    const token = await issuer.token({ audience: PUBLIC_URL, claims, expiresIn: 1 });
    expect((await exchange(a.url, token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    // The token expired, but jose still accepts it for the clock skew allowed; the server prunes used tokens that
    // expired (every 100 exchanges): the record must outlive that skew, or the token would work a second time.
    await trust.pruneUsedTokens(new Date().toISOString());
    await refused('replay after pruning', exchange(b.url, token), 401, /exchanged already/);
  });

  it('refuses a token of an issuer that no policy trusts, without fetching anything from it', async () => {
    const stranger = await new OidcIssuer().start();
    try {
      const { claims } = await githubPolicy();
      const token = await stranger.token({ audience: PUBLIC_URL, claims });
      await refused('unknown issuer', exchange(a.url, token), 401, /No trust policy on this server trusts tokens from issuer/);
      expect(stranger.jwksFetches).toBe(0);
    } finally {
      await stranger.stop();
    }
  });

  it('refuses a kid not in the JWKS, refetching it at most once per cooldown; a key added later is picked up', async () => {
    const rotating = await new OidcIssuer().start();
    try {
      const { claims } = await githubPolicy({}, rotating);
      expect((await exchange(a.url, await rotating.token({ audience: PUBLIC_URL, claims }))).status).toBe(200);
      const fetched = rotating.jwksFetches;
      await rotating.addKey('key-2', 'ES256');
      for (let i = 0; i < 5; i++) {
        await refused('unknown kid', exchange(a.url, await rotating.token({ audience: PUBLIC_URL, claims, kid: `no-such-${i}` })), 401, /kid/);
      }
      await refused('new key within the cooldown', exchange(a.url, await rotating.token({ audience: PUBLIC_URL, claims, alg: 'ES256' })), 401, /kid/);
      // A flood of unknown kids costs the issuer no requests within jose's 30 s cooldown.
      expect(rotating.jwksFetches).toBe(fetched);
      // After the cooldown (the clock moved on, for this process only: server and issuer alike) the new key is fetched.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 31_000 });
      try {
        const res = await exchange(a.url, await rotating.token({ audience: PUBLIC_URL, claims, alg: 'ES256' }));
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(rotating.jwksFetches).toBe(fetched + 1);
      } finally {
        vi.useRealTimers();
      }
    } finally {
      await rotating.stop();
    }
  });

  it('refuses a repository of the trusted name with another numeric id, once the first exchange bound it', async () => {
    // An owner with a policy per repository: the answer gives this repository's reason first, whatever the other
    // policies (created before it) say.
    for (let i = 0; i < 4; i++) await githubPolicy({ owner: 'adventure-works' });
    const { policy, claims } = await githubPolicy({ owner: 'adventure-works' });
    expect((await exchange(a.url, await issuer.token({ audience: PUBLIC_URL, claims }), { username: 'adventure-works' })).status).toBe(200);
    expect((await trust.getPolicy(policy.policyId))!.claims).toMatchObject({ repository_id: claims.repository_id, repository_owner_id: '2002' });
    const recreated = await issuer.token({ audience: PUBLIC_URL, claims: { ...claims, repository_id: '999999' } });
    const res = await refused('recreated repository', exchange(b.url, recreated, { username: 'adventure-works' }), 403, /repository_id is '999999'/);
    expect(res.body.error).toMatch(new RegExp(`^No trust policy of adventure-works matches this token: policy ${policy.policyId} `));
    const newOwner = await issuer.token({ audience: PUBLIC_URL, claims: { ...claims, repository_owner_id: '31337' } });
    await refused('recreated owner', exchange(a.url, newOwner, { username: 'adventure-works' }), 403, /repository_owner_id/);

  });

  it("refuses a username that is not the policy's owner", async () => {
    const { claims } = await githubPolicy();
    const token = await issuer.token({ audience: PUBLIC_URL, claims });
    await refused('another user', exchange(a.url, token, { username: 'fabrikam' }), 401, /No trust policy of fabrikam/);
    await refused('empty user', exchange(a.url, token, { username: '' }), 400, /username/);
  });
});

describe('requests that are not the documented JSON', () => {
  it('answers 400, 413 and 415 with a message, and issues nothing', async () => {
    const { claims } = await githubPolicy();
    const token = await issuer.token({ audience: PUBLIC_URL, claims });
    await refused('no token', exchange(a.url, null), 401, /Authorization: Bearer/);
    await refused('not a JWT', exchange(a.url, 'abc.def'), 401, /not a signed JWT/);
    // (Longer ones than this overflow Node's 16 KiB of headers: 431, or a closed connection, before any route runs.)
    await refused('long token', exchange(a.url, `${'a'.repeat(12_000)}.b.c`), 401, /not a signed JWT/);
    await refused('not JSON', exchange(a.url, token, { body: 'username=contoso' }), 400, /not JSON/);
    await refused('JSON array', exchange(a.url, token, { body: '["contoso"]' }), 400, /not a JSON object/);
    await refused('JSON null', exchange(a.url, token, { body: 'null' }), 400, /not a JSON object/);
    await refused('wrong tokenType', exchange(a.url, token, { body: JSON.stringify({ username: 'contoso', tokenType: 'Bearer' }) }), 400, /tokenType/);
    await refused('no tokenType', exchange(a.url, token, { body: JSON.stringify({ username: 'contoso' }) }), 400, /tokenType/);
    await refused('username not text', exchange(a.url, token, { body: JSON.stringify({ username: ['contoso'], tokenType: 'ApiKey' }) }), 400, /username/);
    const huge = JSON.stringify({ username: 'contoso', tokenType: 'ApiKey', padding: 'x'.repeat(64 * 1024) });
    await refused('huge body', exchange(a.url, token, { body: huge }), 413, /.+/);
    await refused('form content type', exchange(a.url, token, { contentType: 'application/x-www-form-urlencoded' }), 415, /application\/json/);
    await refused('text content type', exchange(a.url, token, { contentType: 'text/plain' }), 415, /application\/json/);
    await refused('no content type', exchange(a.url, token, { contentType: null }), 415, /application\/json/);
    // After all that, the token still works once: nothing above used it.
    const ok = await exchange(a.url, token, { contentType: 'application/json; charset=utf-8' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  });
});

describe('issuers that cannot be reached', () => {
  it('answers 503 with a message when the discovery document cannot be fetched, never 500', async () => {
    const down = await new OidcIssuer().start();
    try {
      down.down = true;
      const { claims } = await githubPolicy({}, down);
      await refused('issuer down', exchange(a.url, await down.token({ audience: PUBLIC_URL, claims })), 503, /signing keys of issuer .* cannot be fetched/);
    } finally {
      await down.stop();
    }
  });

  it('answers 503 with a message when only the key set cannot be fetched, never 500 or a refusal of the token', async () => {
    const broken = await new OidcIssuer().start();
    try {
      broken.jwksDown = true;
      const { claims } = await githubPolicy({}, broken);
      await refused('JWKS down', exchange(b.url, await broken.token({ audience: PUBLIC_URL, claims })), 503, /signing keys of issuer .* cannot be fetched/);
      // More tokens right after do not make the node ask the failing issuer again each time.
      const fetched = broken.jwksFetches;
      for (let i = 0; i < 5; i++) {
        await refused('JWKS down, again', exchange(b.url, await broken.token({ audience: PUBLIC_URL, claims })), 503, /cannot be fetched/);
      }
      expect(broken.jwksFetches).toBe(fetched);
    } finally {
      await broken.stop();
    }
  });

  it('answers 503 when the issuer is gone altogether', async () => {
    const gone = await new OidcIssuer().start();
    const { claims } = await githubPolicy({}, gone);
    const token = await gone.token({ audience: PUBLIC_URL, claims });
    await gone.stop();
    await refused('issuer gone', exchange(b.url, token), 503, /cannot be fetched/);
  });
});

describe('the rate limit', () => {
  it(`answers 429 after ${RATE} exchanges of one policy in a minute, over both nodes, and other policies go on`, async () => {
    const { claims } = await githubPolicy();
    for (const node of [a, b, a]) expect((await exchange(node.url, await issuer.token({ audience: PUBLIC_URL, claims }))).status).toBe(200);
    const token = await issuer.token({ audience: PUBLIC_URL, claims });
    await refused('over the rate', exchange(b.url, token), 429, new RegExp(`allows ${RATE} exchanges a minute`));
    // Simultaneous exchanges (a burst from a compromised pipeline) do not get past the limit either.
    const { claims: burst } = await githubPolicy();
    const tokens = await Promise.all(Array.from({ length: 8 }, () => issuer.token({ audience: PUBLIC_URL, claims: burst })));
    const before = await keyCount();
    const answers = await Promise.all(tokens.map((t, i) => exchange((i % 2 ? a : b).url, t)));
    const issued = answers.filter((r) => r.status === 200).length;
    expect(issued, JSON.stringify(answers.map((r) => r.status))).toBeLessThanOrEqual(RATE);
    expect(answers.filter((r) => r.status !== 200).every((r) => r.status === 429)).toBe(true);
    expect(await keyCount()).toBe(before + issued);
    const { claims: other } = await githubPolicy();
    expect((await exchange(b.url, await issuer.token({ audience: PUBLIC_URL, claims: other }))).status).toBe(200);
  });
});

describe('issued keys', () => {
  it('push only within their policy: another id pattern or another feed gets 403', async () => {
    const { claims } = await githubPolicy({ feeds: [1] });
    const res = await exchange(a.url, await issuer.token({ audience: PUBLIC_URL, claims }));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const key = res.body.apiKey!;
    expect((await pushRaw(a.url, await buildNupkg({ id: 'Contoso.Widgets.Core', version: '1.0.0' }), key)).status).toBe(201);
    const outside = await pushRaw(b.url, await buildNupkg({ id: 'Fabrikam.Tools', version: '1.0.0' }), key);
    expect(outside.status).toBe(403);
    expect(await outside.text()).toMatch(/Contoso\.Widgets\*/);
    const otherFeed = await pushRaw(`${a.url}/f/team`, await buildNupkg({ id: 'Contoso.Widgets.Team', version: '1.0.0' }), key);
    expect(otherFeed.status).toBe(403);
    expect(await otherFeed.text()).toMatch(/not valid on feed 'team'/);
    // A policy of the default feed gives nothing on the team feed's own token service either.
    const { claims: northwind } = await githubPolicy({ owner: 'northwind', feeds: [1] });
    const token = await issuer.token({ audience: `${PUBLIC_URL}/f/team`, claims: northwind });
    await refused('policy of another feed', exchange(`${a.url}/f/team`, token, { username: 'northwind' }), 403, /No trust policy of northwind covers feed 'team'/);
    // Once the policy covers the team feed too, the same token works there, for a key valid there.
    await trust.deletePolicy((await trust.listPolicies()).find((p) => p.owner === 'northwind')!.policyId);
    await githubPolicy({ owner: 'northwind', feeds: [1, teamFeedId], claims: { repository: northwind.repository!, repository_owner: 'contoso' } });
    const there = await exchange(`${a.url}/f/team`, token, { username: 'northwind' });
    expect(there.status, JSON.stringify(there.body)).toBe(200);
  });

  it('stop working when they expire (401)', async () => {
    const { claims } = await githubPolicy();
    const res = await exchange(a.url, await issuer.token({ audience: PUBLIC_URL, claims }));
    expect(res.status).toBe(200);
    const key = res.body.apiKey!;
    const lifetime = Date.parse(res.body.expires!) - Date.now();
    expect(lifetime).toBeGreaterThan(3500_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000);
    // An hour later, as if it were: the key's expiry is moved into the past in the database (nodes read keys from there;
    // this key was never used, so no node has it cached). Its expiry is the only thing that changes.
    await a.feed.hub.shared.kysely
      .withTables<AccessTables>()
      .updateTable('api_keys')
      .set({ expires: new Date(Date.now() - 1000).toISOString() })
      .where('hash', '=', hashApiKey(key))
      .execute();
    const late = await pushRaw(b.url, await buildNupkg({ id: 'Contoso.Widgets.Late', version: '1.0.0' }), key);
    expect(late.status).toBe(401);
    expect(await late.text()).toMatch(/expired/);
  });

  it('are audited as trust.exchange with the issuer, repository, workflow and run', async () => {
    const { policy, claims } = await githubPolicy();
    expect((await exchange(b.url, await issuer.token({ audience: PUBLIC_URL, claims }))).status).toBe(200);
    const res = await fetch(`${a.url}/api/admin/audit?action=trust.exchange`, { headers: { 'x-nuget-apikey': KEY } });
    const { entries } = (await res.json()) as { entries: Array<{ action: string; actor: string; owner: string; detail: string | null }> };
    const entry = entries.find((e) => e.action === 'trust.exchange' && e.actor.includes(`trust policy ${policy.policyId} `));
    expect(entry, JSON.stringify(entries.slice(0, 3))).toBeDefined();
    expect(entry!.owner).toBe('contoso');
    expect(entry!.detail).toContain(issuer.url);
    expect(entry!.detail).toContain(claims.repository);
    expect(entry!.detail).toContain(`${claims.repository}/.github/workflows/release.yml@refs/heads/main`);
    expect(entry!.detail).toContain(`run ${claims.run_id}`);
  });
});
