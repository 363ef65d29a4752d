import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Feed } from '../feed/feed.js';
import type { SearchIndex } from '../feed/search/search-index.js';
import { openSearch } from '../feed/search/search-service.js';
import { installAccessControl, RequestAuthenticator } from './access-control.js';
import { adminRoutes, feedAdminRoutes } from './admin.js';
import { adminPromotionRoutes } from './admin-promotions.js';
import { adminFeedRoutes } from './admin-feeds.js';
import { adminWebhookRoutes } from './admin-webhooks.js';
import { adminSignerRoutes } from './admin-signers.js';
import { advisoryRoutes } from './advisories.js';
import { refuseMalformedHosts } from './base-url.js';
import { installBodyIdleTimeout } from './body-timeout.js';
import { installErrorHandling } from './errors.js';
import { healthRoutes } from './health.js';
import { Metrics, metricsRoutes } from './metrics.js';
import { publishRoutes } from './publish.js';
import { FailureLimiter } from './rate-limit.js';
import { IMMUTABLE, ResponseCache, REVALIDATE } from './response-cache.js';
import { lazySchemaCompilers } from './schema-compilers.js';
import { restoreFastPath } from './fast-path.js';
import { ShadowCheckedReader } from '../feed/upstream/merged-reader.js';
import { MergedSearchIndex } from '../feed/upstream/merged-search.js';
import { symbolRoutes } from './symbols.js';
import { stagingRoutes } from './staging.js';
import { stagingPreviewRoutes } from './staging-preview.js';
import { tokenExchangeRoutes } from './token-exchange.js';
import { trustPolicyRoutes } from './trust-policies.js';
import { trustPoliciesOf } from '../trust/policies.js';
import { trustRoutes } from './ui/trust-routes.js';
import { V2Catalog } from '../feed/v2-catalog.js';
import { v2Routes } from './v2/routes.js';
import { flatContainerRoutes, type DownloadRecorder } from './v3/flat-container.js';
import { registrationRoutes } from './v3/registration.js';
import { searchRoutes } from './v3/search.js';
import { serviceIndexRoutes } from './v3/service-index.js';
import { staticResourceRoutes } from './v3/static-resources.js';
import { PackageFiles } from './ui/package-files.js';
import { uiRoutes } from './ui/routes.js';
import { PackageManagement } from './ui/manage-routes.js';
import { stagingPageRoutes } from './ui/staging-routes.js';
import { signInOffer } from './ui/sign-in-offer.js';
import { uploadFormRoute } from './ui/upload-route.js';
import { FeedRouter } from './feed-router.js';
import { readCheckRoutes } from './read-check.js';
import { compositionStamp } from '../feed/virtual/members.js';
import { materializedBase } from '../materialize/layout.js';
import { Materializer } from '../materialize/materializer.js';
import { virtualFeedRoutes } from './virtual-feed.js';
import { installViewer, WebSessions } from './session.js';
import { pruneSessionsRegularly, signInRoutes } from './ui/sign-in-routes.js';
import { oidcRoutes } from './ui/oidc-routes.js';
import { adminPeopleRoutes } from './admin-people.js';
import { orgRoutes } from './ui/org-routes.js';
import { adminPageRoutes } from './ui/admin-routes.js';
import { webhookPageRoutes } from './ui/webhook-routes.js';
import { signerPageRoutes } from './ui/signer-routes.js';
import { keyRoutes } from './ui/key-routes.js';
import { userAdminRoutes } from './ui/user-admin-routes.js';
import { UserAdmin } from '../people/user-admin.js';

