import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PawketError, badRequest } from '../../errors.js';
import { ownersActedFor, type Principal } from '../../feed/auth.js';
import type { Feed } from '../../feed/feed.js';
import { PackageOwners } from '../../feed/package-owners.js';
import { parseAlternate, parseDeprecationReason, type AlternatePackage, type Deprecation } from '../../nuget/advisory.js';
import { lowerId as toLowerId } from '../../nuget/id.js';
import { compareVersions, parseVersion } from '../../nuget/version.js';
import { installFormParsing, requireSameSiteForm, field, type Fields } from '../session.js';
import type { Html } from './html.js';
import { actionErrorPage, doneNotice, isDoneFlag, manageSection, myPackagesPage, type DoneFlag, type OwnedPackage } from './manage-pages.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';

/** What a feed's package management reads and changes: its use cases, each checking rights itself (feed/access.ts). */
export type ManagedFeed = Pick<Feed, 'scope' | 'access' | 'manage' | 'advisories' | 'ownership' | 'reader' | 'db' | 'config'> & {
  readonly hub: { readonly shared: { readonly people: { readonly db: { isOwnerNameTaken(lowerName: string): Promise<boolean> } } } };
};

/** The version a package page shows, as the Manage section needs it. */
export interface ManagedVersion {
  readonly id: string;
  readonly version: string;
  readonly listed: boolean;
  readonly deprecation: Deprecation | null;
}

/** Ids per page of "My packages". */
const MY_PACKAGES_PAGE = 50;

type VersionParams = { Params: { id: string; version: string } };

/**
 * Owners managing their package ids in the browser: the "My packages" page (`{prefix}/account/packages`), the Manage
 * section of a package page, and its forms (`POST {prefix}/packages/{id}/{version}/unlist|relist|delete|deprecate|
 * undeprecate|owners/add|owners/remove`). Every form needs a signed-in viewer and the session's CSRF token, acts
 * through the feed's use cases with the viewer's principal (cut to their role on the feed, so rights and audit entries
 * are the person's), and answers with a redirect back to the page (303) or a page saying what went wrong.
 */
export class PackageManagement {
  private readonly owners: PackageOwners;

  constructor(private readonly feed: ManagedFeed) {
    this.owners = new PackageOwners(feed.access, feed.ownership, feed.hub.shared.people.db);
  }

  /** The package page's parts: the outcome of the last form (`?done=`), and the Manage section for those who may manage the id. */
  async view(request: FastifyRequest, paths: UiPaths, shown: ManagedVersion): Promise<{ notice: Html | null; section: Html | null }> {
    const query = request.query as Record<string, unknown>;
    const notice = isDoneFlag(query.done) ? doneNotice(query.done, typeof query.version === 'string' ? query.version.slice(0, 100) : shown.version) : null;
    const viewer = request.pawketViewer;
    if (!viewer || !(await this.feed.access.mayManage(viewer.principal, shown.id))) return { notice, section: null };
    const [owners, stored] = await Promise.all([this.owners.owners(shown.id), this.feed.reader.findFile(shown.id, shown.version)]);
    const section = manageSection(paths, {
      ...shown,
      local: stored !== null,
      canDelete: this.feed.config.deleteMode === 'delete',
      owners,
      asAdmin: !ownersActedFor(viewer.principal).some((o) => owners.includes(o)),
    });
    return { notice, section };
  }

