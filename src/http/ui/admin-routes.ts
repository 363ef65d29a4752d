import type { FastifyInstance } from 'fastify';
import { KyselyAccessDatabase } from '../../db/kysely-access-database.js';
import { DEFAULT_FEED_ID } from '../../db/feed-migrations.js';
import { badRequest, notFound, PawketError } from '../../errors.js';
import { FeedAdmin } from '../../feed/feed-admin.js';
import type { FeedHub } from '../../feed/hub.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import type { Acting } from '../../people/acting.js';
import { FeedRoles } from '../../people/feed-roles.js';
import type { People } from '../../people/people.js';
import { installFormParsing, field, type Fields } from '../session.js';
import { adminAuditPage, adminFeedsPage, adminIndexPage, adminPrefixesPage, type AuditFilters } from './admin-pages.js';
import { signedInForm, signedInPage } from './org-routes.js';
import { sendPage } from './routes.js';

export interface AdminPageRouteDeps {
  readonly hub: FeedHub;
  readonly people: People;
  /** The default feed: these pages are the server's, drawn in its frame. */
  readonly scope: FeedScope;
}

const AUDIT_PAGE = 50;

const requireAdmin = (acting: Acting) => {
  if (!acting.admin) throw new PawketError(403, 'Only an admin may open this page.');
};