/** What every feed's app of one server shares: one metrics registry, one count of bad keys per address. */
interface ServerParts {
  readonly metrics: Metrics;
  readonly requestAuth: RequestAuthenticator;
  /** A feed's app (the root app for the default feed), built if not yet: virtual feeds read their members' search. */
  readonly feedApp: (feedId: number) => Promise<FastifyInstance>;
  /** The web UI's sessions: one cookie for every feed's pages. */
  readonly web: WebSessions;
  /** The root app's logger, set once it exists: every feed's app logs through it (one pino transport per server). */
  logger?: FastifyBaseLogger;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's whole request handling (restore fast path, then Fastify), for the router of feeds to call. */
    pawketHandle: (req: IncomingMessage, res: ServerResponse) => void;
    /** The feed definition the app was built from (JSON), to tell when it must be built again. */
    pawketDefinition: string;
    /** On the root app: a feed's app by feed id, built if not yet (tests flush a feed's download counts through it). */
    pawketFeedApp: (feedId: number) => Promise<FastifyInstance>;
  }
}

/**
 * Assembles the web server of the feeds `feed` belongs to: the default feed's app at the unprefixed URLs, with the
 * server's own routes (metrics, health, admin API), and every other feed's app under `/f/{name}/` (http/feed-router.ts).
 */
export async function buildApp(feed: Feed, config: Config): Promise<FastifyInstance> {
  let router: FeedRouter | undefined;
  const parts: ServerParts = {
    metrics: new Metrics(),
    // Keys: bad ones are slowed per address, whichever feed they were sent to (docs/SECURITY.md).
    requestAuth: new RequestAuthenticator(feed.auth, new FailureLimiter({ perMinute: config.badKeyLimit })),
    feedApp: (feedId) => router!.app(feedId),
    web: new WebSessions(feed.hub.shared.sessions, feed.hub.shared.people, feed.auth),
  };
  router = new FeedRouter(feed.hub, (other) => buildFeedApp(other, { ...config, ...other.config }, parts, null));
  const app = await buildFeedApp(feed, config, parts, router);
  parts.logger = app.log;
  router.setDefaultApp(app);
  app.decorate('pawketFeedApp', parts.feedApp);
  app.addHook('onClose', () => router.close());
  return app;
}

/**
 * One feed's app: one module per protocol resource, one error handler, one response cache. `router` is given to the
 * server's root app only, which owns the listening server and hands `/f/{name}/` requests to the other feeds' apps.
 */