  routes(app: FastifyInstance): void {
    const { feed } = this;
    app.get('/account/packages', async (request, reply) => {
      const paths = UiPaths.of(request, feed.scope);
      const viewer = request.pawketViewer;
      if (!viewer) return reply.redirect(paths.signIn(paths.myPackages), 303);
      const query = request.query as Record<string, unknown>;
      const owners = ownersActedFor(viewer.principal);
      const ownedAs = new Map<string, string[]>();
      for (const owner of owners) {
        // A name that is not a valid owner name (ownerName: 400) owns nothing.
        const ids = await feed.ownership.idsOwnedBy(owner).catch((err: unknown) => {
          if (err instanceof PawketError && err.status === 400) return [] as string[];
          throw err;
        });
        for (const lid of ids) ownedAs.set(lid, [...(ownedAs.get(lid) ?? []), owner]);
      }
      const ids = [...ownedAs.keys()].sort();
      const pages = Math.max(1, Math.ceil(ids.length / MY_PACKAGES_PAGE));
      const page = Math.min(Math.max(1, Number.parseInt(String(query.page ?? ''), 10) || 1), pages);
      const packages: OwnedPackage[] = [];
      for (const lid of ids.slice((page - 1) * MY_PACKAGES_PAGE, page * MY_PACKAGES_PAGE)) {
        const [records, counts] = await Promise.all([feed.db.listVersions(lid), feed.db.listDownloadCounts(lid)]);
        const sorted = records
          .map((r) => ({ r, parsed: parseVersion(r.fullVersion) }))
          .sort((a, b) => (a.parsed && b.parsed ? compareVersions(a.parsed, b.parsed) : 0))
          .map((v) => v.r);
        const latest = sorted.at(-1);
        packages.push({
          id: latest?.id ?? lid,
          versions: sorted.length,
          listedVersions: sorted.filter((r) => r.listed).length,
          latest: latest?.version ?? '—',
          downloads: counts.reduce((sum, c) => sum + c.count, 0),
          ownedAs: ownedAs.get(lid)!,
        });
      }
      const done = isDoneFlag(query.done) ? doneNotice(query.done, typeof query.version === 'string' ? query.version.slice(0, 100) : null) : null;
      return sendPage(reply, myPackagesPage(paths, { packages, owners, admin: viewer.admin, page, pages, total: ids.length }, done));
    });

    app.register(async (scope) => {
      installFormParsing(scope);
      scope.setErrorHandler((error: FastifyError | PawketError, request: FastifyRequest, reply: FastifyReply) => {
        const paths = UiPaths.of(request, feed.scope);
        const { id, version } = (request.params ?? {}) as Partial<VersionParams['Params']>;
        const back = id ? paths.package(id, version) : paths.home();
        const status = error instanceof PawketError ? error.status : (error.statusCode ?? 500);
        if (status >= 500) request.log.error({ err: error }, 'package management failed');
        const message = status >= 500 ? 'The server failed to do that; the error is in its log.' : error.message;
        return sendPage(reply, actionErrorPage(paths, status, message, back), status);
      });

      /** One form: same-site with the session's token, a signed-in viewer, then the action; 303 to where it says. */
      const form = (path: string, act: (principal: Principal, id: string, version: string, fields: Fields, paths: UiPaths) => Promise<string>) =>
        scope.post<VersionParams>(`/packages/:id/:version/${path}`, async (request, reply) => {
          const fields = request.body as Fields;
          const viewer = request.pawketViewer ?? null;
          requireSameSiteForm(request, viewer, fields);
          if (!viewer) throw new PawketError(401, 'Sign in to manage packages.');
          const { id, version } = request.params;
          const paths = UiPaths.of(request, feed.scope);
          return reply.redirect(await act(viewer.principal, id, version, fields, paths), 303);
        });
      const back = (paths: UiPaths, id: string, version: string, done: DoneFlag) => `${paths.package(id, version)}?done=${done}`;

      form('unlist', async (principal, id, version, _fields, paths) => {
        await feed.manage.remove(id, version, principal, 'unlist');
        return back(paths, id, version, 'unlisted');
      });
      form('relist', async (principal, id, version, _fields, paths) => {
        await feed.manage.relist(id, version, principal);
        return back(paths, id, version, 'relisted');
      });
      form('delete', async (principal, id, version, fields, paths) => {
        if (feed.config.deleteMode !== 'delete') {
          throw new PawketError(403, `This feed does not delete versions (its delete mode is unlist): unlist ${id} ${version} instead.`);
        }
        if (field(fields, 'confirm') !== 'yes') throw badRequest(`Tick "Delete for good" to delete ${id} ${version}: it cannot be undone.`);
        await feed.manage.remove(id, version, principal, 'delete');
        const done = `done=deleted&version=${encodeURIComponent(version)}`;
        return (await feed.db.listVersions(toLowerId(id))).length > 0 ? `${paths.package(id)}?${done}` : `${paths.myPackages}?${done}`;
      });
      form('deprecate', async (principal, id, version, fields, paths) => {
        const reasons = [fields?.['reasons[]'] ?? []].flat().map((text) => {
          const reason = typeof text === 'string' ? parseDeprecationReason(text) : null;
          if (!reason) throw badRequest('Choose the reasons among Legacy, CriticalBugs and Other.');
          return reason;
        });
        await feed.advisories.deprecate(principal, id, field(fields, 'scope') === 'all' ? ['*'] : [version], {
          reasons,
          message: field(fields, 'message') || null,
          alternate: alternateOf(field(fields, 'alternate')),
        });
        return back(paths, id, version, 'deprecated');
      });
      form('undeprecate', async (principal, id, version, _fields, paths) => {
        await feed.advisories.undeprecate(principal, id, [version]);
        return back(paths, id, version, 'undeprecated');
      });
      form('owners/add', async (principal, id, version, fields, paths) => {
        await this.owners.add(principal, id, field(fields, 'owner'));
        return back(paths, id, version, 'owner-added');
      });
      form('owners/remove', async (principal, id, version, fields, paths) => {
        await this.owners.remove(principal, id, field(fields, 'owner'));
        return back(paths, id, version, 'owner-removed');
      });
    });
  }
}

function alternateOf(text: string): AlternatePackage | null {
  if (!text.trim()) return null;
  try {
    return parseAlternate(text.trim());
  } catch (err) {
    throw badRequest(`Invalid alternate package: ${(err as Error).message}.`);
  }
}
