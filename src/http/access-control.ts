import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PawketError } from '../errors.js';
import type { PackageAccess } from '../feed/access.js';
import type { AuditAction } from '../feed/audit.js';
import { AuthenticationError, type ApiKeyAuthenticator, type Principal } from '../feed/auth.js';
import type { FailureLimiter } from './rate-limit.js';
import './session.js';

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

/** What a feed's PackageAccess answers about a key used on it (feed/access.ts decides; this layer words the answer). */
export type FeedGate = Pick<PackageAccess, 'isValidHere' | 'notValidHere' | 'authorizeFeed'>;

/** How a write refused for the feed is audited: the action and what the request was about. */
export interface DeniedAs {
  readonly action: AuditAction;
  readonly target: string;
}

/**
 * Authenticates requests: reads the key, slows down addresses that send bad keys (429 with Retry-After), checks the
 * key is valid on the request's feed, and words the 401 for the kind of request (a push, or a read of a private feed,
 * which also carries a Basic challenge).
 */
export class RequestAuthenticator {
  constructor(
    private readonly auth: ApiKeyAuthenticator,
    private readonly limiter: FailureLimiter,
    private readonly gate: FeedGate | null = null,
  ) {}

  /**
   * The same, for the routes of one feed: a key that is not valid on it gets a 403 for writes (audited) and, reading a
   * private feed, the 401 a missing key gets. Bad keys are counted per address across feeds.
   */
  forFeed(gate: FeedGate): RequestAuthenticator {
    return new RequestAuthenticator(this.auth, this.limiter, gate);
  }

  /**
   * @param opts.read a read of a private feed: 401s say how to configure credentials and carry the Basic challenge
   * @param opts.denied how a refusal for the feed is audited (default: `access.denied` on the method and path)
   */
  async authenticate(request: FastifyRequest, opts: { read?: boolean; denied?: DeniedAs } = {}): Promise<Principal> {
    return this.authenticateKey(request, requestKey(request), opts);
  }

  /** As {@link authenticate}, for a key the request carries elsewhere (the upload form's field). */
  async authenticateKey(request: FastifyRequest, key: string | undefined, opts: { read?: boolean; denied?: DeniedAs } = {}): Promise<Principal> {
    const principal = await this.keyOwner(request, key, opts);
    if (!this.gate || this.gate.isValidHere(principal)) return principal;
    if (opts.read) {
      // A valid key, on the wrong feed: not a guess, so not counted against the address; a client prompts as for a
      // missing key.
      request.log.warn({ key: principal.keyId, address: request.ip }, 'refused a key not valid on this feed');
      throw new PawketError(401, `This feed is private and ${lowerFirst(this.gate.notValidHere(principal))} Use a key made for it.`, BASIC_CHALLENGE);
    }
    const denied = opts.denied ?? { action: 'access.denied', target: `${request.method} ${request.url.split('?')[0]!.slice(0, 200)}` };
    await this.gate.authorizeFeed(principal, denied.action, denied.target);
    return principal;
  }

  private async keyOwner(request: FastifyRequest, key: string | undefined, opts: { read?: boolean }): Promise<Principal> {
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

const lowerFirst = (text: string) => `${text.charAt(0).toLowerCase()}${text.slice(1)}`;

function readMessage(err: AuthenticationError): string {
  switch (err.failure) {
    case 'missing':
      return 'This feed is private: send an API key as the password of HTTP Basic auth (any user name; packageSourceCredentials in nuget.config) or in the X-NuGet-ApiKey header.';
    case 'disabled':
      return 'This feed is private and has no API keys yet: an admin creates one with `pawket keys create`.';
    case 'invalid':
      return 'This feed is private and the API key sent is invalid or revoked: check the password of this source in nuget.config (packageSourceCredentials).';
    default:
      return `This feed is private and ${lowerFirst(err.message)}`;
  }
}

/**
 * A private feed: one hook in front of every route asks for a key valid on this feed (any scope reads), except routes
 * marked `access: 'anonymous'` (the service index) and routes that check keys themselves (`access: 'key'`). `auth` is
 * the feed's (RequestAuthenticator.forFeed). Install before the routes.
 */
export function installAccessControl(
  app: FastifyInstance,
  auth: RequestAuthenticator,
  opts: {
    privateFeed: boolean;
    gate?: Pick<FeedGate, 'isValidHere'>;
    /**
     * Answers a browser that sent no key instead of the 401 (a page offering to sign in); null leaves the 401 with its
     * Basic challenge, which NuGet clients need.
     */
    browserDenied?: (request: FastifyRequest, reply: FastifyReply, error: PawketError) => FastifyReply | null;
  },
): void {
  if (!opts.privateFeed) return;
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config?.access;
    if (access === 'anonymous' || access === 'key') return;
    // A person signed in to the web UI with a role here (a reader at least) reads without a key; clients use keys.
    const viewer = request.pawketViewer;
    const key = requestKey(request);
    if (viewer && key === undefined && opts.gate?.isValidHere(viewer.principal)) return;
    try {
      await auth.authenticate(request, { read: true });
    } catch (err) {
      const answered = err instanceof PawketError && err.status === 401 && key === undefined ? opts.browserDenied?.(request, reply, err) : null;
      if (answered) return answered;
      throw err;
    }
  });
}
