import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * A real OpenID provider for tests: `oidc-provider` on a free loopback port in the test process, with test users,
 * a `groups` scope and claim, clients registered at any time (the server under test gets its port after the provider),
 * PKCE required, and a one-page sign-in (a form with a `login` field naming a user's `sub`; consent is implied).
 *
 * @example
 * const idp = await startOidcProvider({ users: [{ sub: 'alice', email: 'alice@example.com', groups: ['dev'] }] });
 * // ... start Pawket with signIn.providers: [{ name: 'test', issuer: idp.issuer, clientId: 'pawket', clientSecret: 'secret' }]
 * idp.addClient({ client_id: 'pawket', client_secret: 'secret', redirect_uris: [`${pawketUrl}/signin/test/callback`] });
 * // From a browser: follow Pawket's redirect, fill `login` with `alice`, press "Sign in".
 * // Without one: const callbackUrl = await idp.login(authorizationUrl, 'alice');
 */

export interface OidcTestUser {
  readonly sub: string;
  readonly preferred_username?: string;
  readonly email?: string;
  readonly email_verified?: boolean;
  readonly name?: string;
  readonly groups?: readonly string[];
}

export interface OidcTestClient {
  readonly client_id: string;
  /** Absent: a public client (PKCE only, no secret). */
  readonly client_secret?: string;
  readonly redirect_uris: readonly string[];
}

export interface OidcTestProvider {
  /** The issuer URL (`http://127.0.0.1:{port}`): its discovery document is at `/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** Registers (or replaces) a client, e.g. once the server under test knows its port. */
  addClient(client: OidcTestClient): void;
  /** Adds or replaces a user. */
  setUser(user: OidcTestUser): void;
  /** Changes a user's `groups` claim (e.g. removed from a group before the next sign-in). */
  setUserGroups(sub: string, groups: readonly string[]): void;
  /**
   * Signs `sub` in at the provider without a browser: follows `authorizationUrl` (the `Location` the server under test
   * redirected to), sends the sign-in form, and returns the URL the provider sends the browser back to (the client's
   * callback with `code` and `state`, or `error`), without requesting it. `deny: true` presses "Cancel" instead.
   */
  login(authorizationUrl: string, sub: string, options?: { readonly deny?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startOidcProvider(options: { users?: readonly OidcTestUser[]; clients?: readonly OidcTestClient[] } = {}): Promise<OidcTestProvider> {
  const users = new Map<string, OidcTestUser>((options.users ?? []).map((u) => [u.sub, u]));
  const stores = new Map<string, Map<string, { payload: AdapterPayload; expires: number | null }>>();
  const storeOf = (model: string) => {
    let store = stores.get(model);
    if (!store) stores.set(model, (store = new Map()));
    return store;
  };
  const clientMetadata = (c: OidcTestClient): AdapterPayload => ({
    client_id: c.client_id,
    ...(c.client_secret ? { client_secret: c.client_secret } : { token_endpoint_auth_method: 'none' }),
    redirect_uris: [...c.redirect_uris],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  });

  /** In-memory storage of the provider's models, where clients can be added after start. */
  class MemoryAdapter implements Adapter {
    private readonly store: Map<string, { payload: AdapterPayload; expires: number | null }>;
    constructor(readonly model: string) {
      this.store = storeOf(model);
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      this.store.set(id, { payload, expires: expiresIn ? Date.now() + expiresIn * 1000 : null });
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      const entry = this.store.get(id);
      if (!entry) return undefined;
      if (entry.expires !== null && entry.expires <= Date.now()) {
        this.store.delete(id);
        return undefined;
      }
      return entry.payload;
    }
    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      for (const [id, e] of this.store) if (e.payload.userCode === userCode) return this.find(id);
      return undefined;
    }
    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      for (const [id, e] of this.store) if (e.payload.uid === uid) return this.find(id);
      return undefined;
    }
    async consume(id: string): Promise<void> {
      const entry = this.store.get(id);
      if (entry) entry.payload = { ...entry.payload, consumed: Math.floor(Date.now() / 1000) };
    }
    async destroy(id: string): Promise<void> {
      this.store.delete(id);
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      for (const s of stores.values()) for (const [id, e] of s) if (e.payload.grantId === grantId) s.delete(id);
    }
  }
  for (const c of options.clients ?? []) storeOf('Client').set(c.client_id, { payload: clientMetadata(c), expires: null });

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    adapter: MemoryAdapter,
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] as never },
    cookies: { keys: [randomUUID()] },
    scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    pkce: { required: () => true },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Grant: 3600, Session: 3600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return { accountId: sub, claims: async () => ({ ...users.get(sub)!, groups: [...(users.get(sub)!.groups ?? [])] }) };
    },
    // Consent is implied: every client gets what it asks for (the tests are about the client, not consent screens).
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const clientId = ctx.oidc.client!.clientId;
      const session = ctx.oidc.session!;
      const existing = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId: session.accountId! });
      grant.addOIDCScope(String(ctx.oidc.params!.scope ?? 'openid'));
      await grant.save();
      session.grantIdFor(clientId, grant.jti);
      return grant;
    },
  });
  // Quiet: refused requests are what the tests ask for.
  provider.on('server_error', () => {});

  const providerCallback = provider.callback();
  handler = (req, res) => {
    const match = /^\/interaction\/([\w-]+)$/.exec(req.url ?? '');
    if (!match) return providerCallback(req, res);
    void interaction(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    });
  };

  /** The sign-in page (GET) and its form (POST: `login` = a user's sub, or `abort`). */
  async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      const known = [...users.keys()].map((s) => `<li>${escapeHtml(s)}</li>`).join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
        `<!doctype html><title>Test provider sign-in</title><h1>Test provider</h1>` +
          `<form method="post" action="/interaction/${escapeHtml(details.uid)}">` +
          `<label>User <input name="login" autofocus></label> <button type="submit">Sign in</button> ` +
          `<button type="submit" name="abort" value="1">Cancel</button></form><ul>${known}</ul>`,
      );
      return;
    }
    const fields = new URLSearchParams(await readBody(req));
    if (fields.get('abort')) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, { mergeWithLastSubmission: false });
      return;
    }
    const sub = fields.get('login') ?? '';
    if (!users.has(sub)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`No test user ${sub}.`);
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
  }

  return {
    issuer,
    addClient(client) {
      storeOf('Client').set(client.client_id, { payload: clientMetadata(client), expires: null });
    },
    setUser(user) {
      users.set(user.sub, user);
    },
    setUserGroups(sub, groups) {
      const user = users.get(sub);
      if (!user) throw new Error(`No test user ${sub}.`);
      users.set(sub, { ...user, groups: [...groups] });
    },
    async login(authorizationUrl, sub, loginOptions = {}) {
      const jar = new CookieJar();
      let url = authorizationUrl;
      let form: URLSearchParams | null = null;
      for (let hop = 0; hop < 10; hop++) {
        const response = await fetch(url, {
          method: form ? 'POST' : 'GET',
          redirect: 'manual',
          headers: { cookie: jar.header(), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
          ...(form ? { body: form.toString() } : {}),
        });
        jar.store(response);
        form = null;
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location) {
          const next = new URL(location, url).toString();
          // Back to the client: that is the callback, for the caller to request.
          if (!next.startsWith(issuer + '/')) return next;
          url = next;
          continue;
        }
        if (response.status === 200 && /\/interaction\//.test(url)) {
          await response.arrayBuffer();
          form = new URLSearchParams(loginOptions.deny ? { abort: '1' } : { login: sub });
          continue;
        }
        throw new Error(`The test provider answered ${url} with ${response.status}: ${(await response.text()).slice(0, 500)}`);
      }
      throw new Error('The test provider redirected too often.');
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The cookies of one site for fetch (one host in tests: names are enough; path, domain and expiry are not kept). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Keeps the cookies a response sets (an empty value or Max-Age=0 removes one). */
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /;\s*max-age=0\b/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  delete(name: string): void {
    this.cookies.delete(name);
  }

  /** The Cookie header to send. */
  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 64 * 1024) req.destroy(new Error('too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
