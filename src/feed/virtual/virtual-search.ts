import { isValidPackageId, lowerId as toLowerId } from '../../nuget/id.js';
import type { AutocompleteResults, SearchFilter, SearchIndex, SearchRequest, SearchResults } from '../search/search-index.js';
import type { LocalSearch } from '../upstream/merged-search.js';

/** One member's search, as its own routes answer it. */
export interface MemberSearch {
  /** What the member's search answers (with `upstreamSearch: merged`, its upstreams' hits too). */
  readonly index: SearchIndex;
  /** The member's own packages: whether it has an id decides that later members' hits of it are not shown. */
  readonly local: LocalSearch;
  /** Whether search marks the id as verified in the member (its reserved prefix, owned by the prefix's owner). */
  isVerifiedId(lowerId: string): boolean;
  /** Which of these ids the member owns (registered there, with or without versions now). */
  owns(lowerIds: readonly string[]): Promise<Set<string>>;
}

interface Page<T> {
  readonly totalHits: number;
  readonly items: readonly T[];
}

/**
 * Search on a virtual feed (docs/FEEDS.md): the members' results in member order, an id shown from the first member
 * that has it (as restore serves it): a later member's hit of an id an earlier member has or owns is left out, even
 * when the earlier member's version did not match the query. Each member is asked for the merged positions still to
 * fill, so a page costs each member what the same depth costs on the member itself, plus a query per earlier member
 * for the ownership of the hits on the page.
 */
export class VirtualSearchIndex implements SearchIndex {
  private latest: readonly MemberSearch[] = [];

  constructor(private readonly members: () => Promise<readonly MemberSearch[]>) {}

  async search(request: SearchRequest): Promise<SearchResults> {
    const page = await this.merge(request.skip, request.take, async (m, take) => {
      const r = await m.index.search({ ...request, skip: 0, take });
      return { totalHits: r.totalHits, items: r.packages };
    }, (p) => p.id);
    return { totalHits: page.totalHits, packages: page.items };
  }

  async autocompleteIds(request: SearchRequest): Promise<AutocompleteResults> {
    const page = await this.merge(request.skip, request.take, async (m, take) => {
      const r = await m.index.autocompleteIds({ ...request, skip: 0, take });
      return { totalHits: r.totalHits, items: r.ids };
    }, (id) => id);
    return { totalHits: page.totalHits, ids: page.items };
  }

  /**
   * The versions of the first member that has the id (or, for a member with merged upstream search, lists some); none
   * when a member before it owns the id.
   */
  async autocompleteVersions(id: string, filter: SearchFilter): Promise<string[]> {
    const trimmed = id.trim();
    if (!isValidPackageId(trimmed)) return [];
    const lowerId = toLowerId(trimmed);
    for (const m of await this.resolve()) {
      const versions = await m.index.autocompleteVersions(trimmed, filter);
      if (versions.length > 0 || m.local.has(lowerId)) return versions;
      if ((await m.owns([lowerId])).has(lowerId)) return [];
    }
    return [];
  }

  /** Whether search shows an id as verified: as the first member that has it says (from the last members resolved). */
  isVerifiedId(lowerId: string): boolean {
    return this.latest.find((m) => m.local.has(lowerId))?.isVerifiedId(lowerId) ?? false;
  }

  /** Downloads are counted in the member a package came from, whose own index takes them. */
  addDownloads(): void {}

  /** The members' indexes belong to their own feeds' apps. */
  async close(): Promise<void> {}

  private async resolve(): Promise<readonly MemberSearch[]> {
    this.latest = await this.members();
    return this.latest;
  }

  /**
   * One page of the merged list: every member's hits in order, leaving out ids seen in an earlier member or that an
   * earlier member has. `ask(member, take)` answers a member's first `take` hits. `totalHits` adds the members'
   * totals, less the hits seen to be left out.
   */
  private async merge<T>(
    skip: number,
    take: number,
    ask: (m: MemberSearch, take: number) => Promise<Page<T>>,
    idOf: (item: T) => string,
  ): Promise<Page<T>> {
    const members = await this.resolve();
    const need = skip + take;
    const kept: T[] = [];
    const seen = new Set<string>();
    let totalHits = 0;
    for (const [i, member] of members.entries()) {
      const earlier = members.slice(0, i);
      const lowerIdOf = (item: T) => toLowerId(idOf(item));
      const room = need - kept.length;
      const shown = async (items: readonly T[]) => {
        const candidates = items.filter((item) => !seen.has(lowerIdOf(item)) && !earlier.some((e) => e.local.has(lowerIdOf(item))));
        // Ownership is asked about the hits that land on the page only: an id owned without any version is rare, and
        // the positions before the page are not worth a query each.
        const onPage = candidates.slice(Math.max(0, skip - kept.length), room);
        if (onPage.length === 0 || earlier.length === 0) return candidates;
        const owned = new Set<string>();
        for (const e of earlier) for (const lowerId of await e.owns(onPage.map(lowerIdOf))) owned.add(lowerId);
        return owned.size ? candidates.filter((item) => !owned.has(lowerIdOf(item))) : candidates;
      };
      let asked = room;
      let page = await ask(member, asked);
      let fresh: T[] = [];
      let dropped = 0;
      for (;;) {
        fresh = await shown(page.items);
        dropped = page.items.length - fresh.length;
        // Enough kept, or the member has no more: else ask again, for at least as many more as were left out.
        if (fresh.length >= room || page.items.length < asked || page.items.length >= page.totalHits) break;
        asked = room + dropped;
        page = await ask(member, asked);
      }
      for (const item of fresh) seen.add(lowerIdOf(item));
      // One by one: V2 lists every id at once, more than a spread's arguments may be.
      for (const item of fresh.slice(0, room)) kept.push(item);
      totalHits += Math.max(fresh.length, page.totalHits - dropped);
    }
    return { totalHits, items: kept.slice(skip, need) };
  }
}
