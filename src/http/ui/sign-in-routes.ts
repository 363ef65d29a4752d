import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SignInConfig } from '../../config/schema.js';
import { PawketError } from '../../errors.js';
import type { ApiKeyAuthenticator } from '../../feed/auth.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import type { SessionStore } from '../../people/sessions.js';
import type { RequestAuthenticator } from '../access-control.js';
import { installFormParsing, requireSameSiteForm, safeReturnPath, type WebSessions } from '../session.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';
import { signInPage } from './sign-in-pages.js';

export interface SignInRouteDeps {
  readonly web: WebSessions;
  readonly requestAuth: RequestAuthenticator;
  readonly auth: ApiKeyAuthenticator;
  readonly config: SignInConfig;
  /** The default feed: the sign-in page is the server's, drawn in its frame. */
  readonly scope: FeedScope;
}

type Fields = Record<string, unknown> | undefined;
const field = (fields: Fields, name: string) => (typeof fields?.[name] === 'string' ? (fields[name] as string) : undefined);

/**
 * The server's sign-in and sign-out (docs/SIGN-IN.md): `GET /signin` (providers, and the API key form), `POST
 * /signin/key`, `POST /signout`. The OpenID Connect flow's routes are oidc-routes.ts's. Every route is anonymous: a
 * private feed's rule is for its packages, and signing in is how a browser gets past it.
 */
export function signInRoutes(app: FastifyInstance, deps: SignInRouteDeps): void {
  const anonymous = { config: { access: 'anonymous' as const } };
  const providers = deps.config.providers.map((p) => ({ name: p.name, label: p.label ?? p.name }));
  const page = (request: FastifyRequest, reply: FastifyReply, returnTo: string, error?: string, status = 200) =>
    sendPage(reply, signInPage(UiPaths.of(request, deps.scope), { providers, keySignIn: deps.config.keySignIn, returnTo, ...(error ? { error } : {}) }), status);

  app.get('/signin', anonymous, (request, reply) => page(request, reply, safeReturnPath((request.query as Record<string, unknown>).returnTo)));

  app.register(async (scope) => {
    installFormParsing(scope);
    scope.post('/signin/key', anonymous, async (request, reply) => {
      const fields = request.body as Fields;
      const returnTo = safeReturnPath(field(fields, 'returnTo'));
      if (!deps.config.keySignIn) return page(request, reply, returnTo, 'Signing in with an API key is turned off on this server.', 403);
      try {
        // Login CSRF: no other site may sign a browser in to a session of its choosing.
        requireSameSiteForm(request, null, fields);
        const key = field(fields, 'apikey')?.trim();
        // The request authenticator slows down addresses that send bad keys, as for every other use of keys.
        await deps.requestAuth.authenticateKey(request, key || undefined);
        const { ref } = await deps.auth.authenticateForSession(key!, { address: request.ip });
        await deps.web.signIn(request, reply, { keyRef: ref });
        request.log.info({ address: request.ip }, 'signed in with an API key');
        return reply.redirect(returnTo, 303);
      } catch (err) {
        if (!(err instanceof PawketError)) throw err;
        const { 'www-authenticate': _challenge, ...headers } = err.headers;
        reply.headers(headers);
        return page(request, reply, returnTo, err.message, err.status);
      }
    });

    scope.post('/signout', anonymous, async (request, reply) => {
      const fields = request.body as Fields;
      requireSameSiteForm(request, request.pawketViewer ?? null, fields);
      await deps.web.signOut(request, reply, field(fields, 'everywhere') === 'true');
      return reply.redirect('/', 303);
    });
  });
}

/** Removes ended sessions and abandoned sign-ins every few minutes (each node; the deletes are idempotent). */
export function pruneSessionsRegularly(app: FastifyInstance, sessions: SessionStore, intervalMs = 10 * 60_000): void {
  const timer = setInterval(() => void sessions.prune().catch((err: unknown) => app.log.warn({ err }, 'pruning sessions failed')), intervalMs);
  timer.unref();
  app.addHook('onClose', (_instance, done) => {
    clearInterval(timer);
    done();
  });
}
