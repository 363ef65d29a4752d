import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PawketError } from '../../errors.js';
import type { FeedHub } from '../../feed/hub.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import { actingOf, type Acting } from '../../people/acting.js';
import { FeedRoles } from '../../people/feed-roles.js';
import { Organisations } from '../../people/organisations.js';
import type { People } from '../../people/people.js';
import { installFormParsing, requireSameSiteForm, type Viewer, field, type Fields } from '../session.js';
import { orgListPage, orgPage, problemPage } from './org-pages.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';

export interface OrgRouteDeps {
  readonly hub: FeedHub;
  readonly people: People;
  /** The default feed: these pages are the server's, drawn in its frame. */
  readonly scope: FeedScope;
}


/** What a page handler gets: the viewer, as acting in the people use cases, and where links go. */
export interface PageContext {
  readonly viewer: Viewer;
  readonly acting: Acting;
  readonly paths: UiPaths;
}

/**
 * Server pages that need a signed-in viewer: nobody signed in goes to the sign-in page (and comes back); a refusal or
 * failure is a page with its status. Anonymous to the feed's access hook: signing in is how a browser gets past it.
 */
export function signedInPage(scope: FeedScope, handle: (request: FastifyRequest, reply: FastifyReply, context: PageContext) => Promise<unknown>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const paths = UiPaths.of(request, scope);
    const viewer = request.pawketViewer;
    if (!viewer) return reply.redirect(paths.signIn(request.url), 303);
    try {
      return await handle(request, reply, { viewer, acting: actingOf(viewer.principal, viewer.admin), paths });
    } catch (err) {
      if (!(err instanceof PawketError)) throw err;
      return sendPage(reply, problemPage(paths, err.status === 403 ? 'Not allowed' : err.status === 404 ? 'Not found' : 'Not done', err.message, { href: request.url.split('?')[0]!, label: 'Back' }), err.status);
    }
  };
}

/** A form post of a signed-in page: the CSRF check first (403, nothing changed), then the change, then a redirect (PRG). */
export function signedInForm(scope: FeedScope, handle: (request: FastifyRequest, fields: Fields, context: PageContext) => Promise<string>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const paths = UiPaths.of(request, scope);
    const fields = request.body as Fields;
    // Back to the page the form is on: `/orgs/{name}` for its member forms, `/admin/feeds` for the feed forms.
    const back = { href: request.url.split('?')[0]!.split('/').slice(0, 3).join('/'), label: 'Back' };
    try {
      requireSameSiteForm(request, request.pawketViewer ?? null, fields);
      const viewer = request.pawketViewer;
      if (!viewer) throw new PawketError(401, 'Sign in first: your session has ended.');
      const to = await handle(request, fields, { viewer, acting: actingOf(viewer.principal, viewer.admin), paths });
      return reply.redirect(to, 303);
    } catch (err) {
      if (!(err instanceof PawketError)) throw err;
      const title = err.status === 403 ? 'Not allowed' : err.status === 401 ? 'Signed out' : 'Not done';
      return sendPage(reply, problemPage(paths, title, err.message, err.status === 401 ? { href: paths.signIn(), label: 'Sign in' } : back), err.status);
    }
  };
}

/**
 * Organisations in the browser (docs/ORGANISATIONS.md): `/orgs` (yours; every one for admins; create one) and `/orgs/{name}`
 * (members with role and source; its admins add, change and remove members). Registered on the root app only.
 */
export function orgRoutes(app: FastifyInstance, deps: OrgRouteDeps): void {
  const orgs = new Organisations(deps.people, deps.hub);
  const feedRoles = new FeedRoles(deps.people, deps.hub);
  const anonymous = { config: { access: 'anonymous' as const } };
  const page = (handle: Parameters<typeof signedInPage>[1]) => signedInPage(deps.scope, handle);
  const form = (handle: Parameters<typeof signedInForm>[1]) => signedInForm(deps.scope, handle);
  type Named = { Params: { name: string; user?: string } };
  const orgPath = (paths: UiPaths, name: string, done: string) => `${paths.orgs(name)}?done=${done}`;

  app.get(
    '/orgs',
    anonymous,
    page(async (request, reply, { viewer, acting, paths }) => {
      const list = await orgs.list(acting);
      const ownedFeeds = acting.admin ? [] : (await feedRoles.manageable(acting)).map((f) => f.name);
      const done = (request.query as Record<string, unknown>).done;
      return sendPage(reply, orgListPage(paths, { orgs: list, admin: viewer.admin, canCreate: viewer.admin || acting.userId !== null, done, ownedFeeds }));
    }),
  );
  app.get<Named>(
    '/orgs/:name',
    anonymous,
    page(async (request, reply, { viewer, acting, paths }) => {
      const { org, members, canManage } = await orgs.show(acting, (request.params as Named['Params']).name);
      const holdings = await orgs.holdings(org.name, 500);
      const done = (request.query as Record<string, unknown>).done;
      return sendPage(reply, orgPage(paths, { org, members, canManage, viewerUserId: acting.userId, admin: viewer.admin, holdings, done }));
    }),
  );

  app.register(async (scope) => {
    installFormParsing(scope);
    scope.post(
      '/orgs',
      anonymous,
      form(async (_request, fields, { acting, paths }) => {
        const created = await orgs.create(acting, { name: field(fields, 'name'), description: field(fields, 'description') });
        return orgPath(paths, created.org.name, 'created');
      }),
    );
    scope.post<Named>(
      '/orgs/:name/members',
      anonymous,
      form(async (request, fields, { acting, paths }) => {
        const name = (request.params as Named['Params']).name;
        await orgs.putMember(acting, name, field(fields, 'user'), field(fields, 'role') || 'member');
        return orgPath(paths, name, 'added');
      }),
    );
    scope.post<Named>(
      '/orgs/:name/members/:user',
      anonymous,
      form(async (request, fields, { acting, paths }) => {
        const { name, user } = request.params as Named['Params'];
        await orgs.putMember(acting, name, user!, field(fields, 'role'));
        return orgPath(paths, name, 'changed');
      }),
    );
    scope.post<Named>(
      '/orgs/:name/members/:user/remove',
      anonymous,
      form(async (request, _fields, { acting, paths }) => {
        const { name, user } = request.params as Named['Params'];
        const self = (await deps.people.db.findUser(user!))?.userId === acting.userId && acting.userId !== null;
        await orgs.removeMember(acting, name, user!);
        return self && !acting.admin ? `${paths.orgs()}?done=left` : orgPath(paths, name, 'removed');
      }),
    );
    scope.post<Named>(
      '/orgs/:name/description',
      anonymous,
      form(async (request, fields, { acting, paths }) => {
        const name = (request.params as Named['Params']).name;
        await orgs.updateDescription(acting, name, field(fields, 'description'));
        return orgPath(paths, name, 'described');
      }),
    );
    scope.post<Named>(
      '/orgs/:name/delete',
      anonymous,
      form(async (request, _fields, { acting, paths }) => {
        await orgs.delete(acting, (request.params as Named['Params']).name);
        return `${paths.orgs()}?done=deleted`;
      }),
    );
  });
}
