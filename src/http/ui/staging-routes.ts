import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StagedKind } from '../../db/staging-database.js';
import { PawketError, badRequest } from '../../errors.js';
import { ownersActedFor } from '../../feed/auth.js';
import type { Feed } from '../../feed/feed.js';
import type { ArtifactView } from '../../feed/staging.js';
import { baseUrl } from '../base-url.js';
import { routes } from '../routes.js';
import { installFormParsing, requireSameSiteForm, type Viewer, type Fields } from '../session.js';
import { actionErrorPage } from './manage-pages.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';
import { isStagingDone, stagingGroupPage, stagingListPage, stagingNotice, StagingPaths, type StagingDone } from './staging-pages.js';

/** What the staging pages need of a feed. */
export type StagingFeed = Pick<Feed, 'scope' | 'staging' | 'config'>;

/** Groups and group members per page (the staging API's largest page). */
const PAGE_SIZE = 100;
/** Staged artifacts the list page looks through for those in no group: a bounded cost per page view. */
const UNGROUPED_SCAN = 1000;

type GroupParams = { Params: { groupId: string } };
type ArtifactParams = { Params: { kind: string; id: string; version: string } };

const pageOf = (query: unknown) => Math.max(1, Number.parseInt(String((query as Record<string, unknown>).page ?? ''), 10) || 1);
const kindOf = (kind: string): StagedKind => {
  if (kind !== 'package' && kind !== 'symbols') throw new PawketError(404, 'There is no such page.');
  return kind;
};
/**
 * What a notice names, from the redirect's query: ids, versions and group ids only, so that a crafted link cannot make
 * the page say anything else.
 */
const whatOf = (query: Record<string, unknown>) => (typeof query.what === 'string' && /^[A-Za-z0-9._+() -]{1,200}$/.test(query.what) ? query.what : '');
const named = (a: Pick<ArtifactView, 'id' | 'version' | 'kind'>) => `${a.id} ${a.version}${a.kind === 'symbols' ? ' (symbols)' : ''}`;

/**
 * Owners' staged packages in the browser (docs/STAGING.md, Promoting in the web UI), under each feed's prefix:
 * `GET {prefix}/account/staging` (groups, packages in no group), `GET .../groups/{groupId}` (a group's members),
 * `GET .../{package|symbols}/{id}/{version}/download` (the staged file, for inspection), and the forms
 * `POST .../groups/{groupId}/promote|delete` and `POST .../{package|symbols}/{id}/{version}/promote|delete|remove`.
 * The StagingService decides what the viewer sees and may do, with the viewer's principal (a person's rights cut to
 * their role on the feed): others' staging does not exist for them (404). Every form needs the session's CSRF token and
 * answers with a redirect back (303) or a page with the refusal's status and message (a blocked group says why).
 * Promotion here needs no feed setting: `stagingApiPromotion` is about keys on the API.
 */
