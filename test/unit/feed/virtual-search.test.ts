import { describe, expect, it } from 'vitest';
import type { SearchIndex, SearchRequest, SearchResultPackage } from '../../../src/feed/search/search-index.js';
import { VirtualSearchIndex, type MemberSearch } from '../../../src/feed/virtual/virtual-search.js';

/** A member whose search answers `hits` in this order, has `ids` (hits included) and owns `owned`. */
function member(hits: string[], more: { has?: string[]; owned?: string[] } = {}): MemberSearch & { asked: number } {
  const has = new Set([...hits, ...(more.has ?? [])].map((id) => id.toLowerCase()));
  const result = (id: string) => ({ id, lowerId: id.toLowerCase(), version: '1.0.0', versions: [] }) as unknown as SearchResultPackage;
  const m = {
    asked: 0,
    index: {
      search: async (r: SearchRequest) => {
        m.asked++;
        return { totalHits: hits.length, packages: hits.slice(r.skip, r.skip + r.take).map(result) };
      },
      autocompleteIds: async (r: SearchRequest) => ({ totalHits: hits.length, ids: hits.slice(r.skip, r.skip + r.take) }),
      autocompleteVersions: async (id: string) => (has.has(id.toLowerCase()) ? ['1.0.0'] : []),
      addDownloads: () => {},
      close: async () => {},
    } satisfies SearchIndex,
    local: {} as MemberSearch['local'],
    isVerifiedId: () => false,
    owns: async (lowerIds: readonly string[]) => new Set(lowerIds.filter((id) => (more.owned ?? []).includes(id))),
  };
  m.local = { ...m.index, has: (lowerId: string) => has.has(lowerId) };
  return m;
}

const request = (skip: number, take: number): SearchRequest => ({ query: '', skip, take, prerelease: true, semVer2: true, packageType: null });

describe('virtual feed search', () => {
  it('lists members in order, each id from the first member that has or owns it, the same across pages', async () => {
    const first = member(['A1', 'A2', 'Both'], { has: ['Quiet'], owned: ['owned'] });
    const second = member(['Both', 'B1', 'Quiet', 'Owned', 'B2']);
    const index = new VirtualSearchIndex(async () => [first, second]);
    const whole = await index.search(request(0, 50));
    expect(whole.packages.map((p) => p.id)).toEqual(['A1', 'A2', 'Both', 'B1', 'B2']);
    expect(whole.totalHits).toBe(5);
    const paged: string[] = [];
    for (let skip = 0; skip < 6; skip += 2) paged.push(...(await index.search(request(skip, 2))).packages.map((p) => p.id));
    expect(paged).toEqual(['A1', 'A2', 'Both', 'B1', 'B2']);
    expect((await index.autocompleteIds(request(1, 3))).ids).toEqual(['A2', 'Both', 'B1']);
  });

  it('asks a member again for as many more hits as it had to leave out', async () => {
    const first = member(['X1', 'X2', 'X3']);
    const second = member(['X1', 'X2', 'Y1', 'Y2', 'Y3']);
    const index = new VirtualSearchIndex(async () => [first, second]);
    expect((await index.search(request(3, 2))).packages.map((p) => p.id)).toEqual(['Y1', 'Y2']);
    expect(second.asked).toBe(2);
  });

  it('answers versions from the first member that has the id, none when an earlier member owns it', async () => {
    const index = new VirtualSearchIndex(async () => [member(['A'], { owned: ['owned'] }), member(['A', 'B', 'Owned'])]);
    const filter = { prerelease: true, semVer2: true, packageType: null };
    expect(await index.autocompleteVersions('b', filter)).toEqual(['1.0.0']);
    expect(await index.autocompleteVersions('owned', filter)).toEqual([]);
    expect(await index.autocompleteVersions('nobody', filter)).toEqual([]);
  });
});
