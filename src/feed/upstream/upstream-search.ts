import type { SearchFilter, SearchRequest } from '../search/search-index.js';
import type { UpstreamPage, UpstreamSearchHit } from './client.js';
import type { UpstreamAnswer } from './search-merge.js';
import type { UpstreamService } from './service.js';

/** What asking upstreams' search needs of UpstreamService: the upstreams, their id lists and the circuit breaker. */
export type UpstreamAsker = Pick<UpstreamService, 'urls' | 'allows' | 'ask'>;

export interface UpstreamSearchOptions {
  /** How long an upstream's answer is reused (ms); default 30 s. */
  readonly ttlMs?: number;
  /** Bound on the hits and ids kept in memory over all cached answers; default 10,000. */
  readonly maxItems?: number;
}

type Kind = 'search' | 'autocomplete';

/** Bound on cached answers, whatever their size. */
const MAX_ANSWERS = 1_000;

/**
 * Asks every upstream's SearchQueryService / SearchAutocompleteService at once, through the upstream circuit breaker
 * and its bounded timeouts; an upstream that is down, has no such service or answers garbage is left out. Answers
 * are kept briefly in memory (bounded), and concurrent identical questions share one request.
 */
export class UpstreamSearch {
  private readonly cache = new Map<string, { until: number; page: UpstreamPage<unknown> }>();
  private readonly inflight = new Map<string, Promise<UpstreamPage<unknown> | null>>();
  private cachedItems = 0;
  private readonly ttlMs: number;
  private readonly maxItems: number;

  constructor(
    private readonly upstreams: UpstreamAsker,
    options: UpstreamSearchOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxItems = options.maxItems ?? 10_000;
  }

  /** Each upstream's answer to a search, in the configured order. */
  search(request: SearchRequest): Promise<UpstreamAnswer<UpstreamSearchHit>[]> {
    return this.askAll(this.upstreams.urls, 'search', queryParams(request));
  }

  /** Each upstream's ids for an autocomplete text. */
  autocompleteIds(request: SearchRequest): Promise<UpstreamAnswer<string>[]> {
    return this.askAll(this.upstreams.urls, 'autocomplete', queryParams(request));
  }

  /** The versions of an id from each upstream that may be asked for it. */
  autocompleteVersions(id: string, filter: SearchFilter): Promise<UpstreamAnswer<string>[]> {
    const params = new URLSearchParams({ id, prerelease: String(filter.prerelease) });
    if (filter.semVer2) params.set('semVerLevel', '2.0.0');
    return this.askAll(this.upstreams.urls.filter((url) => this.upstreams.allows(url, id)), 'autocomplete', params);
  }

  private async askAll<T>(urls: readonly string[], kind: Kind, params: URLSearchParams): Promise<UpstreamAnswer<T>[]> {
    const pages = await Promise.all(urls.map((url) => this.askOne(url, kind, params)));
    return pages.flatMap((page, i) => (page ? [{ upstream: urls[i]!, totalHits: page.totalHits, items: page.data as T[] }] : []));
  }

  private askOne(url: string, kind: Kind, params: URLSearchParams): Promise<UpstreamPage<unknown> | null> {
    const key = `${kind} ${url} ${params}`;
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return Promise.resolve(cached.page);
    const running = this.inflight.get(key);
    if (running) return running;
    const started = this.upstreams
      .ask<UpstreamPage<unknown> | null>(url, (client) => (kind === 'search' ? client.search(params) : client.autocomplete(params)))
      .then((page) => {
        if (page) this.remember(key, page);
        return page;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, started);
    return started;
  }

  private remember(key: string, page: UpstreamPage<unknown>): void {
    this.forget(key);
    if (page.data.length > this.maxItems) return;
    this.cache.set(key, { until: Date.now() + this.ttlMs, page });
    this.cachedItems += page.data.length;
    // Oldest first; an expired answer is as good as gone.
    while (this.cachedItems > this.maxItems || this.cache.size > MAX_ANSWERS) this.forget(this.cache.keys().next().value!);
  }

  private forget(key: string): void {
    const entry = this.cache.get(key);
    if (!entry) return;
    this.cache.delete(key);
    this.cachedItems -= entry.page.data.length;
  }
}

/** The query an upstream is asked: the same filter; `skip` and `take` as the caller computed them. */
function queryParams(request: SearchRequest): URLSearchParams {
  const params = new URLSearchParams({
    q: request.query,
    skip: String(request.skip),
    take: String(request.take),
    prerelease: String(request.prerelease),
  });
  if (request.semVer2) params.set('semVerLevel', '2.0.0');
  if (request.packageType) params.set('packageType', request.packageType);
  return params;
}