export function stagingPageRoutes(app: FastifyInstance, feed: StagingFeed): void {
  const { staging } = feed;

  app.register(async (scope) => {
    installFormParsing(scope);
    scope.setErrorHandler((error: FastifyError | PawketError, request: FastifyRequest, reply: FastifyReply) => {
      const paths = UiPaths.of(request, feed.scope);
      const { groupId } = (request.params ?? {}) as Partial<GroupParams['Params']>;
      const back = groupId && request.method === 'POST' ? new StagingPaths(paths).group(groupId) : paths.myStaging;
      const status = error instanceof PawketError ? error.status : (error.statusCode ?? 500);
      if (status >= 500) request.log.error({ err: error }, 'staging page failed');
      const message = status >= 500 ? 'The server failed to do that; the error is in its log.' : error.message;
      return sendPage(reply, actionErrorPage(paths, status, message, back), status);
    });

    /** The signed-in viewer of a page, or a redirect to sign in (null). */
    const viewerOrSignIn = (request: FastifyRequest, reply: FastifyReply): Viewer | null => {
      const viewer = request.pawketViewer ?? null;
      // Back to this page afterwards: its URL as the browser sees it, under the feed's prefix.
      const paths = UiPaths.of(request, feed.scope);
      if (!viewer) void reply.redirect(paths.signIn(`${paths.prefix}${request.url}`), 303);
      return viewer;
    };

    scope.get('/account/staging', async (request, reply) => {
      const viewer = viewerOrSignIn(request, reply);
      if (!viewer) return reply;
      const paths = UiPaths.of(request, feed.scope);
      const query = request.query as Record<string, unknown>;
      const admin = viewer.principal.scopes.has('admin');
      const endpoint = `${baseUrl(request, feed.config.baseUrl)}${routes.staging}`;
      const notice = isStagingDone(query.done) ? stagingNotice(query.done, whatOf(query)) : null;
      const groupPage = pageOf(query);
      let groups;
      try {
        groups = await staging.listGroups(viewer.principal, { page: groupPage, pageSize: PAGE_SIZE });
      } catch (err) {
        if (!(err instanceof PawketError) || err.status !== 403) throw err;
        // A role that may not stage (reader) has no staging to show here.
        const refused = `Your role on this feed does not let you stage or promote packages (${viewer.principal.owner}).`;
        const input = { refused, groups: [], groupPage: 1, groupPages: 1, groupTotal: 0, ungrouped: [], ungroupedTruncated: false, owners: [], endpoint };
        return sendPage(reply, stagingListPage(paths, input, notice));
      }
      const ungrouped: ArtifactView[] = [];
      let budget = UNGROUPED_SCAN;
      let truncated = false;
      for (const kind of ['package', 'symbols'] as const) {
        for (let page = 1; ; page++) {
          if (budget <= 0) {
            truncated = true;
            break;
          }
          const found = await staging.listArtifacts(viewer.principal, kind, { page, pageSize: PAGE_SIZE });
          ungrouped.push(...found.items.filter((a) => a.group === null));
          budget -= found.items.length;
          if (page * PAGE_SIZE >= found.totalCount) break;
        }
      }
      const input = {
        refused: null,
        groups: groups.items,
        groupPage,
        groupPages: Math.max(1, Math.ceil(groups.totalCount / PAGE_SIZE)),
        groupTotal: groups.totalCount,
        ungrouped,
        ungroupedTruncated: truncated,
        owners: admin ? null : ownersActedFor(viewer.principal),
        endpoint,
      };
      return sendPage(reply, stagingListPage(paths, input, notice));
    });

    scope.get<GroupParams>('/account/staging/groups/:groupId', async (request, reply) => {
      const viewer = viewerOrSignIn(request, reply);
      if (!viewer) return reply;
      const paths = UiPaths.of(request, feed.scope);
      const query = request.query as Record<string, unknown>;
      const page = pageOf(query);
      const found = await staging.getGroup(viewer.principal, request.params.groupId, { page, pageSize: PAGE_SIZE });
      const notice = isStagingDone(query.done) ? stagingNotice(query.done, whatOf(query)) : null;
      const input = {
        group: found.group,
        items: found.items,
        page,
        pages: Math.max(1, Math.ceil(found.totalCount / PAGE_SIZE)),
        total: found.totalCount,
        admin: viewer.principal.scopes.has('admin'),
        preview: `${baseUrl(request, feed.config.baseUrl)}${routes.staging}/preview/${encodeURIComponent(found.group.owner)}/${encodeURIComponent(found.group.id)}/index.json`,
      };
      return sendPage(reply, stagingGroupPage(paths, input, notice));
    });

    // The staged file, for its owners to look into before promoting: never cached by anyone else, never shown inline.
    scope.get<ArtifactParams>('/account/staging/:kind/:id/:version/download', async (request, reply) => {
      const viewer = viewerOrSignIn(request, reply);
      if (!viewer) return reply;
      const { id, version } = request.params;
      const file = await staging.openArtifact(viewer.principal, kindOf(request.params.kind), id, version);
      return reply
        .type('application/octet-stream')
        .header('content-length', file.content.size)
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .send(file.content.bytes ?? file.content.stream);
    });

    /** One form: same-site with the session's token, a signed-in viewer, then the action; 303 to where it says. */
    const form = <P extends GroupParams | ArtifactParams>(path: string, act: (viewer: Viewer, params: P['Params'], fields: Fields, paths: UiPaths) => Promise<string>) =>
      scope.post(path, async (request, reply) => {
        const fields = request.body as Fields;
        const viewer = request.pawketViewer ?? null;
        requireSameSiteForm(request, viewer, fields);
        if (!viewer) throw new PawketError(401, 'Sign in to promote or delete staged packages.');
        return reply.redirect(await act(viewer, request.params as P['Params'], fields, UiPaths.of(request, feed.scope)), 303);
      });
    const done = (to: string, flag: StagingDone, what: string) => `${to}?done=${flag}&what=${encodeURIComponent(what)}`;

    form<GroupParams>('/account/staging/groups/:groupId/promote', async (viewer, { groupId }, _fields, paths) => {
      const promoted = await staging.promoteGroup(viewer.principal, groupId);
      return done(paths.myStaging, 'group-promoted', `${promoted.group?.id ?? groupId} (${promoted.packages.length} package${promoted.packages.length === 1 ? '' : 's'})`);
    });
    form<GroupParams>('/account/staging/groups/:groupId/delete', async (viewer, { groupId }, fields, paths) => {
      if (fields?.confirm !== 'yes') throw badRequest(`Tick "With its packages" to delete group ${groupId.slice(0, 100)}: its staged packages go with it.`);
      // The API answers a group it cannot see as deleted; a person is told it is not there (404).
      const { group } = await staging.getGroup(viewer.principal, groupId, { page: 1, pageSize: 1 });
      await staging.deleteGroup(viewer.principal, group.id);
      return done(paths.myStaging, 'group-deleted', group.id);
    });

    /** Where a form on an artifact returns: its group's page while the group is there, else the staging page. */
    const backFrom = async (viewer: Viewer, paths: UiPaths, groupId: string | null) => {
      if (groupId === null) return paths.myStaging;
      const there = await staging.getGroup(viewer.principal, groupId, { page: 1, pageSize: 1 }).then(
        () => true,
        () => false,
      );
      return there ? new StagingPaths(paths).group(groupId) : paths.myStaging;
    };
    const artifactOf = (viewer: Viewer, p: ArtifactParams['Params']) => staging.getArtifact(viewer.principal, kindOf(p.kind), p.id, p.version);

    form<ArtifactParams>('/account/staging/:kind/:id/:version/promote', async (viewer, params, _fields, paths) => {
      if (kindOf(params.kind) !== 'package') throw badRequest('Symbols are promoted with their package: promote the package.');
      const artifact = await artifactOf(viewer, params);
      await staging.promotePackage(viewer.principal, artifact.id, artifact.version);
      return done(await backFrom(viewer, paths, artifact.group?.id ?? null), 'promoted', named(artifact));
    });
    form<ArtifactParams>('/account/staging/:kind/:id/:version/delete', async (viewer, params, _fields, paths) => {
      const artifact = await artifactOf(viewer, params);
      // A package's symbols go with it: without their package they could only block its group.
      if (artifact.kind === 'package') await staging.deleteArtifact(viewer.principal, 'symbols', artifact.id, artifact.version);
      await staging.deleteArtifact(viewer.principal, artifact.kind, artifact.id, artifact.version);
      return done(await backFrom(viewer, paths, artifact.group?.id ?? null), 'deleted', named(artifact));
    });
    form<ArtifactParams>('/account/staging/:kind/:id/:version/remove', async (viewer, params, _fields, paths) => {
      const artifact = await artifactOf(viewer, params);
      if (!artifact.group) return done(paths.myStaging, 'removed', named(artifact));
      await staging.removeFromGroup(viewer.principal, artifact.group.id, artifact.id, artifact.version);
      return done(await backFrom(viewer, paths, artifact.group.id), 'removed', named(artifact));
    });
  });
}
