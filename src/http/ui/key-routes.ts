import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyRecord } from '../../db/access-database.js';
import { PawketError } from '../../errors.js';
import type { Principal } from '../../feed/auth.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import type { FeedHub } from '../../feed/hub.js';
import { keyFeedNames, type KeyManager } from '../../feed/keys.js';
import { PERSON_KEY_DAYS, PersonKeys } from '../../feed/person-keys.js';
import type { People } from '../../people/people.js';
import { installFormParsing, requireSameSiteForm, safeReturnPath, type Viewer, field, fieldList, type Fields } from '../session.js';
import { myKeysPage, newKeyPage, type FeedChoice, type KeyFormValues, type MyKeysInput } from './key-pages.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';

export interface KeyRouteDeps {
  readonly hub: FeedHub;
  /** The server's keys (the default feed's KeyManager: its audit log records key changes, as the admin API's do). */
  readonly keys: KeyManager;
  readonly people: People;
  /** The default feed: these pages are the server's, drawn in its frame. */
  readonly scope: FeedScope;
}


/** The signed-in viewer of a server-wide page, or a 401 (pages: GET answers redirect to sign-in before this). */
export function pageViewer(request: FastifyRequest): Viewer {
  const viewer = request.pawketViewer;
  if (!viewer) throw new PawketError(401, 'Sign in first: this page is for signed-in people.');
  return viewer;
}

/**
 * "My keys" (docs/SIGN-IN.md): `GET /account/keys`, `POST /account/keys` (create; the key is shown once on the answer,
 * never in a URL), `POST /account/keys/{keyId}/revoke` and `/rotate`. A person makes keys within their rights only
 * (feed/person-keys.ts). Routes are `anonymous` for a private feed's rule: they check the session themselves.
 */
export function keyRoutes(app: FastifyInstance, deps: KeyRouteDeps): void {
  const anonymous = { config: { access: 'anonymous' as const } };
  const personKeys = new PersonKeys(deps.keys, deps.hub);
  const paths = (request: FastifyRequest) => UiPaths.of(request, deps.scope);
  /** The person's own principal (the viewer's is cut to the default feed's role). */
  const personOf = (request: FastifyRequest, viewer: Viewer): Principal | null =>
    viewer.person ? deps.people.principalOf(viewer.person, request.ip) : null;
  const feedsOf = (key: ApiKeyRecord) => keyFeedNames(key.feeds, { nameOf: (id) => deps.hub.definitionById(id)?.name });

  async function page(request: FastifyRequest, reply: FastifyReply, extra: Pick<MyKeysInput, 'error' | 'notice'> & { values?: KeyFormValues }, status = 200) {
    const viewer = pageViewer(request);
    const person = personOf(request, viewer);
    if (!person || !viewer.person) {
      return sendPage(reply, myKeysPage(paths(request), { keys: [], feedsOf, form: null, ...extra }), status);
    }
    const admin = viewer.admin;
    const feeds: FeedChoice[] = [];
    for (const d of deps.hub.definitions()) {
      if (admin) {
        feeds.push({ name: d.name, role: null });
        continue;
      }
      const role = (await deps.hub.feed(d.name))?.access.roleHere(person) ?? null;
      if (role) feeds.push({ name: d.name, role });
    }
    const { values, ...messages } = extra;
    const input: MyKeysInput = {
      keys: await personKeys.list(viewer.person.user.userId),
      feedsOf,
      form: { owners: [person.owner, ...(person.actsFor ?? [])], feeds, admin, ...(values ? { values } : {}) },
      ...messages,
    };
    return sendPage(reply, myKeysPage(paths(request), input), status);
  }

  /** A refusal as the page with the message, in the right status. */
  const refused = (request: FastifyRequest, reply: FastifyReply, err: unknown, values?: KeyFormValues) => {
    if (!(err instanceof PawketError)) throw err;
    if (!request.pawketViewer) return sendPage(reply, myKeysPage(paths(request), { keys: [], feedsOf, form: null, error: err.message }), err.status);
    return page(request, reply, { error: err.message, ...(values ? { values } : {}) }, err.status);
  };

  app.get('/account/keys', anonymous, async (request, reply) => {
    if (!request.pawketViewer) return reply.redirect(paths(request).signIn('/account/keys'), 303);
    const query = request.query as Record<string, unknown>;
    const done = typeof query.revoked === 'string' && /^k[0-9a-f]{1,40}$/.test(query.revoked) ? `Revoked the key ${query.revoked}: it no longer works.` : undefined;
    return page(request, reply, done ? { notice: done } : {});
  });

  app.register(async (scope) => {
    installFormParsing(scope);

    scope.post('/account/keys', anonymous, async (request, reply) => {
      const fields = request.body as Fields;
      const values: KeyFormValues = {
        name: field(fields, 'name').slice(0, 100),
        owner: field(fields, 'owner').slice(0, 100),
        scopes: fieldList(fields, 'scopes[]').slice(0, 10),
        feeds: fieldList(fields, 'feeds[]').slice(0, 1000),
        patterns: field(fields, 'patterns').slice(0, 1000),
        days: field(fields, 'days').slice(0, 10) || String(PERSON_KEY_DAYS.default),
      };
      try {
        const viewer = pageViewer(request);
        requireSameSiteForm(request, viewer, fields);
        const person = personOf(request, viewer);
        if (!person) throw new PawketError(403, 'Keys belong to people: sign in with your account to make your own.');
        const created = await personKeys.create(person, {
          name: values.name,
          owner: values.owner,
          scopes: values.scopes,
          feeds: values.feeds.includes('*') && values.feeds.length === 1 ? '*' : values.feeds,
          patterns: [values.patterns],
          days: /^\d{1,6}$/.test(values.days) ? Number(values.days) : NaN,
        });
        request.log.info({ key: created.record.keyId, user: person.owner }, 'a person created an API key');
        return sendPage(reply, newKeyPage(paths(request), { ...created, feeds: feedsOf(created.record), rotated: false }), 200, 'no-store');
      } catch (err) {
        return refused(request, reply, err, values);
      }
    });

    scope.post<{ Params: { keyId: string } }>('/account/keys/:keyId/revoke', anonymous, async (request, reply) => {
      try {
        const viewer = pageViewer(request);
        requireSameSiteForm(request, viewer, request.body as Fields);
        const fields = request.body as Fields;
        const revoked = await personKeys.revoke(personOf(request, viewer) ?? viewer.principal, request.params.keyId, viewer.admin);
        // An admin revoking from a user's page goes back there.
        const back = field(fields, 'returnTo') ? safeReturnPath(field(fields, 'returnTo')) : paths(request).myKeys;
        return reply.redirect(`${back}${back.includes('?') ? '&' : '?'}revoked=${encodeURIComponent(revoked.keyId)}`, 303);
      } catch (err) {
        return refused(request, reply, err);
      }
    });

    scope.post<{ Params: { keyId: string } }>('/account/keys/:keyId/rotate', anonymous, async (request, reply) => {
      try {
        const viewer = pageViewer(request);
        requireSameSiteForm(request, viewer, request.body as Fields);
        const rotated = await personKeys.rotate(personOf(request, viewer) ?? viewer.principal, request.params.keyId, viewer.admin);
        return sendPage(reply, newKeyPage(paths(request), { ...rotated, feeds: feedsOf(rotated.record), rotated: true }), 200, 'no-store');
      } catch (err) {
        return refused(request, reply, err);
      }
    });
  });
}