/** A setting's value from a form: JSON for lists and objects (upstreams), text for the settings schema to read. */
function settingValue(text: string): unknown {
  const t = text.trim();
  if (!/^[[{]/.test(t)) return t;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    throw badRequest('The value starts like JSON but is not valid JSON.');
  }
}

/**
 * The admin pages of the server (root app only): `/admin`, `/admin/feeds` (settings and roles: admins every feed, a
 * feed's owners theirs), `/admin/prefixes` and `/admin/audit` (admins). `/admin/users` is the users pages'.
 */
export function adminPageRoutes(app: FastifyInstance, deps: AdminPageRouteDeps): void {
  const roles = new FeedRoles(deps.people, deps.hub);
  const feedAdmin = new FeedAdmin(deps.hub);
  const anonymous = { config: { access: 'anonymous' as const } };
  const page = (handle: Parameters<typeof signedInPage>[1]) => signedInPage(deps.scope, handle);
  const form = (handle: Parameters<typeof signedInForm>[1]) => signedInForm(deps.scope, handle);
  const query = (q: unknown, name: string) => {
    const v = (q as Record<string, unknown>)[name];
    return typeof v === 'string' ? v.slice(0, 200) : '';
  };
  type Named = { Params: { name: string } };
  const feedsPath = (name: string, done: string) => `/admin/feeds?done=${done}#feed-${encodeURIComponent(name)}`;

  app.get(
    '/admin',
    anonymous,
    page(async (_request, reply, { acting, paths }) => {
      const owned = acting.admin ? [] : (await roles.manageable(acting)).map((f) => f.name);
      if (!acting.admin && owned.length === 0) throw new PawketError(403, 'Only an admin, or an owner of a feed, may open the admin pages.');
      return sendPage(reply, adminIndexPage(paths, { admin: acting.admin, ownedFeeds: owned }));
    }),
  );

  app.get(
    '/admin/feeds',
    anonymous,
    page(async (request, reply, { acting, paths }) => {
      const managed = new Set((await roles.manageable(acting)).map((f) => f.id));
      if (!acting.admin && managed.size === 0) throw new PawketError(403, 'Only an admin, or an owner of a feed, may manage feeds.');
      const summaries = (await feedAdmin.list()).filter((f) => managed.has(f.id));
      const feeds = await Promise.all(
        summaries.map(async (feed) => ({ feed, roles: await roles.list(acting, feed.name), isDefault: feed.id === DEFAULT_FEED_ID })),
      );
      return sendPage(reply, adminFeedsPage(paths, { feeds, admin: acting.admin, done: query(request.query, 'done') }));
    }),
  );

  app.get(
    '/admin/prefixes',
    anonymous,
    page(async (request, reply, { acting, paths }) => {
      requireAdmin(acting);
      await deps.hub.reloadDefinitions();
      const feeds = await Promise.all(
        deps.hub
          .definitions()
          .filter((d) => !d.virtual)
          .map(async (d) => ({ name: d.name, prefixes: await new KyselyAccessDatabase(deps.hub.shared.kysely, d.id).listPrefixes() })),
      );
      return sendPage(reply, adminPrefixesPage(paths, { feeds, done: query(request.query, 'done') }));
    }),
  );

  app.get(
    '/admin/audit',
    anonymous,
    page(async (request, reply, { acting, paths }) => {
      requireAdmin(acting);
      await deps.hub.reloadDefinitions();
      const filters: AuditFilters = {
        feed: query(request.query, 'feed'),
        action: query(request.query, 'action').trim(),
        who: query(request.query, 'who').trim(),
        target: query(request.query, 'target').trim(),
      };
      const beforeText = query(request.query, 'before');
      if (beforeText !== '' && !/^\d{1,15}$/.test(beforeText)) throw badRequest('The before parameter must be a whole number.');
      const feed = filters.feed ? deps.hub.definition(filters.feed) : undefined;
      if (filters.feed && !feed) throw notFound(`There is no feed '${filters.feed}' on this server.`);
      // The log of every feed is in one table: any feed's store reads it all.
      const entries = await new KyselyAccessDatabase(deps.hub.shared.kysely, DEFAULT_FEED_ID).listAudit({
        limit: AUDIT_PAGE + 1,
        ...(feed ? { feedId: feed.id } : {}),
        ...(beforeText ? { before: Number(beforeText) } : {}),
        ...(filters.action ? { action: filters.action } : {}),
        ...(filters.who ? { who: filters.who } : {}),
        ...(filters.target ? { target: filters.target } : {}),
      });
      const shown = entries.slice(0, AUDIT_PAGE);
      const older = entries.length > AUDIT_PAGE ? shown[shown.length - 1]!.seq : null;
      const nameOf = (id: number) => deps.hub.definitionById(id)?.name ?? `#${id}`;
      const feeds = deps.hub.definitions().map((d) => d.name);
      return sendPage(reply, adminAuditPage(paths, { entries: shown, filters, feeds, nameOf, older }));
    }),
  );

  app.register(async (scope) => {
    installFormParsing(scope);
    scope.post<Named>(
      '/admin/feeds/:name/roles',
      anonymous,
      form(async (request, fields, { acting }) => {
        const grant = await roles.grant(acting, (request.params as Named['Params']).name, field(fields, 'kind'), field(fields, 'grantee'), field(fields, 'role'));
        return feedsPath(grant.feed, 'granted');
      }),
    );
    scope.post<Named>(
      '/admin/feeds/:name/roles/revoke',
      anonymous,
      form(async (request, fields, { acting }) => {
        const name = (request.params as Named['Params']).name;
        await roles.revoke(acting, name, field(fields, 'kind'), field(fields, 'grantee'));
        return feedsPath(name, 'revoked');
      }),
    );
    scope.post<Named>(
      '/admin/feeds/:name/settings',
      anonymous,
      form(async (request, fields: Fields, { acting }) => {
        const name = (request.params as Named['Params']).name;
        const setting = field(fields, 'setting').trim();
        const settings = setting ? { [setting]: field(fields, 'unset') === 'true' ? null : settingValue(field(fields, 'value')) } : undefined;
        const feed = await roles.updateFeed(acting, name, { description: fields?.description === undefined ? undefined : field(fields, 'description'), settings });
        return feedsPath(feed.name, 'updated');
      }),
    );
    scope.post(
      '/admin/prefixes',
      anonymous,
      form(async (_request, fields, { acting, viewer }) => {
        requireAdmin(acting);
        const feed = await deps.hub.feed(field(fields, 'feed') || 'default');
        if (!feed || feed.definition.virtual) throw notFound(`There is no feed '${field(fields, 'feed').slice(0, 80)}' that stores packages.`);
        await feed.ownership.reservePrefix(viewer.principal, field(fields, 'pattern'), field(fields, 'owner'));
        return '/admin/prefixes?done=reserved';
      }),
    );
    scope.post(
      '/admin/prefixes/release',
      anonymous,
      form(async (_request, fields, { acting, viewer }) => {
        requireAdmin(acting);
        const feed = await deps.hub.feed(field(fields, 'feed') || 'default');
        if (!feed || feed.definition.virtual) throw notFound(`There is no feed '${field(fields, 'feed').slice(0, 80)}' that stores packages.`);
        await feed.ownership.releasePrefix(viewer.principal, field(fields, 'pattern'));
        return '/admin/prefixes?done=released';
      }),
    );
  });
}
