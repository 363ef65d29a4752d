import { describe, expect, it } from 'vitest';
import { mergePages, mergeVersionLists, toSearchResult } from '../../../src/feed/upstream/search-merge.js';

const id = (x: string) => x;
const keepAll = () => true;

describe('mergePages', () => {
  const local = (all: string[], skip: number, take: number) => ({ totalHits: all.length, items: all.slice(skip, skip + take) });
  const mine = ['Local.A', 'Local.B', 'Local.C'];

  it('puts local results first, then upstream hits, and adds the totals', () => {
    const page = mergePages(0, 10, local(mine, 0, 10), [{ upstream: 'u1', totalHits: 2, items: ['Up.A', 'Up.B'] }], id, keepAll);
    expect(page).toEqual({ totalHits: 5, items: ['Local.A', 'Local.B', 'Local.C', 'Up.A', 'Up.B'] });
  });

  it('pages across the boundary: each merged position exactly once', () => {
    const upstream = [{ upstream: 'u1', totalHits: 4, items: ['Up.A', 'Up.B', 'Up.C', 'Up.D'] }];
    const seen: string[] = [];
    for (let skip = 0; skip < 10; skip += 2) {
      // Each upstream is asked for its first skip + take hits.
      const window = [{ ...upstream[0]!, items: upstream[0]!.items.slice(0, skip + 2) }];
      const page = mergePages(skip, 2, local(mine, skip, 2), window, id, keepAll);
      expect(page.totalHits).toBe(7);
      seen.push(...page.items);
    }
    expect(seen).toEqual(['Local.A', 'Local.B', 'Local.C', 'Up.A', 'Up.B', 'Up.C', 'Up.D']);
  });

  it('drops refused ids and ids seen before (case-insensitive), first upstream wins, and counts them out of the total', () => {
    const page = mergePages(
      0,
      10,
      local(mine, 0, 10),
      [
        { upstream: 'u1', totalHits: 3, items: ['local.a', 'Shared.Id', 'Denied.X'] },
        { upstream: 'u2', totalHits: 2, items: ['SHARED.ID', 'Only.U2'] },
      ],
      id,
      (upstream, x) => x.toLowerCase() !== 'local.a' && !(upstream === 'u1' && x.startsWith('Denied')),
    );
    expect(page.items).toEqual(['Local.A', 'Local.B', 'Local.C', 'Shared.Id', 'Only.U2']);
    expect(page.totalHits).toBe(5);
  });

  it('never counts fewer hits than it can show, and never more than take', () => {
    const page = mergePages(0, 4, local(mine, 0, 4), [{ upstream: 'u1', totalHits: 0, items: ['Up.A', 'Up.B'] }], id, keepAll);
    expect(page.items).toEqual(['Local.A', 'Local.B', 'Local.C', 'Up.A']);
    expect(page.totalHits).toBe(5);
  });

  it('answers with local results alone when no upstream answered', () => {
    expect(mergePages(1, 1, local(mine, 1, 1), [], id, keepAll)).toEqual({ totalHits: 3, items: ['Local.B'] });
  });
});

describe('toSearchResult', () => {
  const hit = {
    id: 'Up.Lib',
    version: '2.0.0-beta.1',
    description: 'from upstream',
    tags: 'json fast',
    authors: ['Someone'],
    totalDownloads: 42,
    versions: [{ version: '1.0', downloads: 40 }, { version: '2.0.0-beta.1', downloads: 2 }, { version: 'garbage' }],
  };
  const both = { prerelease: true, semVer2: true };

  it('normalizes the hit and marks it with its upstream', () => {
    expect(toSearchResult('https://u/v3/index.json', hit, both)).toMatchObject({
      id: 'Up.Lib',
      lowerId: 'up.lib',
      version: '2.0.0-beta.1',
      lowerVersion: '2.0.0-beta.1',
      tags: ['json', 'fast'],
      authors: ['Someone'],
      packageTypes: ['Dependency'],
      totalDownloads: 42,
      versions: [
        { version: '1.0.0', lowerVersion: '1.0.0', downloads: 40 },
        { version: '2.0.0-beta.1', lowerVersion: '2.0.0-beta.1', downloads: 2 },
      ],
      mirroredFrom: 'https://u/v3/index.json',
    });
  });

  it('leaves out what the filter hides even when the upstream did not', () => {
    expect(toSearchResult('u', hit, { prerelease: false, semVer2: true })).toBeNull();
    expect(toSearchResult('u', hit, { prerelease: true, semVer2: false })).toBeNull();
    const stable = toSearchResult('u', { ...hit, version: '1.0.0' }, { prerelease: false, semVer2: true });
    expect(stable?.versions.map((v) => v.version)).toEqual(['1.0.0']);
  });

  it('rejects unusable ids and versions', () => {
    expect(toSearchResult('u', { ...hit, id: '../etc' }, both)).toBeNull();
    expect(toSearchResult('u', { ...hit, version: 'not.a.version.at.all' }, both)).toBeNull();
  });
});

describe('mergeVersionLists', () => {
  it('unions the upstreams in NuGet order, each version once, filtered', () => {
    const lists = [['1.0.0', '10.0.0', '2.0.0-alpha.10'], ['1.0', '2.0.0-alpha.9', 'nope', '3.0.0+meta']];
    expect(mergeVersionLists(lists, { prerelease: true, semVer2: true })).toEqual(['1.0.0', '2.0.0-alpha.9', '2.0.0-alpha.10', '3.0.0+meta', '10.0.0']);
    expect(mergeVersionLists(lists, { prerelease: false, semVer2: false })).toEqual(['1.0.0', '10.0.0']);
  });
});
