/**
 * The pieces of search on their own: tokenizing, the query language, typo distance, id matching, the in-memory
 * index over a fake database (paged loading, changes during the load, refreshes), and the download counter.
 */
import { describe, expect, it, vi } from 'vitest';
import type { DownloadCount, PackageRecord } from '../../../src/db/database.js';
import { FeedEvents } from '../../../src/feed/events.js';
import { DownloadCounter } from '../../../src/feed/search/download-counter.js';
import { editDistanceWithin } from '../../../src/feed/search/fuzzy.js';
import { MemorySearchIndex, SCORE, matchId, topK, type SearchSource } from '../../../src/feed/search/memory-index.js';
import { parseQuery } from '../../../src/feed/search/query.js';
import { containsPhrase, idShape, textWords } from '../../../src/feed/search/tokenize.js';
import { fullVersion, isPrerelease, isSemVer2, lowerNormalizedVersion, normalizeVersion, versionOf } from '../../../src/nuget/version.js';
import { lowerId } from '../../../src/nuget/id.js';

describe('tokenize', () => {
  it('splits ids on separators, camel case and digits, lower-cased', () => {
    expect(idShape('Newtonsoft.Json').words).toEqual(['newtonsoft', 'json']);
    expect(idShape('Contoso.Data.SqlClient').words).toEqual(['contoso', 'data', 'sql', 'client']);
    expect(idShape('SQLClient').words).toEqual(['sql', 'client']);
    expect(idShape('Log4Net').words).toEqual(['log', '4', 'net']);
    expect(idShape('dotnet-ef').words).toEqual(['dotnet', 'ef']);
    expect(idShape('my_lib.Ünïcode').words).toEqual(['my', 'lib', 'ünïcode']);
    expect(idShape('Newtonsoft.Json').compact).toBe('newtonsoftjson');
  });

  it('splits text into folded words without stop words, keeping camel-cased words whole too', () => {
    expect(textWords('The fast JsonConvert serializers for .NET')).toEqual(['fast', 'jsonconvert', 'json', 'convert', 'serializer', 'net']);
    expect(textWords('class bus status')).toEqual(['class', 'bus', 'status']);
  });

  it('finds phrases', () => {
    expect(containsPhrase('Simple dependency injection container', ['dependency', 'injection'])).toBe(true);
    expect(containsPhrase('injection of dependency', ['dependency', 'injection'])).toBe(false);
  });
});

describe('parseQuery', () => {
  it('reads free terms, fields (case-insensitive, with aliases) and quoted phrases', () => {
    const q = parseQuery('json  Tags:"web api" author:bob "dependency injection" packageid:Foo.Bar owners:x tag:y');
    expect(q.free).toEqual([
      { text: 'json', quoted: false },
      { text: 'dependency injection', quoted: true },
    ]);
    expect(Object.fromEntries(q.fields)).toEqual({
      tags: [
        { text: 'web api', quoted: true },
        { text: 'y', quoted: false },
      ],
      author: [{ text: 'bob', quoted: false }],
      packageid: [{ text: 'Foo.Bar', quoted: false }],
      owner: [{ text: 'x', quoted: false }],
    });
  });

  it('keeps unknown fields as free text, takes the next word after a bare field, survives an open quote', () => {
    expect(parseQuery('http://example.com').free).toEqual([{ text: 'http://example.com', quoted: false }]);
    expect(Object.fromEntries(parseQuery('id: json').fields)).toEqual({ id: [{ text: 'json', quoted: false }] });
    expect(parseQuery('"unterminated phrase').free).toEqual([{ text: 'unterminated phrase', quoted: true }]);
    expect(parseQuery('   ').free).toEqual([]);
  });

  it('bounds the number and size of terms', () => {
    expect(parseQuery(Array.from({ length: 100 }, (_, i) => `t${i}`).join(' ')).free).toHaveLength(32);
    expect(parseQuery('x'.repeat(5000)).free[0]!.text).toHaveLength(256);
  });
});

describe('editDistanceWithin', () => {
  it('counts insertions, deletions, substitutions and transpositions, up to a bound', () => {
    expect(editDistanceWithin('serilog', 'serilog', 1)).toBe(0);
    expect(editDistanceWithin('serilgo', 'serilog', 1)).toBe(1);
    expect(editDistanceWithin('serlog', 'serilog', 1)).toBe(1);
    expect(editDistanceWithin('newtonsoft', 'newtonsfot', 2)).toBe(1);
    expect(editDistanceWithin('abcdef', 'ghijkl', 2)).toBe(3);
    expect(editDistanceWithin('a', 'abcdef', 2)).toBe(3);
  });
});

