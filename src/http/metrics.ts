import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one server: requests by route and status, latency, pushes, downloads, cache hits.
 * A registry per app (not prom-client's global one), so several apps in one process (tests) stay apart.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'pawket_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'pawket_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly pushes = new Counter({
    name: 'pawket_pushes_total',
    help: 'Package pushes by outcome (created, replaced, or the HTTP status of a refusal)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly downloads = new Counter({
    name: 'pawket_package_downloads_total',
    help: 'Package (.nupkg) downloads served',
    registers: [this.registry],
  });
  readonly cache = new Counter({
    name: 'pawket_response_cache_total',
    help: 'Rendered-document cache lookups by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  /** Where the response caches' sizes (one per feed served) are read from at scrape time. */
  readonly caches = new Set<{ readonly bytes: number }>();
  readonly cacheSize: Gauge = new Gauge({
    name: 'pawket_response_cache_bytes',
    help: 'Bytes the rendered-document cache holds (bounded by responseCacheSize)',
    registers: [this.registry],
    collect: (): void => this.cacheSize.set([...this.caches].reduce((sum, c) => sum + c.bytes, 0)),
  });
  readonly upstream = new Counter({
    name: 'pawket_upstream_requests_total',
    help: 'Requests to upstream feeds by upstream and outcome',
    labelNames: ['upstream', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pawket_' });
  }
}

/** Counts every request (by route pattern, never by raw URL: bounded label values); `serve`: and serves `/metrics`. */
export function metricsRoutes(app: FastifyInstance, metrics: Metrics, serve = true): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });
  if (!serve) return;
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(await metrics.registry.metrics()),
  );
}
