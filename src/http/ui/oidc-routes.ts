import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SignInConfig } from '../../config/schema.js';
import { PawketError } from '../../errors.js';
import type { AuditLog } from '../../feed/audit.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import { OidcSignIn } from '../../people/oidc.js';
import type { People } from '../../people/people.js';
import { SIGN_IN_REQUEST_TTL_MS } from '../../people/sessions.js';
import { baseUrl } from '../base-url.js';
import { FailureLimiter } from '../rate-limit.js';
import { cookieValue, safeReturnPath, type WebSessions } from '../session.js';
import { UiPaths } from './paths.js';
import { notFoundPage } from './pages.js';
import { sendPage } from './routes.js';
import { signInPage } from './sign-in-pages.js';

/** Binds a sign-in to the browser that started it: the callback must come with the same state (login CSRF). */
export const SIGN_IN_COOKIE = 'pawket_signin';
/** Sign-ins one address may start per minute (also the burst): each is a row in the database until its callback. */
const STARTS_PER_MINUTE = 60;

export interface OidcRouteDeps {
  readonly web: WebSessions;
  readonly people: People;
  /** The default feed's audit log: sign-ins are the server's. */
  readonly audit: AuditLog;
  readonly config: SignInConfig;
  /** The configured public URL (`baseUrl`), if any: the redirect URI is built from it as every other link. */
  readonly configuredBase: string | undefined;
  /** The default feed: the pages are the server's, drawn in its frame. */
  readonly scope: FeedScope;
}

/**
 * Sign-in with OpenID Connect (docs/SIGN-IN.md): `GET /signin/{provider}?returnTo=` sends the browser to the provider;
 * `GET /signin/{provider}/callback` finishes it, starts a new session and returns to the stored local path. Failures
 * are a page saying why (400 for a bad, replayed or expired answer, 403 for someone who may not sign in).
 */
export function oidcRoutes(app: FastifyInstance, deps: OidcRouteDeps): void {
  if (deps.config.providers.length === 0) return;
  const anonymous = { config: { access: 'anonymous' as const } };
  const flow = new OidcSignIn({ people: deps.people, audit: deps.audit, providers: deps.config.providers });
  // A token bucket per address (the limiter of bad keys, here counting starts): bounds the rows one client creates.
  const starts = new FailureLimiter({ perMinute: STARTS_PER_MINUTE });
  const providers = deps.config.providers.map((p) => ({ name: p.name, label: p.label ?? p.name }));
  const redirectUri = (request: FastifyRequest, name: string) => `${baseUrl(request, deps.configuredBase)}/signin/${name}/callback`;
  const secure = (request: FastifyRequest) => (request.protocol === 'https' ? '; Secure' : '');

  const failure = (request: FastifyRequest, reply: FastifyReply, err: unknown, returnTo: string) => {
    if (!(err instanceof PawketError)) throw err;
    const paths = UiPaths.of(request, deps.scope);
    if (err.status === 404) return sendPage(reply, notFoundPage(paths, err.message), 404);
    reply.headers(err.headers);
    return sendPage(reply, signInPage(paths, { providers, keySignIn: deps.config.keySignIn, returnTo, error: err.message }), err.status);
  };

  app.get<{ Params: { provider: string }; Querystring: { returnTo?: unknown } }>('/signin/:provider', anonymous, async (request, reply) => {
    const returnTo = safeReturnPath(request.query.returnTo);
    try {
      const name = request.params.provider;
      flow.provider(name);
      const wait = starts.retryAfter(request.ip);
      if (wait > 0) {
        throw new PawketError(429, `Too many sign-ins were started from your address: wait ${wait} seconds, then try again.`, { 'retry-after': String(wait) });
      }
      starts.fail(request.ip);
      const { location, state } = await flow.start(name, redirectUri(request, name), returnTo);
      reply.header(
        'set-cookie',
        `${SIGN_IN_COOKIE}=${state}; Path=/signin; Max-Age=${SIGN_IN_REQUEST_TTL_MS / 1000}; HttpOnly; SameSite=Lax${secure(request)}`,
      );
      reply.header('cache-control', 'no-store');
      return reply.redirect(location, 302);
    } catch (err) {
      return failure(request, reply, err, returnTo);
    }
  });

  app.get<{ Params: { provider: string } }>('/signin/:provider/callback', anonymous, async (request, reply) => {
    const name = request.params.provider;
    const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    // The state cookie is spent whatever happens: a new sign-in starts from the provider's button.
    reply.header('set-cookie', `${SIGN_IN_COOKIE}=; Path=/signin; Max-Age=0; HttpOnly; SameSite=Lax${secure(request)}`);
    reply.header('cache-control', 'no-store');
    try {
      const bound = cookieValue(request.headers.cookie, SIGN_IN_COOKIE);
      const done = await flow.finish(name, redirectUri(request, name), new URLSearchParams(rawQuery), bound, request.ip);
      await deps.web.signIn(request, reply, { userId: done.user.userId });
      request.log.info({ user: done.user.name, provider: name, created: done.created }, 'signed in');
      return reply.redirect(safeReturnPath(done.returnTo), 303);
    } catch (err) {
      if (err instanceof PawketError && err.status < 500) request.log.info({ provider: name, status: err.status, reason: err.message }, 'sign-in refused');
      return failure(request, reply, err, '/');
    }
  });
}
