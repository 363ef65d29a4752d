import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PawketError } from '../../errors.js';
import type { Actor } from '../../feed/auth.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import type { People } from '../../people/people.js';
import type { UserAdmin } from '../../people/user-admin.js';
import { installFormParsing, requireSameSiteForm, type Viewer, type Fields } from '../session.js';
import { pageViewer } from './key-routes.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';
import { userPage, usersPage } from './user-admin-pages.js';
import type { FeedHub } from '../../feed/hub.js';
import { keyFeedNames } from '../../feed/keys.js';

export interface UserAdminRouteDeps {
  readonly users: UserAdmin;
  readonly people: People;
  /** Feed names, for the feeds of a user's keys. */
  readonly hub: Pick<FeedHub, 'definitionById'>;
  /** The default feed: these pages are the server's, drawn in its frame. */
  readonly scope: FeedScope;
}

const ACTIONS = {
  disable: { verb: 'Disabled', run: (users: UserAdmin, actor: Actor, name: string) => users.setDisabled(actor, name, true) },
  enable: { verb: 'Enabled', run: (users: UserAdmin, actor: Actor, name: string) => users.setDisabled(actor, name, false) },
  admin: { verb: 'Made an admin:', run: (users: UserAdmin, actor: Actor, name: string) => users.setAdmin(actor, name, true) },
  unadmin: { verb: 'No longer an admin:', run: (users: UserAdmin, actor: Actor, name: string) => users.setAdmin(actor, name, false) },
} as const;
type Action = keyof typeof ACTIONS;

/** 403 unless the viewer is a server admin. */
function requireAdmin(viewer: Viewer): void {
  if (!viewer.admin) throw new PawketError(403, 'Only server admins may manage users.');
}

/**
 * `GET /admin/users` and `POST /admin/users/{name}/disable|enable|admin|unadmin` (server admins; PRG back to the list).
 * Disabling ends the user's sessions and stops their keys (people/user-admin.ts).
 */
export function userAdminRoutes(app: FastifyInstance, deps: UserAdminRouteDeps): void {
  const anonymous = { config: { access: 'anonymous' as const } };
  const paths = (request: FastifyRequest) => UiPaths.of(request, deps.scope);

  async function page(request: FastifyRequest, reply: FastifyReply, messages: { notice?: string; error?: string }, status = 200) {
    const viewer = request.pawketViewer;
    if (!viewer?.admin) return sendPage(reply, usersPage(paths(request), { users: [], self: null, ...messages }), status);
    const users = await deps.users.list();
    return sendPage(reply, usersPage(paths(request), { users, self: viewer.person?.user.userId ?? null, ...messages }), status);
  }
  const refused = (request: FastifyRequest, reply: FastifyReply, err: unknown) => {
    if (!(err instanceof PawketError)) throw err;
    return page(request, reply, { error: err.message }, err.status);
  };

  app.get('/admin/users', anonymous, async (request, reply) => {
    if (!request.pawketViewer) return reply.redirect(paths(request).signIn('/admin/users'), 303);
    try {
      requireAdmin(pageViewer(request));
    } catch (err) {
      return refused(request, reply, err);
    }
    // What the last form did, named by the redirect (an action and a user name; never free text from the URL).
    const query = request.query as Record<string, unknown>;
    const action = typeof query.done === 'string' && Object.hasOwn(ACTIONS, query.done) ? ACTIONS[query.done as Action] : undefined;
    const user = typeof query.user === 'string' ? query.user.slice(0, 100) : '';
    return page(request, reply, action && user ? { notice: `${action.verb} ${user}.` } : {});
  });

  app.get<{ Params: { name: string } }>('/admin/users/:name', anonymous, async (request, reply) => {
    if (!request.pawketViewer) return reply.redirect(paths(request).signIn(request.url), 303);
    try {
      const viewer = pageViewer(request);
      requireAdmin(viewer);
      const shown = await deps.users.show(request.params.name);
      const revoked = (request.query as Record<string, unknown>).revoked;
      return sendPage(
        reply,
        userPage(paths(request), {
          summary: shown,
          keys: [...shown.keys].reverse(),
          feedsOf: (k) => keyFeedNames(k.feeds, { nameOf: (id) => deps.hub.definitionById(id)?.name }),
          self: viewer.person?.user.userId === shown.user.userId,
          ...(typeof revoked === 'string' && /^k[0-9a-f]{1,40}$/.test(revoked) ? { revoked } : {}),
        }),
      );
    } catch (err) {
      return refused(request, reply, err);
    }
  });

  app.register(async (scope) => {
    installFormParsing(scope);
    scope.post<{ Params: { name: string; action: string } }>('/admin/users/:name/:action', anonymous, async (request, reply) => {
      try {
        const viewer = pageViewer(request);
        requireSameSiteForm(request, viewer, request.body as Fields);
        requireAdmin(viewer);
        const action = request.params.action as Action;
        if (!Object.hasOwn(ACTIONS, action)) throw new PawketError(404, `There is no user action ${action.slice(0, 40)}.`);
        const target = await deps.people.requireUser(request.params.name);
        if (viewer.person?.user.userId === target.userId && (action === 'disable' || action === 'unadmin')) {
          throw new PawketError(400, 'You may not disable yourself or take away your own admin rights: ask another admin.');
        }
        const actor: Actor = viewer.person ? deps.people.principalOf(viewer.person, request.ip) : viewer.principal;
        await ACTIONS[action].run(deps.users, actor, target.name);
        return reply.redirect(`${paths(request).admin('users')}?done=${action}&user=${encodeURIComponent(target.name)}`, 303);
      } catch (err) {
        return refused(request, reply, err);
      }
    });
  });
}
