/**
 * A CI system's OIDC token issuer on loopback, for the trusted-publishing tests: a discovery document and a JWKS, and
 * tokens signed with a real key pair by jose. It also answers GitHub Actions' token request endpoint
 * (`ACTIONS_ID_TOKEN_REQUEST_URL?audience=...` with `Authorization: Bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN`), so
 * `@actions/core`'s `getIDToken(audience)` gets its token exactly as the `NuGet/login` action does.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface IssuedTokenOptions {
  readonly audience?: string | string[];
  readonly claims?: Record<string, unknown>;
  /** Seconds from now; negative for an expired token. */
  readonly expiresIn?: number;
  readonly notBefore?: number;
  readonly kid?: string;
  readonly alg?: 'RS256' | 'ES256';
  /** Leave `jti` out. */
  readonly noJti?: boolean;
}

export class OidcIssuer {
  url = '';
  /** The claims the Actions token endpoint puts into the tokens it hands out. */
  actionsClaims: Record<string, unknown> = {};
  readonly actionsRequestToken = `actions-${randomUUID()}`;
  /** Answer the discovery and JWKS with 500 (an issuer that is down). */
  down = false;
  jwksFetches = 0;
  private server: Server | undefined;
  private keys: Array<{ kid: string; privateKey: CryptoKey; jwk: JWK; alg: string }> = [];

  async start(): Promise<this> {
    await this.addKey('key-1', 'RS256');
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', this.url);
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (this.down && url.pathname !== '/actions/token') return json(500, { error: 'down' });
      if (url.pathname === '/.well-known/openid-configuration') return json(200, { issuer: this.url, jwks_uri: `${this.url}/.well-known/jwks` });
      if (url.pathname === '/.well-known/jwks') {
        this.jwksFetches++;
        return json(200, { keys: this.keys.map((k) => ({ ...k.jwk, kid: k.kid, alg: k.alg, use: 'sig' })) });
      }
      if (url.pathname === '/actions/token') {
        if (req.headers.authorization !== `Bearer ${this.actionsRequestToken}`) return json(401, { message: 'bad request token' });
        const audience = url.searchParams.get('audience') ?? undefined;
        void this.token({ audience, claims: this.actionsClaims }).then((value) => json(200, { value }));
        return;
      }
      json(404, {});
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** What `@actions/core` reads to ask for a token. */
  actionsEnv(): Record<string, string> {
    return { ACTIONS_ID_TOKEN_REQUEST_URL: `${this.url}/actions/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.actionsRequestToken };
  }

  async addKey(kid: string, alg: 'RS256' | 'ES256'): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    this.keys.push({ kid, privateKey, jwk: await exportJWK(publicKey), alg });
  }

  /** The public JWK of a key (tests that sign with it as if it were an HMAC secret). */
  publicJwk(kid = 'key-1'): JWK {
    return this.keys.find((k) => k.kid === kid)!.jwk;
  }

  async token(options: IssuedTokenOptions = {}): Promise<string> {
    const alg = options.alg ?? 'RS256';
    const key = this.keys.find((k) => k.alg === alg && (!options.kid || k.kid === options.kid)) ?? this.keys[0]!;
    const now = Math.floor(Date.now() / 1000);
    let jwt = new SignJWT({ ...options.claims })
      .setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid, typ: 'JWT' })
      .setIssuer(this.url)
      .setIssuedAt(now)
      .setExpirationTime(now + (options.expiresIn ?? 300));
    if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
    if (options.notBefore !== undefined) jwt = jwt.setNotBefore(now + options.notBefore);
    if (!options.noJti) jwt = jwt.setJti(randomUUID());
    return jwt.sign(key.privateKey);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