async function buildFeedApp(feed: Feed, config: Config, parts: ServerParts, router: FeedRouter | null): Promise<FastifyInstance> {
  const root = router !== null;
  // Set once the routes exist; until then (and for private or proxied feeds) every request takes the full path.
  let fastPath: ((req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>) | undefined;
  let handle: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  // Fastify's timeout options do not reach a server made here: they are set on it. A body may take as long as it keeps
  // sending (no requestTimeout; maxPackageSize bounds it): its pauses are bounded by uploadIdleTimeout (body-timeout.ts),
  // its headers by headersTimeout, checked every second rather than Node's 30 s.
  const serverOptions = {
    requestTimeout: 0,
    headersTimeout: config.headersTimeout,
    keepAliveTimeout: config.keepAliveTimeout,
    connectionsCheckingInterval: Math.min(1000, config.headersTimeout),
  };
  const app = Fastify({
    serverFactory: (handler) => {
      handle = (req, res) => {
        if (!fastPath) return handler(req, res);
        let answered;
        try {
          answered = fastPath(req, res);
        } catch {
          return handler(req, res);
        }
        if (answered === true) return;
        if (answered === false) return handler(req, res);
        answered.then(
          (done) => done || handler(req, res),
          () => handler(req, res),
        );
      };
      // Only the root app's server listens; the other feeds' apps are reached through it.
      // While a promotion's read fence is raised, each request waits for this node to catch up with the change log.
      const fence = feed.hub.fence;
      return createServer(serverOptions, router ? (req, res) => fence.admit(() => router.route(req, res) || handle(req, res)) : handle);
    },
    ...(parts.logger && !root
      ? { loggerInstance: parts.logger.child({ feed: feed.scope.name }) }
      : {
          logger: {
            level: config.logLevel,
            // Keys travel in these headers; they never reach a log line.
            redact: ['req.headers["x-nuget-apikey"]', 'req.headers.authorization'],
            // People read a terminal; machines read JSON lines.
            ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } } } : {}),
          },
        }),
    // Request ids: the caller's X-Request-Id when it sends one (a proxy's), else our own; echoed back to the client.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    schemaController: lazySchemaCompilers,
    // Per-request lines only when debugging: restore traffic is thousands of requests a minute.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 300 },
    // Behind a proxy, the client's address (bad-key limits, audit log) and scheme come from X-Forwarded-* headers.
    trustProxy: config.trustProxy,
  });
  app.decorate('pawketHandle', (req: IncomingMessage, res: ServerResponse) => handle(req, res));
  app.decorate('pawketDefinition', compositionStamp(feed.hub, feed.definition));
  router?.setDefaultHandler((req, res) => handle(req, res));
  installErrorHandling(app);
  installBodyIdleTimeout(app, config.uploadIdleTimeout);
  // On close, keep-alive connections that finish a response after closing began would otherwise hold the server open
  // until their keep-alive timeout: close each one as soon as it goes idle.
  let idleCloser: NodeJS.Timeout | undefined;
  app.addHook('preClose', (done) => {
    idleCloser = setInterval(() => app.server.closeIdleConnections(), 100);
    idleCloser.unref();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(idleCloser);
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Documents link to the Host a client names: a malformed one is a 400, never text in a document.
  refuseMalformedHosts(app);
  // On a private feed every read needs a key valid on this feed (docs/SECURITY.md); so does every write.
  const { metrics } = parts;
  const requestAuth = parts.requestAuth.forFeed(feed.access);
  // Who is signed in to the web UI (only requests with the session cookie ask); their role here may read a private feed.
  installViewer(app, parts.web, feed.access);
  installAccessControl(app, requestAuth, {
    privateFeed: config.private,
    gate: feed.access,
    // Browsers are offered the sign-in page rather than a password prompt.
    browserDenied: signInOffer(feed.scope, config.signIn),
  });
  // nginx asks it before serving a private feed's materialized files (docs/DEPLOYMENT.md).
  readCheckRoutes(app);
  if (root && config.private && config.apiKeys.length === 0 && (await feed.accessDb.countUsableKeys(new Date().toISOString())) === 0) {
    app.log.warn('the feed is private but has no API key yet: create one with `pawket keys create`');
  }

  metricsRoutes(app, metrics, root);
  if (root) healthRoutes(app, feed);
  // Bounded by bytes, whatever Host names clients send (docs/ARCHITECTURE.md, the restore flow).
  const cache = new ResponseCache(config.responseCacheSize, (hit) => (hit ? metrics.cacheHits++ : metrics.cacheMisses++));
  metrics.caches.add(cache);
  if (feed.fileBytes) metrics.packageBytes.add(feed.fileBytes);
  app.addHook('onClose', (_instance, done) => {
    metrics.caches.delete(cache);
    done();
  });
  feed.events.onPackageChanged((lowerId) => cache.invalidate(lowerId));
  if (feed.virtual) {
    fastPath = virtualFeedRoutes(app, feed, feed.virtual, { config, cache, metrics, requestAuth, feedApp: parts.feedApp });
    return app;
  }

  // With readBaseUrl, clients read a materialized feed's restore documents there (docs/DEPLOYMENT.md).
  const readBase = config.readBaseUrl && Materializer.materializes(feed) ? materializedBase(config, feed.definition) : undefined;
  serviceIndexRoutes(app, config.baseUrl, feed.repositoryCertificates !== null, readBase);
  staticResourceRoutes(app, config.baseUrl, feed.advisories, feed.upstream?.vulnerabilities ?? null, feed.repositoryCertificates);
  // Search belongs to the serving process, not to the feed (CLI jobs open the feed without it): it loads in the
  // background, and its close hook writes the download counts before the database closes (app.close() runs first).
  // Reading every row of a large feed takes seconds of database reads on the event loop: it begins once the server
  // listens (or a search needs it), so start-up answers at once whatever the size of the feed.
  const search = openSearch(feed.db, feed.events, { onError: (err, what) => app.log.warn({ err }, `search: ${what} failed`), deferLoad: true });
  const startSearch = () => void search.index.start();
  if (app.server.listening) startSearch();
  else app.server.once('listening', startSearch);
  app.decorate('pawketSearch', search);
  app.addHook('onClose', () => search.close());
  // With `upstreamSearch: merged`, V3 search and the web UI also ask the upstreams (docs/UPSTREAMS.md); V2 stays local.
  const mergedSearch = feed.upstream && config.upstreamSearch === 'merged' ? new MergedSearchIndex(search.index, feed.upstream) : null;
  app.decorate<SearchIndex>('pawketSearchIndex', mergedSearch ?? search.index);
  searchRoutes(app, mergedSearch ?? search.index, config.baseUrl, (lowerId) => feed.ownership.isVerifiedId(lowerId));
  const downloads: DownloadRecorder = {
    record(lowerId, lowerVersion) {
      metrics.downloadsServed++;
      search.downloads.record(lowerId, lowerVersion);
    },
  };
  // Icons, readmes and license files read from inside packages, for the flat container and the web UI alike.
  const packageFiles = new PackageFiles(feed.reader, feed.events);
  flatContainerRoutes(app, feed.mergedReader, cache, { allowOverwrite: config.allowOverwrite, files: packageFiles, symbols: feed.symbols, downloads });
  if (!config.private && !config.trustProxy) {
    fastPath = restoreFastPath({
      cache,
      reader: feed.upstream?.blockShadowing ? new ShadowCheckedReader(feed.db, feed.blobs, feed.events, feed.upstream, feed.fileBytes) : feed.reader,
      metrics,
      downloads,
      configuredBase: config.baseUrl,
      fileCacheControl: config.allowOverwrite ? REVALIDATE : IMMUTABLE,
    });
  }
  // With upstreams, the protocol routes read the merged view (feed/upstream/); the fast path only repeats what they
  // rendered or serves local rows, and upstream refreshes drop rendered documents through feed.events.
  registrationRoutes(app, feed.mergedReader, cache, config.baseUrl, feed.advisories);
  // The V2 (OData) feed for legacy clients: the same rows, search index and download counting as V3.
  v2Routes(app, {
    reader: feed.reader,
    catalog: new V2Catalog(feed.reader, feed.db, feed.events),
    index: search.index,
    configuredBase: config.baseUrl,
    allowOverwrite: config.allowOverwrite,
    downloads,
  });
  const publishDeps = {
    access: feed.access,
    requestAuth,
    publish: feed.publish,
    manage: feed.manage,
    tempDir: feed.tempDir,
    maxPackageSize: config.maxPackageSize,
    configuredBase: config.baseUrl,
    ...(feed.hub.shared.materializer ? { materialized: (lid: string) => feed.hub.shared.materializer!.settled(feed.definition.id, lid) } : {}),
    onPushAnswered: (status: number, replaced: boolean) =>
      metrics.pushes.inc({ outcome: status === 201 ? (replaced ? 'replaced' : 'created') : String(status) }),
  };
  publishRoutes(app, publishDeps);
  symbolRoutes(app, {
    access: feed.access,
    requestAuth,
    symbols: feed.symbols,
    reader: feed.reader,
    tempDir: feed.tempDir,
    maxPackageSize: config.maxPackageSize,
    allowOverwrite: config.allowOverwrite,
  });
  tokenExchangeRoutes(app, { exchange: feed.trust, feed: { id: feed.scope.id, name: feed.scope.name }, configuredBase: config.baseUrl });
  stagingRoutes(app, { staging: feed.staging, requestAuth, tempDir: feed.tempDir, maxPackageSize: config.maxPackageSize, apiPromotion: config.stagingApiPromotion });
  stagingPreviewRoutes(app, { previews: feed.stagingPreviews, requestAuth, gate: feed.access, configuredBase: config.baseUrl });
  if (root) {
    const feeds = { idOf: (name: string) => feed.hub.definition(name)?.id, nameOf: (id: number) => feed.hub.definitionById(id)?.name };
    adminRoutes(app, { auth: feed.auth, requestAuth: parts.requestAuth, keys: feed.keys, audit: feed.audit, feeds });
    adminPromotionRoutes(app, { auth: feed.auth, requestAuth: parts.requestAuth, hub: feed.hub });
    adminFeedRoutes(app, { hub: feed.hub, auth: feed.auth, requestAuth: parts.requestAuth, configuredBase: config.baseUrl });
    signInRoutes(app, { web: parts.web, requestAuth: parts.requestAuth, auth: feed.auth, config: config.signIn, scope: feed.scope });
    oidcRoutes(app, {
      web: parts.web,
      people: feed.hub.shared.people,
      audit: feed.audit,
      config: config.signIn,
      configuredBase: config.baseUrl,
      scope: feed.scope,
    });
    pruneSessionsRegularly(app, feed.hub.shared.sessions);
    // Organisations, roles per feed and the admin pages (docs/ORGANISATIONS.md); a person's keys and the users' pages.
    const { people, sessions } = feed.hub.shared;
    adminPeopleRoutes(app, { hub: feed.hub, people, auth: feed.auth, requestAuth: parts.requestAuth });
    orgRoutes(app, { hub: feed.hub, people, scope: feed.scope });
    adminPageRoutes(app, { hub: feed.hub, people, scope: feed.scope });
    keyRoutes(app, { hub: feed.hub, keys: feed.keys, people, scope: feed.scope });
    // Trusted publishing's policies (docs/TRUSTED-PUBLISHING.md): the server's, like keys; JSON and pages.
    const policies = trustPoliciesOf(feed.hub);
    trustPolicyRoutes(app, { policies, requestAuth: parts.requestAuth, configuredBase: config.baseUrl });
    trustRoutes(app, { policies, people, scope: feed.scope, configuredBase: config.baseUrl });
    userAdminRoutes(app, { users: new UserAdmin(people, sessions, feed.accessDb, feed.audit, feed.auth), people, hub: feed.hub, scope: feed.scope });
  }
  feedAdminRoutes(app, { auth: feed.auth, requestAuth, ownership: feed.ownership });
  const testWaitMs = config.webhookTimeout + config.webhookPollInterval + 2000;
  adminWebhookRoutes(app, { auth: feed.auth, requestAuth, webhooks: feed.webhooks, feedName: feed.scope.name, testWaitMs });
  // The same for the feed's admins in the browser.
  webhookPageRoutes(app, { scope: feed.scope, access: feed.access, webhooks: feed.webhooks, testWaitMs });
  // Trusted-signer policies (docs/SIGNING.md): the feed's admins, as JSON and pages.
  adminSignerRoutes(app, { auth: feed.auth, requestAuth, signers: feed.signers, feedName: feed.scope.name });
  signerPageRoutes(app, { scope: feed.scope, access: feed.access, signers: feed.signers });
  advisoryRoutes(app, feed.advisories, requestAuth);
  // Owners manage their ids in the browser: "My packages" and the package page's forms.
  const management = new PackageManagement(feed);
  management.routes(app);
  // Owners' staged packages: look, download, promote, delete (docs/STAGING.md, Promoting in the web UI).
  stagingPageRoutes(app, feed);
  // The web UI at / (docs/ARCHITECTURE.md, Web UI).
  uiRoutes(app, {
    management,
    feed,
    index: mergedSearch ?? search.index,
    localIndex: search.index,
    // Merged results link to upstream-only ids: their pages read the merged view.
    ...(mergedSearch ? { pageReader: feed.mergedReader } : {}),
    configuredBase: config.baseUrl,
    privateFeed: config.private,
    files: packageFiles,
  });
  // The upload page's form without JavaScript: a push with the key in a form field, answered with a page.
  uploadFormRoute(app, { ...publishDeps, scope: feed.scope });
  return app;
}
