import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** Upper bounds (seconds) of the request latency histogram's buckets. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10] as const;

/**
 * The requests of one route and method: plain numbers bumped per request (no label hashing, no allocation), turned
 * into Prometheus series only when scraped. prom-client's own counters validate and hash their labels on every call,
 * which cost a measurable share of a cached answer.
 */
export class RouteRequests {
  /** Requests per status code. */
  readonly statuses = new Map<number, number>();
  /** Requests per latency bucket (not cumulative), the last one beyond the largest bound. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(
    readonly route: string,
    readonly method: string,
  ) {}

  record(status: number, seconds: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** A Prometheus series as prom-client's registry prints it. */
interface SeriesValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** A metric the registry asks for its series at scrape time (prom-client's metric interface, as far as it uses it). */
function scrapedMetric(name: string, help: string, type: 'counter' | 'histogram', values: () => SeriesValue[]) {
  const get = async () => ({ name, help, type, values: values(), aggregator: 'sum' as const });
  return { name, help, type, aggregator: 'sum', get, getForPromString: get, reset() {} } as unknown as Metric;
}

/**
 * Prometheus metrics of one server: requests by route and status, latency, pushes, downloads, cache hits.
 * A registry per app (not prom-client's global one), so several apps in one process (tests) stay apart.
 * What is counted per request (requests, latency, cache lookups, downloads) is kept in plain numbers and handed to
 * the registry when it is scraped.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Per `method route`: route patterns only, never raw URLs, so the set stays small. */
  private readonly routes = new Map<string, RouteRequests>();
  /** Response cache lookups (see `cache`) and package downloads served, counted as they happen. */
  cacheHits = 0;
  cacheMisses = 0;
  downloadsServed = 0;

  readonly pushes = new Counter({
    name: 'pawket_pushes_total',
    help: 'Package pushes by outcome (created, replaced, or the HTTP status of a refusal)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly downloads: Counter = new Counter({
    name: 'pawket_package_downloads_total',
    help: 'Package (.nupkg) downloads served',
    registers: [this.registry],
    collect: (): void => {
      this.downloads.reset();
      this.downloads.inc(this.downloadsServed);
    },
  });
  readonly cache: Counter<'result'> = new Counter({
    name: 'pawket_response_cache_total',
    help: 'Rendered-document cache lookups by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
    collect: (): void => {
      this.cache.reset();
      this.cache.inc({ result: 'hit' }, this.cacheHits);
      this.cache.inc({ result: 'miss' }, this.cacheMisses);
    },
  });
  /** Where the response caches' sizes (one per feed served) are read from at scrape time. */
  readonly caches = new Set<{ readonly bytes: number }>();
  readonly cacheSize: Gauge = new Gauge({
    name: 'pawket_response_cache_bytes',
    help: 'Bytes the rendered-document cache holds (bounded by responseCacheSize)',
    registers: [this.registry],
    collect: (): void => this.cacheSize.set([...this.caches].reduce((sum, c) => sum + c.bytes, 0)),
  });
  /** Where the package bytes caches' sizes are read from at scrape time (one per process, shared by its feeds). */
  readonly packageBytes = new Set<{ readonly size: number }>();
  readonly packageBytesSize: Gauge = new Gauge({
    name: 'pawket_package_bytes_cache_bytes',
    help: 'Bytes of small package files kept in memory (bounded by packageBytesCacheSize)',
    registers: [this.registry],
    collect: (): void => this.packageBytesSize.set([...this.packageBytes].reduce((sum, c) => sum + c.size, 0)),
  });
  readonly upstream = new Counter({
    name: 'pawket_upstream_requests_total',
    help: 'Requests to upstream feeds by upstream and outcome',
    labelNames: ['upstream', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pawket_' });
    this.registry.registerMetric(
      scrapedMetric('pawket_http_requests_total', 'HTTP requests by route, method and status', 'counter', () =>
        [...this.routes.values()].flatMap(({ route, method, statuses }) =>
          [...statuses].map(([status, value]) => ({ labels: { route, method, status: String(status) }, value })),
        ),
      ),
    );
    const name = 'pawket_http_request_duration_seconds';
    this.registry.registerMetric(
      scrapedMetric(name, 'HTTP request latency by route', 'histogram', () =>
        [...this.routes.values()].flatMap(({ route, method, buckets, sum, count }): SeriesValue[] => {
          let cumulative = 0;
          return [
            ...LATENCY_BUCKETS.map((le, i) => ({ labels: { le, route, method }, value: (cumulative += buckets[i]!), metricName: `${name}_bucket` })),
            { labels: { le: '+Inf', route, method }, value: count, metricName: `${name}_bucket` },
            { labels: { route, method }, value: sum, metricName: `${name}_sum` },
            { labels: { route, method }, value: count, metricName: `${name}_count` },
          ];
        }),
      ),
    );
  }

  /** The counters of one route (a pattern, e.g. `/v3/flatcontainer/:id/index.json`) and method; keep it for the next request. */
  requestsOf(route: string, method: string): RouteRequests {
    const key = `${method} ${route}`;
    let found = this.routes.get(key);
    if (!found) this.routes.set(key, (found = new RouteRequests(route, method)));
    return found;
  }
}

/** Counts every request (by route pattern, never by raw URL: bounded label values); `serve`: and serves `/metrics`. */
export function metricsRoutes(app: FastifyInstance, metrics: Metrics, serve = true): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.requestsOf(request.routeOptions.url ?? 'unmatched', request.method).record(reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  if (!serve) return;
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(await metrics.registry.metrics()),
  );
}
