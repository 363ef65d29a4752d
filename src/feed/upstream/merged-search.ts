import { isValidPackageId, lowerId as toLowerId } from '../../nuget/id.js';
import type {
  AutocompleteResults,
  DownloadDelta,
  SearchFilter,
  SearchIndex,
  SearchRequest,
  SearchResultPackage,
  SearchResults,
} from '../search/search-index.js';
import { mergePages, mergeVersionLists, toSearchResult, type UpstreamAnswer } from './search-merge.js';
import { UpstreamSearch, type UpstreamAsker } from './upstream-search.js';

/** Upstream hits fill merged positions up to this one: nuget.org's largest `take`. */
export const MAX_UPSTREAM_WINDOW = 1_000;

/** The local index, and whether it has an id at all (listed or not). */
export type LocalSearch = SearchIndex & { has(lowerId: string): boolean };

/**
 * Search with `upstreamSearch: merged` (docs/UPSTREAMS.md): local results first, then the upstreams' hits for ids
 * this feed does not have and the upstream may show (allow/deny lists). Upstreams are asked for the first
 * `skip + take` hits (at most {@link MAX_UPSTREAM_WINDOW}) with the same filter; one that is down or answers garbage
 * is left out, so local results always answer.
 */
export class MergedSearchIndex implements SearchIndex {
  private readonly upstream: UpstreamSearch;

  constructor(
    private readonly local: LocalSearch,
    private readonly upstreams: UpstreamAsker,
    upstream?: UpstreamSearch,
  ) {
    this.upstream = upstream ?? new UpstreamSearch(upstreams);
  }

  async search(request: SearchRequest): Promise<SearchResults> {
    const window = { ...request, skip: 0, take: Math.min(MAX_UPSTREAM_WINDOW, request.skip + request.take) };
    const [local, answers] = await Promise.all([this.local.search(request), this.upstream.search(window)]);
    const converted = answers.map((a): UpstreamAnswer<SearchResultPackage> => {
      const items = a.items.flatMap((hit) => toSearchResult(a.upstream, hit, request) ?? []);
      return { upstream: a.upstream, totalHits: Math.max(0, a.totalHits - (a.items.length - items.length)), items };
    });
    const page = mergePages(request.skip, request.take, { totalHits: local.totalHits, items: [...local.packages] }, converted, (p) => p.id, this.keep);
    return { totalHits: page.totalHits, packages: page.items };
  }

  async autocompleteIds(request: SearchRequest): Promise<AutocompleteResults> {
    const window = { ...request, skip: 0, take: Math.min(MAX_UPSTREAM_WINDOW, request.skip + request.take) };
    const [local, answers] = await Promise.all([this.local.autocompleteIds(request), this.upstream.autocompleteIds(window)]);
    const valid = answers.map((a) => ({ ...a, items: a.items.filter((id) => isValidPackageId(id)) }));
    const page = mergePages(request.skip, request.take, { totalHits: local.totalHits, items: [...local.ids] }, valid, (id) => id, this.keep);
    return { totalHits: page.totalHits, ids: page.items };
  }

  /** An id this feed has answers from here only; an id it lacks from the upstreams that may be asked for it. */
  async autocompleteVersions(id: string, filter: SearchFilter): Promise<string[]> {
    const local = await this.local.autocompleteVersions(id, filter);
    const trimmed = id.trim();
    if (!isValidPackageId(trimmed) || this.local.has(toLowerId(trimmed))) return local;
    const answers = await this.upstream.autocompleteVersions(trimmed, filter);
    return mergeVersionLists(answers.map((a) => a.items), filter);
  }

  addDownloads(deltas: readonly DownloadDelta[]): void {
    this.local.addDownloads(deltas);
  }

  /** The local index belongs to the search service, which closes it. */
  async close(): Promise<void> {}

  /** An upstream hit is shown unless this feed has the id (its own versions win; blockShadowing too) or the upstream may not show it. */
  private readonly keep = (upstream: string, id: string): boolean => !this.local.has(toLowerId(id)) && this.upstreams.allows(upstream, id);
}