describe('matchId', () => {
  const m = (term: string, id: string) => matchId(idShape(term), idShape(id), true);
  it('ranks exact > without separators > consecutive words > prefixes > all words > substring', () => {
    expect(m('newtonsoft.json', 'Newtonsoft.Json')).toBe(SCORE.exactId);
    expect(m('NewtonsoftJson', 'Newtonsoft.Json')).toBe(SCORE.compactId);
    expect(m('json', 'Newtonsoft.Json')).toBe(SCORE.idWords);
    expect(m('sinks.console', 'Serilog.Sinks.Console')).toBe(SCORE.idWords);
    expect(m('sqlclient', 'Contoso.Data.SqlClient')).toBe(SCORE.idWords);
    expect(m('newton', 'Newtonsoft.Json')).toBe(SCORE.idPrefix);
    expect(m('sinks.cons', 'Serilog.Sinks.Console')).toBe(SCORE.idPrefix);
    expect(m('console serilog', 'Serilog.Sinks.Console')).toBe(SCORE.idAllWords);
    expect(m('soft', 'Newtonsoft.Json')).toBe(SCORE.idSubstring);
    expect(m('xml', 'Newtonsoft.Json')).toBe(0);
  });
});

describe('topK', () => {
  it('returns the first k in order without sorting everything', () => {
    const items = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000);
    expect(topK(items, 5, (a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(topK(items, 0, (a, b) => a - b)).toEqual([]);
    expect(topK([3, 1, 2], 10, (a, b) => a - b)).toEqual([1, 2, 3]);
  });
});

function record(id: string, version: string, opts: { listed?: boolean; description?: string; tags?: string[] } = {}): PackageRecord {
  const v = versionOf(version);
  return {
    id,
    lowerId: lowerId(id),
    version: normalizeVersion(v),
    lowerVersion: lowerNormalizedVersion(v),
    fullVersion: fullVersion(v),
    originalVersion: version,
    isPrerelease: isPrerelease(v),
    isSemVer2: isSemVer2(v),
    listed: opts.listed ?? true,
    published: '2024-01-01T00:00:00.000Z',
    size: 1,
    sha512: 'x',
    blobKey: `k/${id}/${version}`,
    metadata: JSON.stringify({
      id,
      version: fullVersion(v),
      title: null,
      authors: 'Someone',
      owners: null,
      description: opts.description ?? `Package ${id}`,
      summary: null,
      tags: opts.tags ?? [],
      projectUrl: null,
      iconUrl: null,
      licenseUrl: null,
      license: null,
      packageTypes: [],
    }),
  };
}

/** A database stand-in: rows in memory, ordered as scanByIdentity orders them. */
class FakeSource implements SearchSource {
  rows: PackageRecord[] = [];
  counts: DownloadCount[] = [];
  /** Called before each page is answered (to change things during a load). */
  beforePage: (() => void) | undefined;
  pages = 0;

  async scanByIdentity(after: { lowerId: string; lowerVersion: string } | null, limit: number): Promise<PackageRecord[]> {
    this.pages++;
    this.beforePage?.();
    const key = (r: { lowerId: string; lowerVersion: string }) => `${r.lowerId}\u0000${r.lowerVersion}`;
    return [...this.rows]
      .sort((a, b) => (key(a) < key(b) ? -1 : 1))
      .filter((r) => after === null || key(r) > key(after))
      .slice(0, limit);
  }
  async listVersions(id: string): Promise<PackageRecord[]> {
    return this.rows.filter((r) => r.lowerId === id);
  }
  async listDownloadCounts(id?: string): Promise<DownloadCount[]> {
    return this.counts.filter((c) => id === undefined || c.lowerId === id);
  }
  async getPackage(id: string, version: string): Promise<PackageRecord | null> {
    return this.rows.find((r) => r.lowerId === id && r.lowerVersion === version) ?? null;
  }
}

const anyFilter = { prerelease: true, semVer2: true, packageType: null, skip: 0, take: 100 };

describe('MemorySearchIndex', () => {
  it('loads in pages even when a page boundary falls inside an id', async () => {
    const source = new FakeSource();
    for (const id of ['A.One', 'B.Two', 'C.Three']) for (const v of ['1.0.0', '1.1.0', '2.0.0']) source.rows.push(record(id, v));
    source.counts.push({ lowerId: 'b.two', lowerVersion: '1.1.0', count: 5 });
    const index = new MemorySearchIndex(source, new FeedEvents(), { loadPageSize: 2 });
    const all = await index.search({ ...anyFilter, query: '' });
    expect(source.pages).toBe(5);
    expect(all.packages.map((p) => [p.id, p.version, p.versions.length, p.totalDownloads])).toEqual([
      ['B.Two', '2.0.0', 3, 5],
      ['A.One', '2.0.0', 3, 0],
      ['C.Three', '2.0.0', 3, 0],
    ]);
    await index.close();
  });

  it('applies changes announced during the load, and waits for refreshes before answering', async () => {
    const source = new FakeSource();
    const events = new FeedEvents();
    source.rows.push(record('Alpha', '1.0.0'), record('Beta', '1.0.0'));
    source.beforePage = () => {
      // a push and an unlist land while the index reads its first page
      source.rows.push(record('Gamma', '1.0.0'));
      source.rows = source.rows.map((r) => (r.lowerId === 'alpha' ? { ...r, listed: false } : r));
      events.packageChanged('gamma');
      events.packageChanged('alpha');
      source.beforePage = undefined;
    };
    const index = new MemorySearchIndex(source, events);
    expect((await index.search({ ...anyFilter, query: '' })).packages.map((p) => p.id)).toEqual(['Beta', 'Gamma']);

    source.rows.push(record('Delta', '1.0.0', { tags: ['fresh'] }));
    events.packageChanged('delta');
    expect((await index.search({ ...anyFilter, query: 'fresh' })).packages.map((p) => p.id)).toEqual(['Delta']);
    await index.close();
  });

  it('refreshes again when a change arrives while the same id is being read', async () => {
    const source = new FakeSource();
    const events = new FeedEvents();
    const index = new MemorySearchIndex(source, events);
    await index.whenLoaded();
    source.rows.push(record('Racy', '1.0.0'));
    const read = source.listVersions.bind(source);
    let calls = 0;
    source.listVersions = async (id) => {
      const rows = await read(id);
      if (calls++ === 0) {
        // the second version commits after the first read
        source.rows.push(record('Racy', '2.0.0'));
        events.packageChanged('racy');
      }
      return rows;
    };
    events.packageChanged('racy');
    expect((await index.search({ ...anyFilter, query: 'racy' })).packages[0]?.version).toBe('2.0.0');
    expect(calls).toBe(2);
    await index.close();
  });

  it('reads only the versions a change names, and ends where a full read of the id would', async () => {
    const source = new FakeSource();
    const events = new FeedEvents();
    for (let k = 0; k < 300; k++) source.rows.push(record('Big', `1.${k}.0`, { description: `Big version ${k}` }));
    source.rows.push(record('Big', '2.0.0-beta.1'));
    source.counts.push({ lowerId: 'big', lowerVersion: '1.5.0', count: 7 });
    const index = new MemorySearchIndex(source, events);
    await index.whenLoaded();
    let wholeReads = 0;
    const read = source.listVersions.bind(source);
    source.listVersions = async (id) => (wholeReads++, read(id));
    const change = (version: string, apply: () => void) => {
      apply();
      events.packageChanged('big', false, [version]);
    };
    // A push of a new latest, an unlist of it (the previous latest shows again), a delete, a relist.
    change('3.0.0', () => source.rows.push(record('Big', '3.0.0', { tags: ['newest'] })));
    change('3.0.0', () => (source.rows = source.rows.map((r) => (r.lowerVersion === '3.0.0' ? { ...r, listed: false } : r))));
    change('1.5.0', () => (source.rows = source.rows.filter((r) => r.lowerVersion !== '1.5.0')));
    change('1.7.0', () => (source.rows = source.rows.map((r) => (r.lowerVersion === '1.7.0' ? { ...r, listed: false } : r))));
    change('1.7.0', () => (source.rows = source.rows.map((r) => (r.lowerVersion === '1.7.0' ? { ...r, listed: true } : r))));
    const stable = { ...anyFilter, prerelease: false, query: 'big' };
    const patched = [await index.search({ ...anyFilter, query: 'big' }), await index.search(stable), await index.search({ ...anyFilter, query: 'newest' })];
    expect(wholeReads).toBe(0);
    expect(patched[0]!.packages[0]).toMatchObject({ version: '2.0.0-beta.1', totalDownloads: 0 });
    expect(patched[1]!.packages[0]).toMatchObject({ version: '1.299.0', description: 'Big version 299' });
    expect(patched[2]!.totalHits).toBe(0);

    const fresh = new MemorySearchIndex(source, new FeedEvents());
    source.counts = [];
    expect([await fresh.search({ ...anyFilter, query: 'big' }), await fresh.search(stable), await fresh.search({ ...anyFilter, query: 'newest' })]).toEqual(patched);
    await Promise.all([index.close(), fresh.close()]);
  });

  it('with deferLoad, reads nothing until started (a server starts it once listening) or a search needs it', async () => {
    const source = new FakeSource();
    source.rows.push(record('Deferred', '1.0.0'));
    const index = new MemorySearchIndex(source, new FeedEvents(), { deferLoad: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(source.pages).toBe(0);
    expect((await index.search({ ...anyFilter, query: 'deferred' })).packages.map((p) => p.id)).toEqual(['Deferred']);
    expect(source.pages).toBe(1);
    await index.close();
  });

  it('answers 503 when the first load takes too long, and retries a failed load', async () => {
    const source = new FakeSource();
    source.rows.push(record('Late', '1.0.0'));
    let failures = 1;
    const scan = source.scanByIdentity.bind(source);
    source.scanByIdentity = async (after, limit) => {
      if (failures-- > 0) throw new Error('database unavailable');
      return scan(after, limit);
    };
    const onError = vi.fn();
    const index = new MemorySearchIndex(source, new FeedEvents(), { readyTimeoutMs: 50, onError });
    await expect(index.search({ ...anyFilter, query: '' })).rejects.toMatchObject({ status: 503 });
    await index.whenLoaded();
    expect(onError).toHaveBeenCalledWith(expect.any(Error), 'loading the search index');
    expect((await index.search({ ...anyFilter, query: '' })).packages.map((p) => p.id)).toEqual(['Late']);
    await index.close();
  });

  it('re-reads all download counts on request (downloads counted by other nodes)', async () => {
    const source = new FakeSource();
    source.rows.push(record('Shared', '1.0.0'));
    const index = new MemorySearchIndex(source, new FeedEvents());
    await index.whenLoaded();
    source.counts.push({ lowerId: 'shared', lowerVersion: '1.0.0', count: 42 });
    await index.reloadCounts();
    expect((await index.search({ ...anyFilter, query: 'shared' })).packages[0]?.totalDownloads).toBe(42);
    await index.close();
  });
});

describe('DownloadCounter', () => {
  it('batches counts per version and keeps them when a write fails', async () => {
    const written: DownloadCount[][] = [];
    let fail = true;
    const onError = vi.fn();
    const counter = new DownloadCounter(
      {
        async addDownloadCounts(counts) {
          if (fail) throw new Error('read-only');
          written.push([...counts]);
        },
      },
      { onError },
    );
    counter.record('a', '1.0.0');
    counter.record('a', '1.0.0');
    counter.record('b', '2.0.0');
    await counter.flush();
    expect(onError).toHaveBeenCalledOnce();
    expect(counter.pendingVersions).toBe(2);
    counter.record('a', '1.0.0');
    fail = false;
    await counter.close();
    expect(written).toEqual([
      [
        { lowerId: 'a', lowerVersion: '1.0.0', count: 3 },
        { lowerId: 'b', lowerVersion: '2.0.0', count: 1 },
      ],
    ]);
  });

  it('flushes on its own once enough versions are waiting, and drops beyond its memory bound', async () => {
    const written: DownloadCount[] = [];
    const onError = vi.fn();
    let release: () => void = () => {};
    const blocked = new Promise<void>((r) => (release = r));
    const counter = new DownloadCounter(
      {
        async addDownloadCounts(counts) {
          await blocked;
          written.push(...counts);
        },
      },
      { flushAtVersions: 2, maxPendingVersions: 3, onError },
    );
    counter.record('a', '1');
    counter.record('b', '1'); // starts a flush (blocked)
    for (const v of ['1', '2', '3', '4']) counter.record('c', v); // 3 held, 1 dropped
    expect(counter.pendingVersions).toBe(3);
    release();
    await counter.close();
    expect(written.map((c) => `${c.lowerId}@${c.lowerVersion}`).sort()).toEqual(['a@1', 'b@1', 'c@1', 'c@2', 'c@3']);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringMatching(/^1 downloads were not counted/) }), 'counting downloads');
  });
});
