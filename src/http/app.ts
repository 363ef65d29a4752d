import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Feed } from '../feed/feed.js';
import { openSearch } from '../feed/search/search-service.js';
import { installErrorHandling } from './errors.js';
import { healthRoutes } from './health.js';
import { Metrics, metricsRoutes } from './metrics.js';
import { publishRoutes } from './publish.js';
import { ResponseCache } from './response-cache.js';
import { flatContainerRoutes } from './v3/flat-container.js';
import { registrationRoutes } from './v3/registration.js';
import { searchRoutes } from './v3/search.js';
import { serviceIndexRoutes } from './v3/service-index.js';
import { staticResourceRoutes } from './v3/static-resources.js';

/** Assembles the web server: one module per protocol resource, one error handler, one response cache. */
export async function buildApp(feed: Feed, config: Config): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Keys travel in these headers; they never reach a log line.
      redact: ['req.headers["x-nuget-apikey"]', 'req.headers.authorization'],
      // People read a terminal; machines read JSON lines.
      ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } } } : {}),
    },
    // Request ids: the caller's X-Request-Id when it sends one (a proxy's), else our own; echoed back to the client.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Per-request lines only when debugging: restore traffic is thousands of requests a minute.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 300 },
    // Big pushes on slow links take long; the body size limit bounds them instead.
    requestTimeout: 0,
  });
  installErrorHandling(app);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const metrics = new Metrics();
  metricsRoutes(app, metrics);
  healthRoutes(app, feed);
  const cache = new ResponseCache(20_000, (hit) => metrics.cache.inc({ result: hit ? 'hit' : 'miss' }));
  feed.events.onPackageChanged((lowerId) => cache.invalidate(lowerId));

  serviceIndexRoutes(app, config.baseUrl);
  staticResourceRoutes(app, config.baseUrl);
  // Search lives with the app for now (the lead may move it into openFeed): it loads in the background, and its
  // close hook writes the download counts before the database closes (app.close() runs before feed.close()).
  const search = openSearch(feed.db, feed.events, { onError: (err, what) => app.log.warn({ err }, `search: ${what} failed`) });
  app.decorate('pawketSearch', search);
  app.addHook('onClose', () => search.close());
  searchRoutes(app, search.index, config.baseUrl);
  flatContainerRoutes(app, feed.reader, cache, { allowOverwrite: config.allowOverwrite, downloads: {
      record(lowerId, lowerVersion) {
        metrics.downloads.inc();
        search.downloads.record(lowerId, lowerVersion);
      },
    },
  });
  registrationRoutes(app, feed.reader, cache, config.baseUrl);
  publishRoutes(app, {
    auth: feed.auth,
    publish: feed.publish,
    manage: feed.manage,
    tempDir: feed.tempDir,
    maxPackageSize: config.maxPackageSize,
    onPushAnswered: (status, replaced) => metrics.pushes.inc({ outcome: status === 201 ? (replaced ? 'replaced' : 'created') : String(status) }),
  });
  return app;
}
