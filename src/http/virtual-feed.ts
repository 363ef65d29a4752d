import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { DownloadCount } from '../db/database.js';
import type { Feed, VirtualParts } from '../feed/feed.js';
import type { SearchIndex } from '../feed/search/search-index.js';
import { V2Catalog } from '../feed/v2-catalog.js';
import type { VirtualMembers } from '../feed/virtual/members.js';
import { readOnly } from '../feed/virtual/read-only.js';
import { VirtualSearchIndex, type MemberSearch } from '../feed/virtual/virtual-search.js';
import type { RequestAuthenticator } from './access-control.js';
import { advisoryRoutes } from './advisories.js';
import { restoreFastPath } from './fast-path.js';
import type { Metrics } from './metrics.js';
import { REVALIDATE, type ResponseCache } from './response-cache.js';
import { routes } from './routes.js';
import { symbolRoutes } from './symbols.js';
import { PackageFiles } from './ui/package-files.js';
import { uiRoutes } from './ui/routes.js';
import { v2Routes } from './v2/routes.js';
import { flatContainerRoutes, type DownloadRecorder } from './v3/flat-container.js';
import { registrationRoutes } from './v3/registration.js';
import { searchRoutes } from './v3/search.js';
import { serviceIndexRoutes } from './v3/service-index.js';
import { staticResourceRoutes } from './v3/static-resources.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** What the app's search answers (with merged upstream search, the upstreams' hits too); a virtual feed's merges its members'. */
    pawketSearchIndex: SearchIndex;
  }
}

export interface VirtualRouteDeps {
  readonly config: Config;
  readonly cache: ResponseCache;
  readonly metrics: Metrics;
  readonly requestAuth: RequestAuthenticator;
  /** The app of a feed, built if not yet: the members' search indexes and download counters are their apps'. */
  readonly feedApp: (feedId: number) => Promise<FastifyInstance>;
}

type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** Where a push goes: the V3 publish resource, the V2 root (nuget.exe pushes there), symbols, the upload form. */
const PUSH_PATHS = new Set([routes.publish, routes.feedPublish, routes.v2.replace(/\/$/, ''), routes.symbolPublish, routes.feedSymbolPublish, '/upload']);

/**
 * The routes of a virtual feed's app (docs/FEEDS.md): the same protocol modules as any feed's, reading through the
 * virtual reader (first member that has an id serves it), searching the members' indexes merged in member order, and
 * counting a download for the member the package came from. Every change (push, delete, relist, symbols, advisories,
 * the upload form) is a 405 naming the members, answered before any body is read. The service index still lists the
 * push resources, so that `dotnet nuget push` reaches the 405 and prints its message. V2 is served through the same
 * reader, over the members' own packages (as V2 is local on a feed with upstreams).
 *
 * Returns the restore fast path (cached documents, and files the serving member has in memory), or undefined when the
 * feed may not take it (private, behind a proxy).
 */
export function virtualFeedRoutes(app: FastifyInstance, feed: Feed, virtual: VirtualParts, deps: VirtualRouteDeps): FastPath | undefined {
  const { config, cache, metrics, requestAuth } = deps;
  const { reader, members, advisories, symbols } = virtual;
  refuseChanges(app, members, config.maxPackageSize);

  const memberSearch = async (merged: boolean): Promise<MemberSearch[]> =>
    Promise.all(
      (await members.feeds()).map(async (member) => {
        const memberApp = await deps.feedApp(member.scope.id);
        const local = memberApp.pawketSearch.index;
        return {
          index: merged ? memberApp.pawketSearchIndex : local,
          local,
          isVerifiedId: (lowerId: string) => member.ownership.isVerifiedId(lowerId),
          owns: (lowerIds: readonly string[]) => member.accessDb.registeredAmong(lowerIds),
        };
      }),
    );
  const search = new VirtualSearchIndex(() => memberSearch(true));
  // V2 and the statistics of /feed: the members' own packages, as on a feed with upstreams.
  const localSearch = new VirtualSearchIndex(() => memberSearch(false));
  app.decorate('pawketSearchIndex', search);

  const downloads: DownloadRecorder = {
    record(lowerId, lowerVersion) {
      metrics.downloadsServed++;
      // Counted for the member that served it (just resolved for this download); not counted if a change came between.
      const member = reader.recentMemberOf(lowerId);
      if (!member) return;
      deps.feedApp(member.scope.id).then(
        (memberApp) => memberApp.pawketSearch.downloads.record(lowerId, lowerVersion),
        () => {},
      );
    },
  };
  const counts = {
    listDownloadCounts: async (lowerId?: string): Promise<DownloadCount[]> =>
      lowerId !== undefined
        ? reader.listDownloadCounts(lowerId)
        : (await Promise.all((await members.feeds()).map((m) => m.db.listDownloadCounts()))).flat(),
    countPackages: async () => (await Promise.all((await members.feeds()).map((m) => m.db.countPackages()))).reduce((a, b) => a + b, 0),
  };

  serviceIndexRoutes(app, config.baseUrl);
  staticResourceRoutes(app, config.baseUrl, advisories, { files: () => advisories.upstreamFiles() });
  searchRoutes(app, search, config.baseUrl, (lowerId) => search.isVerifiedId(lowerId));
  const files = new PackageFiles(reader, feed.events);
  // Which member serves a version can change (an earlier member gets the id), and with it the bytes: files revalidate.
  flatContainerRoutes(app, reader, cache, { allowOverwrite: true, files, symbols, downloads });
  registrationRoutes(app, reader, cache, config.baseUrl, advisories);
  v2Routes(app, {
    reader,
    catalog: new V2Catalog(reader, counts, feed.events),
    index: localSearch,
    configuredBase: config.baseUrl,
    allowOverwrite: true,
    downloads,
  });
  symbolRoutes(app, {
    access: feed.access,
    requestAuth,
    symbols,
    reader,
    tempDir: feed.tempDir,
    maxPackageSize: config.maxPackageSize,
    allowOverwrite: true,
  });
  advisoryRoutes(app, advisories, requestAuth);
  uiRoutes(app, {
    feed: { scope: feed.scope, reader, events: feed.events, db: counts, ownership: search, advisories },
    index: search,
    localIndex: localSearch,
    pageReader: reader,
    configuredBase: config.baseUrl,
    privateFeed: config.private,
    files,
  });
  if (config.private || config.trustProxy) return undefined;
  return restoreFastPath({ cache, reader, metrics, downloads, configuredBase: config.baseUrl, fileCacheControl: REVALIDATE });
}

/**
 * Any request that would change something is refused before its body is read: a body of a size a push may have is
 * read and dropped so that the client, still sending, gets the answer; a bigger one closes the connection after it.
 */
function refuseChanges(app: FastifyInstance, members: VirtualMembers, maxPackageSize: number): void {
  app.addHook('onRequest', async (request, reply) => {
    const method = request.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return;
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared <= maxPackageSize) request.raw.resume();
    else reply.header('connection', 'close');
    const path = (request.url.split('?')[0] ?? '').replace(/\/+$/, '');
    const push = (method === 'PUT' || method === 'POST') && PUSH_PATHS.has(path);
    throw readOnly(members.definition.name, members.names(), push ? 'push' : 'change');
  });
}
