import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PawketError } from '../errors.js';
import { AuthenticationError, type ApiKeyAuthenticator, type Principal } from '../feed/auth.js';
import type { FailureLimiter } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who may call a route when the feed is private: `anonymous` (the service index: clients read it before they
     * send credentials), `key` (the route checks the key itself: push, delete, admin API). Unset: any valid key.
     */
    access?: 'anonymous' | 'key';
  }
}

/** Sent with 401s of a private feed so NuGet clients send the credentials of their nuget.config. */
export const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="Pawket"' } as const;

/**
 * The key a request carries: `X-NuGet-ApiKey` (what push and delete send), else the password of HTTP Basic auth
 * (what NuGet clients send from `packageSourceCredentials`; the user name is ignored), else a Bearer token.
 */
export function requestKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-nuget-apikey'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key) return key;
  const authorization = request.headers.authorization ?? '';
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return (colon >= 0 ? decoded.slice(colon + 1) : decoded) || undefined;
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return bearer?.[1];
}

/**
 * Authenticates requests: reads the key, slows down addresses that send bad keys (429 with Retry-After), and words
 * the 401 for the kind of request (a push, or a read of a private feed, which also carries a Basic challenge).
 */
export class RequestAuthenticator {
  constructor(
    private readonly auth: ApiKeyAuthenticator,
    private readonly limiter: FailureLimiter,
  ) {}

  /**
   * @param opts.read a read of a private feed: 401s say how to configure credentials and carry the Basic challenge
   */
  async authenticate(request: FastifyRequest, opts: { read?: boolean } = {}): Promise<Principal> {
    return this.authenticateKey(request, requestKey(request), opts);
  }

  /** As {@link authenticate}, for a key the request carries elsewhere (the upload form's field). */
  async authenticateKey(request: FastifyRequest, key: string | undefined, opts: { read?: boolean } = {}): Promise<Principal> {
    const address = request.ip;
    if (key !== undefined) {
      const wait = this.limiter.retryAfter(address);
      if (wait > 0) {
        throw new PawketError(
          429,
          `Too many requests with bad API keys from ${address}: try again in ${wait} s.`,
          { 'retry-after': String(wait) },
        );
      }
    }
    try {
      return await this.auth.authenticate(key, { address });
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      if (key !== undefined) {
        this.limiter.fail(address);
        request.log.warn({ failure: err.failure, address }, 'refused an API key');
      }
      if (!opts.read) throw err;
      throw new PawketError(401, readMessage(err), BASIC_CHALLENGE);
    }
  }
}

function readMessage(err: AuthenticationError): string {
  switch (err.failure) {
    case 'missing':
      return 'This feed is private: send an API key as the password of HTTP Basic auth (any user name; packageSourceCredentials in nuget.config) or in the X-NuGet-ApiKey header.';
    case 'disabled':
      return 'This feed is private and has no API keys yet: an admin creates one with `pawket keys create`.';
    case 'invalid':
      return 'This feed is private and the API key sent is invalid or revoked: check the password of this source in nuget.config (packageSourceCredentials).';
    default:
      return `This feed is private and ${err.message.charAt(0).toLowerCase()}${err.message.slice(1)}`;
  }
}

/**
 * A private feed: one hook in front of every route asks for a valid key (any scope reads), except routes marked
 * `access: 'anonymous'` (the service index) and routes that check keys themselves (`access: 'key'`).
 * Install before the routes.
 */
export function installAccessControl(app: FastifyInstance, auth: RequestAuthenticator, opts: { privateFeed: boolean }): void {
  if (!opts.privateFeed) return;
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access;
    if (access === 'anonymous' || access === 'key') return;
    await auth.authenticate(request, { read: true });
  });
}
