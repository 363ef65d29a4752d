import type { DownloadCount, PackageDatabase, PackageRecord } from '../../db/database.js';
import { PawketError } from '../../errors.js';
import { lowerId as toLowerId } from '../../nuget/id.js';
import { compareVersions, lowerNormalizedVersion, parseVersion } from '../../nuget/version.js';
import type { FeedEvents } from '../events.js';
import type { StoredMetadata } from '../stored-metadata.js';
import { editDistanceWithin, typoBudget } from './fuzzy.js';
import { parseQuery, type ParsedQuery, type QueryField, type QueryTerm } from './query.js';
import type {
  AutocompleteResults,
  DownloadDelta,
  SearchFilter,
  SearchIndex,
  SearchRequest,
  SearchResultPackage,
  SearchResults,
} from './search-index.js';
import { containsPhrase, idShape, phraseWords, textWords, type IdShape } from './tokenize.js';

/** What the index reads from the database: the same calls on every backend. */
export type SearchSource = Pick<PackageDatabase, 'scanByIdentity' | 'listVersions' | 'listDownloadCounts'>;

export interface MemorySearchIndexOptions {
  /** Where background failures go (loading, refreshing an id). */
  readonly onError?: (err: unknown, what: string) => void;
  /** Re-read every download count this often, to pick up other nodes' downloads (ms; 0 = never). */
  readonly countsReloadMs?: number;
  /** How long a request waits for the first load before answering 503 (ms). */
  readonly readyTimeoutMs?: number;
  /** Rows per database read while loading. */
  readonly loadPageSize?: number;
}

/**
 * Scores: a term scores its best field; a document's score is the sum over terms. The gaps make the tiers the
 * ranking promises: whole-query id match, then id words and prefixes, then title, tags, authors and description;
 * equal scores are ordered by downloads.
 */
export const SCORE = {
  /** The whole free text is the id (case-insensitive). */
  wholeExact: 100_000,
  /** The whole free text is the id without separators and case (`NewtonsoftJson`, `newtonsoft json`). */
  wholeCompact: 90_000,
  exactId: 1000,
  compactId: 900,
  /** The term is one or more consecutive words of the id (`json`, `sinks.console`, `sqlclient`), or its start. */
  idWords: 500,
  /** The term starts one or more consecutive words of the id (`newton`, `consol`). */
  idPrefix: 400,
  /** All words of the term are words of the id, not in order. */
  idAllWords: 350,
  title: 300,
  tag: 250,
  author: 200,
  idSubstring: 150,
  summary: 120,
  description: 100,
  /** A correction of a mistyped term scores this share of what the term would. */
  typoFactor: 0.5,
} as const;

/** Memory bounds per search document: longer descriptions are shown and indexed up to here (nuget.org's limit). */
const MAX_DESCRIPTION = 4000;
const MAX_TEXT_KEYS = 400;
const LOAD_PAGE = 2000;
const MAX_TYPO_CORRECTIONS = 8;

/** One version of an id as search sees it. */
interface VersionInfo {
  readonly fullVersion: string;
  readonly lowerVersion: string;
  readonly isPrerelease: boolean;
  readonly isSemVer2: boolean;
  readonly listed: boolean;
  downloads: number;
}

/** The searchable metadata of one version: an id has up to four, the latest under each filter. */
interface Doc {
  readonly entry: Entry;
  readonly version: VersionInfo;
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly authors: readonly string[];
  readonly owners: readonly string[];
  readonly iconUrl: string | null;
  readonly licenseUrl: string | null;
  readonly licenseExpression: string | null;
  readonly projectUrl: string | null;
  readonly packageTypes: readonly string[];
  readonly packageTypeKeys: readonly string[];
  readonly titleWords: readonly string[];
  readonly tagWords: readonly string[];
  readonly authorWords: readonly string[];
  readonly ownerWords: readonly string[];
}

/** One package id: its versions and the document each filter shows. */
interface Entry {
  readonly lowerId: string;
  readonly shape: IdShape;
  readonly versions: readonly VersionInfo[];
  /** By {@link filterIndex}: the latest listed version's document, or null when the filter hides every version. */
  readonly views: readonly (Doc | null)[];
  readonly docs: readonly Doc[];
  totalDownloads: number;
}

interface Hit {
  readonly doc: Doc;
  readonly score: number;
}

/** 0..3: bit 0 = prerelease allowed, bit 1 = SemVer 2.0.0 allowed. */
function filterIndex(f: { prerelease: boolean; semVer2: boolean }): number {
  return (f.prerelease ? 1 : 0) | (f.semVer2 ? 2 : 0);
}

function allowed(v: VersionInfo, f: number): boolean {
  return v.listed && ((f & 1) !== 0 || !v.isPrerelease) && ((f & 2) !== 0 || !v.isSemVer2);
}

const splitList = (text: string | null | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const unique = <T>(items: Iterable<T>): T[] => [...new Set(items)];

/** Downloads first, then ids alphabetically: the order of browsing and of equal scores. */
function byPopularity(a: Doc, b: Doc): number {
  return b.entry.totalDownloads - a.entry.totalDownloads || (a.entry.lowerId < b.entry.lowerId ? -1 : a.entry.lowerId > b.entry.lowerId ? 1 : 0);
}

/** Score, then downloads, then the shorter id (fewer other words), then alphabetically. */
function byRelevance(a: Hit, b: Hit): number {
  return (
    b.score - a.score ||
    b.doc.entry.totalDownloads - a.doc.entry.totalDownloads ||
    a.doc.entry.lowerId.length - b.doc.entry.lowerId.length ||
    (a.doc.entry.lowerId < b.doc.entry.lowerId ? -1 : a.doc.entry.lowerId > b.doc.entry.lowerId ? 1 : 0)
  );
}

/** The first `k` items in `compare` order without sorting everything (most requests want 20 of thousands). */
export function topK<T>(items: readonly T[], k: number, compare: (a: T, b: T) => number): T[] {
  if (k <= 0) return [];
  if (items.length <= k * 4 || items.length <= 256) return [...items].sort(compare).slice(0, k);
  const best: T[] = [];
  for (const item of items) {
    if (best.length === k && compare(item, best[k - 1]!) >= 0) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(best[mid]!, item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, item);
    if (best.length > k) best.pop();
  }
  return best;
}

/** First index in a sorted array whose value is >= `value`. */
function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedInsert(sorted: string[], value: string): void {
  const at = lowerBound(sorted, value);
  if (sorted[at] !== value) sorted.splice(at, 0, value);
}

function sortedRemove(sorted: string[], value: string): void {
  const at = lowerBound(sorted, value);
  if (sorted[at] === value) sorted.splice(at, 1);
}

/**
 * How well a term matches an id, 0 for not at all: exact, without separators, consecutive words, the start of
 * consecutive words, all words in any order, or (when allowed) a substring.
 */
export function matchId(term: IdShape, id: IdShape, allowSubstring: boolean): number {
  const t = term.compact;
  if (t.length === 0) return 0;
  if (id.lower === term.lower) return SCORE.exactId;
  if (id.compact === t) return SCORE.compactId;
  const words = id.words;
  let best = 0;
  for (let i = 0; i < words.length && best < SCORE.idWords; i++) {
    let pos = 0;
    for (let j = i; j < words.length; j++) {
      const w = words[j]!;
      if (t.startsWith(w, pos)) {
        pos += w.length;
        if (pos === t.length) {
          best = SCORE.idWords;
          break;
        }
        continue;
      }
      if (w.startsWith(t.slice(pos))) best = Math.max(best, SCORE.idPrefix);
      break;
    }
  }
  if (best > 0) return best;
  if (term.words.length > 1 && term.words.every((w) => words.includes(w))) return SCORE.idAllWords;
  if (allowSubstring && t.length >= 3 && id.compact.includes(t)) return SCORE.idSubstring;
  return 0;
}

/**
 * The in-memory search index: every id's versions and up to four search documents (the latest listed version for
 * each combination of `prerelease` and SemVer 2.0.0), with inverted indexes over id words and text words.
 *
 * Loaded from the database at start-up, in pages, and refreshed one id at a time from the database whenever the feed
 * announces a change of that id (local or, through the change watcher, from another node). A request first waits for
 * the refreshes already announced, so a client sees its own push, unlist or delete in the next search.
 */
export class MemorySearchIndex implements SearchIndex {
  private readonly entries = new Map<string, Entry>();
  /** Every lower-case id, sorted: id prefixes are ranges. */
  private readonly sortedIds: string[] = [];
  /** Id words → ids; and the words sorted, for word prefixes. */
  private readonly wordPostings = new Map<string, Set<Entry>>();
  private readonly sortedWords: string[] = [];
  /** Ids without separators → ids (`newtonsoftjson`). */
  private readonly compactIds = new Map<string, Set<Entry>>();
  /** Text words (title, tags, authors, owners, summary, description) → documents. */
  private readonly textPostings = new Map<string, Set<Doc>>();

  /** Bumped on every change; caches below are valid for one generation. */
  private generation = 0;
  private browseCache: { generation: number; lists: (Doc[] | undefined)[] } = { generation: -1, lists: [] };

  private readonly refreshing = new Map<string, { again: boolean; done: Promise<void> }>();
  private changedWhileLoading: Set<string> | null = new Set();
  private loaded = false;
  private readonly loading: Promise<void>;
  private countsTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly source: SearchSource,
    events: FeedEvents,
    private readonly options: MemorySearchIndexOptions = {},
  ) {
    events.onPackageChanged((lowerId) => this.changed(lowerId));
    this.loading = this.loadUntilDone();
    if (options.countsReloadMs) {
      this.countsTimer = setInterval(() => void this.reloadCounts().catch((e) => this.report(e, 'reloading download counts')), options.countsReloadMs);
      this.countsTimer.unref();
    }
  }

  /** Resolves once the first load finished (with every change announced during it applied). */
  whenLoaded(): Promise<void> {
    return this.loading;
  }

  /** Number of ids and documents held, for diagnostics and benchmarks. */
  stats(): { ids: number; documents: number; idWords: number; textWords: number } {
    let documents = 0;
    for (const e of this.entries.values()) documents += e.docs.length;
    return { ids: this.entries.size, documents, idWords: this.wordPostings.size, textWords: this.textPostings.size };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Queries

  async search(request: SearchRequest): Promise<SearchResults> {
    await this.settle();
    const f = filterIndex(request);
    const typeKey = request.packageType ? toLowerId(request.packageType) : null;
    const query = parseQuery(request.query);
    const need = request.skip + request.take;

    if (query.free.length === 0 && query.fields.size === 0) {
      const all = this.browse(f, typeKey);
      return { totalHits: all.length, packages: all.slice(request.skip, need).map((d) => this.result(d, f)) };
    }

    let scores = this.evaluate(query, f, false);
    if (scores.size === 0 && query.free.length > 0) scores = this.evaluate(query, f, true);
    const hits: Hit[] = [];
    for (const [doc, score] of scores) if (typeKey === null || doc.packageTypeKeys.includes(typeKey)) hits.push({ doc, score });
    const page = topK(hits, need, byRelevance).slice(request.skip);
    return { totalHits: hits.length, packages: page.map((h) => this.result(h.doc, f)) };
  }

  async autocompleteIds(request: SearchRequest): Promise<AutocompleteResults> {
    await this.settle();
    const f = filterIndex(request);
    const typeKey = request.packageType ? toLowerId(request.packageType) : null;
    const need = request.skip + request.take;
    const q = request.query.trim();
    if (q.length === 0) {
      const all = this.browse(f, typeKey);
      return { totalHits: all.length, ids: all.slice(request.skip, need).map((d) => d.id) };
    }
    const visible = (e: Entry): Doc | null => {
      const doc = e.views[f] ?? null;
      return doc && (typeKey === null || doc.packageTypeKeys.includes(typeKey)) ? doc : null;
    };
    // Ids starting with the text first, then ids with words starting with it.
    const lower = toLowerId(q);
    const prefixed: Doc[] = [];
    const seen = new Set<Entry>();
    for (let i = lowerBound(this.sortedIds, lower); i < this.sortedIds.length && this.sortedIds[i]!.startsWith(lower); i++) {
      const entry = this.entries.get(this.sortedIds[i]!)!;
      seen.add(entry);
      const doc = visible(entry);
      if (doc) prefixed.push(doc);
    }
    const shape = idShape(q);
    const worded: Doc[] = [];
    for (const entry of this.idCandidates(shape, false)) {
      if (seen.has(entry)) continue;
      seen.add(entry);
      const doc = visible(entry);
      if (doc && matchId(shape, entry.shape, false) >= SCORE.idPrefix) worded.push(doc);
    }
    const first = topK(prefixed, need, byPopularity);
    const rest = first.length < need ? topK(worded, need - first.length, byPopularity) : [];
    return {
      totalHits: prefixed.length + worded.length,
      ids: [...first, ...rest].slice(request.skip).map((d) => d.id),
    };
  }

  async autocompleteVersions(id: string, filter: SearchFilter): Promise<string[]> {
    await this.settle();
    const entry = this.entries.get(toLowerId(id.trim()));
    if (!entry) return [];
    const f = filterIndex(filter);
    return entry.versions.filter((v) => allowed(v, f)).map((v) => v.fullVersion);
  }

  addDownloads(deltas: readonly DownloadDelta[]): void {
    for (const d of deltas) {
      const entry = this.entries.get(d.lowerId);
      const version = entry?.versions.find((v) => v.lowerVersion === d.lowerVersion);
      if (!entry || !version) continue;
      version.downloads += d.count;
      entry.totalDownloads += d.count;
    }
    if (deltas.length > 0) this.generation++;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.countsTimer);
    await Promise.allSettled([this.loading, ...[...this.refreshing.values()].map((r) => r.done)]);
  }

  /** Every visible document of a filter, most downloaded first; cached until the next change. */
  private browse(f: number, typeKey: string | null): Doc[] {
    if (this.browseCache.generation !== this.generation) this.browseCache = { generation: this.generation, lists: [] };
    let list = this.browseCache.lists[f];
    if (!list) {
      list = [];
      for (const e of this.entries.values()) {
        const doc = e.views[f];
        if (doc) list.push(doc);
      }
      list.sort(byPopularity);
      this.browseCache.lists[f] = list;
    }
    return typeKey === null ? list : list.filter((d) => d.packageTypeKeys.includes(typeKey));
  }

  /** Scores every matching document of filter `f`; with `typos`, free terms that match nothing are corrected. */
  private evaluate(query: ParsedQuery, f: number, typos: boolean): Map<Doc, number> {
    let result: Map<Doc, number> | null = null;

    if (query.free.length > 0) {
      const maps = query.free.map((term) => {
        const exact = this.freeTermMatches(term, f);
        return exact.size === 0 && typos ? this.typoMatches(term, f) : exact;
      });
      if (typos && maps.every((m) => m.size === 0)) return new Map();
      // Documents matching every term, when there are any; otherwise those matching some.
      const smallest = maps.reduce((a, b) => (b.size < a.size ? b : a));
      const all = new Map<Doc, number>();
      for (const doc of smallest.keys()) {
        let sum = 0;
        let everywhere = true;
        for (const m of maps) {
          const s = m.get(doc);
          if (s === undefined) {
            everywhere = false;
            break;
          }
          sum += s;
        }
        if (everywhere) all.set(doc, sum);
      }
      if (all.size > 0) {
        result = all;
      } else {
        result = new Map();
        for (const m of maps) for (const [doc, s] of m) result.set(doc, (result.get(doc) ?? 0) + s);
      }
      this.addWholeQueryBonus(query.free, f, result);
    }

    for (const [field, terms] of query.fields) {
      const group = new Map<Doc, number>();
      for (const term of terms) {
        for (const [doc, s] of this.fieldTermMatches(field, term, f)) group.set(doc, Math.max(group.get(doc) ?? 0, s));
      }
      if (result === null) {
        result = group;
        continue;
      }
      const narrowed = new Map<Doc, number>();
      for (const [doc, s] of result) {
        const g = group.get(doc);
        if (g !== undefined) narrowed.set(doc, s + g);
      }
      result = narrowed;
    }
    return result ?? new Map();
  }

  /** The whole free text naming an id outright puts that id first. */
  private addWholeQueryBonus(free: readonly QueryTerm[], f: number, scores: Map<Doc, number>): void {
    const text = free.map((t) => t.text).join(' ');
    const exact = free.length === 1 ? this.entries.get(toLowerId(text.trim()))?.views[f] : undefined;
    if (exact) scores.set(exact, (scores.get(exact) ?? 0) + SCORE.wholeExact);
    const compact = idShape(text).compact;
    for (const entry of this.compactIds.get(compact) ?? []) {
      const doc = entry.views[f];
      if (doc && doc !== exact) scores.set(doc, (scores.get(doc) ?? 0) + SCORE.wholeCompact);
    }
  }

  /** A free term: its best of the id match and the text match, per document. */
  private freeTermMatches(term: QueryTerm, f: number): Map<Doc, number> {
    const out = this.idMatches(term.text, f, true);
    for (const [doc, s] of this.textMatches(term, f, 'any')) if (s > (out.get(doc) ?? 0)) out.set(doc, s);
    return out;
  }

  private fieldTermMatches(field: QueryField, term: QueryTerm, f: number): Map<Doc, number> {
    switch (field) {
      case 'id':
        return this.idMatches(term.text, f, true);
      case 'packageid': {
        const doc = this.entries.get(toLowerId(term.text))?.views[f];
        return new Map(doc ? [[doc, SCORE.exactId]] : []);
      }
      case 'version': {
        const parsed = parseVersion(term.text);
        const out = new Map<Doc, number>();
        if (!parsed) return out;
        const wanted = lowerNormalizedVersion(parsed);
        for (const e of this.entries.values()) {
          const doc = e.views[f];
          if (doc && doc.version.lowerVersion === wanted) out.set(doc, 1);
        }
        return out;
      }
      default:
        return this.textMatches(term, f, field);
    }
  }

  /** Ids that may match a term: a word of theirs starts the term, or starts with the term; plus substrings. */
  private idCandidates(term: IdShape, substrings: boolean): Set<Entry> {
    const t = term.compact;
    const out = new Set<Entry>();
    if (t.length === 0) return out;
    const add = (set: Set<Entry> | undefined) => set?.forEach((e) => out.add(e));
    add(this.compactIds.get(t));
    const exact = this.entries.get(term.lower);
    if (exact) out.add(exact);
    for (let k = 1; k < t.length; k++) add(this.wordPostings.get(t.slice(0, k)));
    for (let i = lowerBound(this.sortedWords, t); i < this.sortedWords.length && this.sortedWords[i]!.startsWith(t); i++) {
      add(this.wordPostings.get(this.sortedWords[i]!));
    }
    if (substrings && t.length >= 3) {
      for (const e of this.entries.values()) if (e.shape.compact.includes(t)) out.add(e);
    }
    return out;
  }

  private idMatches(text: string, f: number, substrings: boolean): Map<Doc, number> {
    const shape = idShape(text);
    const out = new Map<Doc, number>();
    for (const entry of this.idCandidates(shape, substrings)) {
      const doc = entry.views[f];
      if (!doc) continue;
      const s = matchId(shape, entry.shape, substrings);
      if (s > 0) out.set(doc, s);
    }
    return out;
  }

  /** Documents whose text has all words of the term (as a phrase when quoted), scored by the best field. */
  private textMatches(term: QueryTerm, f: number, field: QueryField | 'any'): Map<Doc, number> {
    const out = new Map<Doc, number>();
    const phrase = phraseWords(term.text);
    const keys = unique(phrase);
    if (keys.length === 0) return out;
    const lists = keys.map((k) => this.textPostings.get(k));
    if (lists.some((l) => l === undefined)) return out;
    const sets = (lists as Set<Doc>[]).sort((a, b) => a.size - b.size);
    const asPhrase = term.quoted && phrase.length > 1;
    const hasAll = (words: readonly string[]) => keys.every((k) => words.includes(k));
    candidates: for (const doc of sets[0]!) {
      if (doc.entry.views[f] !== doc) continue;
      for (let i = 1; i < sets.length; i++) if (!sets[i]!.has(doc)) continue candidates;
      const score = scoreText(doc, field, keys, asPhrase ? phrase : null, hasAll);
      if (score > 0) out.set(doc, score);
    }
    return out;
  }

  /** Corrections of a mistyped term: id words, ids and text words within its typo budget, nearest first. */
  private typoMatches(term: QueryTerm, f: number): Map<Doc, number> {
    const out = new Map<Doc, number>();
    const shape = idShape(term.text);
    const t = shape.compact;
    const budget = typoBudget(t.length);
    if (budget === 0 || term.quoted) return out;
    const found: { word: string; distance: number }[] = [];
    const consider = (word: string) => {
      if (Math.abs(word.length - t.length) > budget) return;
      const distance = editDistanceWithin(t, word, budget);
      if (distance <= budget) found.push({ word, distance });
    };
    for (const w of this.wordPostings.keys()) consider(w);
    for (const c of this.compactIds.keys()) consider(c);
    for (const w of this.textPostings.keys()) consider(w);
    found.sort((a, b) => a.distance - b.distance || (a.word < b.word ? -1 : 1));
    for (const { word } of found.slice(0, MAX_TYPO_CORRECTIONS)) {
      const corrected: QueryTerm = { text: word, quoted: false };
      for (const [doc, s] of this.idMatches(word, f, false)) out.set(doc, Math.max(out.get(doc) ?? 0, s * SCORE.typoFactor));
      for (const [doc, s] of this.textMatches(corrected, f, 'any')) out.set(doc, Math.max(out.get(doc) ?? 0, s * SCORE.typoFactor));
    }
    return out;
  }

  private result(doc: Doc, f: number): SearchResultPackage {
    const e = doc.entry;
    return {
      id: doc.id,
      lowerId: e.lowerId,
      version: doc.version.fullVersion,
      lowerVersion: doc.version.lowerVersion,
      title: doc.title,
      description: doc.description,
      summary: doc.summary,
      tags: doc.tags,
      authors: doc.authors,
      owners: doc.owners,
      iconUrl: doc.iconUrl,
      licenseUrl: doc.licenseUrl,
      licenseExpression: doc.licenseExpression,
      projectUrl: doc.projectUrl,
      packageTypes: doc.packageTypes,
      totalDownloads: e.totalDownloads,
      versions: e.versions
        .filter((v) => allowed(v, f))
        .map((v) => ({ version: v.fullVersion, lowerVersion: v.lowerVersion, downloads: v.downloads })),
    };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Keeping the index in step with the database

  /** Waits for the first load and for every refresh announced so far. */
  private async settle(): Promise<void> {
    if (!this.loaded) {
      const timeout = this.options.readyTimeoutMs ?? 15_000;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeout)));
      const outcome = await Promise.race([this.loading.then(() => 'ready' as const), late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        throw new PawketError(503, 'The search index is still loading; try again in a few seconds.', { 'retry-after': '5' });
      }
    }
    if (this.refreshing.size > 0) await Promise.all([...this.refreshing.values()].map((r) => r.done));
  }

  private changed(lowerId: string): void {
    if (this.closed) return;
    if (this.changedWhileLoading) this.changedWhileLoading.add(lowerId);
    else void this.refresh(lowerId);
  }

  /**
   * Re-reads one id from the database. A change announced while a refresh of the same id runs makes it run again, so
   * the promise resolves only once the index holds a state read after the last announced change.
   */
  refresh(lowerId: string): Promise<void> {
    const running = this.refreshing.get(lowerId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          const [records, counts] = await Promise.all([this.source.listVersions(lowerId), this.source.listDownloadCounts(lowerId)]);
          if (this.closed) return;
          this.replace(lowerId, buildEntry(records, countsOf(counts)));
        } while (state.again);
      } catch (err) {
        this.report(err, `refreshing ${lowerId}`);
        // The database may be back soon; a stale id must not stay stale.
        setTimeout(() => this.changed(lowerId), 1000).unref();
      } finally {
        this.refreshing.delete(lowerId);
      }
    })();
    this.refreshing.set(lowerId, state);
    return state.done;
  }

  private async loadUntilDone(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.load();
        return;
      } catch (err) {
        this.report(err, 'loading the search index');
        for (const e of [...this.entries.values()]) this.remove(e);
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)).unref());
      }
    }
  }

  private async load(): Promise<void> {
    const counts = new Map<string, Map<string, number>>();
    for (const c of await this.source.listDownloadCounts()) {
      let perId = counts.get(c.lowerId);
      if (!perId) counts.set(c.lowerId, (perId = new Map()));
      perId.set(c.lowerVersion, c.count);
    }
    const pageSize = this.options.loadPageSize ?? LOAD_PAGE;
    let after: { lowerId: string; lowerVersion: string } | null = null;
    let group: PackageRecord[] = [];
    const flush = () => {
      if (group.length === 0) return;
      const lowerId = group[0]!.lowerId;
      this.replace(lowerId, buildEntry(group, counts.get(lowerId) ?? new Map()));
      group = [];
    };
    for (;;) {
      const page = await this.source.scanByIdentity(after, pageSize);
      if (this.closed) return;
      for (const record of page) {
        if (group.length > 0 && group[0]!.lowerId !== record.lowerId) flush();
        group.push(record);
      }
      if (page.length < pageSize) break;
      const last = page.at(-1)!;
      after = { lowerId: last.lowerId, lowerVersion: last.lowerVersion };
    }
    flush();
    // Ids that changed during the load may have been read before their change: read them again.
    while (this.changedWhileLoading && this.changedWhileLoading.size > 0) {
      const ids = [...this.changedWhileLoading];
      this.changedWhileLoading.clear();
      await Promise.all(ids.map((id) => this.refresh(id)));
    }
    this.changedWhileLoading = null;
    this.loaded = true;
  }

  /** Re-reads every download count (other nodes count too); cheap next to a page of packages. */
  async reloadCounts(): Promise<void> {
    if (!this.loaded) return;
    const counts = new Map<string, number>();
    for (const c of await this.source.listDownloadCounts()) counts.set(`${c.lowerId}\u0000${c.lowerVersion}`, c.count);
    for (const e of this.entries.values()) {
      let total = 0;
      for (const v of e.versions) {
        v.downloads = counts.get(`${e.lowerId}\u0000${v.lowerVersion}`) ?? 0;
        total += v.downloads;
      }
      e.totalDownloads = total;
    }
    this.generation++;
  }

  private replace(lowerId: string, entry: Entry | null): void {
    const old = this.entries.get(lowerId);
    if (old) this.remove(old);
    if (entry) this.insert(entry);
    this.generation++;
  }

  private insert(entry: Entry): void {
    this.entries.set(entry.lowerId, entry);
    sortedInsert(this.sortedIds, entry.lowerId);
    addTo(this.compactIds, entry.shape.compact, entry);
    for (const word of unique(entry.shape.words)) {
      if (addTo(this.wordPostings, word, entry)) sortedInsert(this.sortedWords, word);
    }
    for (const doc of entry.docs) for (const key of docTextKeys(doc)) addTo(this.textPostings, key, doc);
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.lowerId);
    sortedRemove(this.sortedIds, entry.lowerId);
    removeFrom(this.compactIds, entry.shape.compact, entry);
    for (const word of unique(entry.shape.words)) {
      if (removeFrom(this.wordPostings, word, entry)) sortedRemove(this.sortedWords, word);
    }
    for (const doc of entry.docs) for (const key of docTextKeys(doc)) removeFrom(this.textPostings, key, doc);
  }

  private report(err: unknown, what: string): void {
    this.options.onError?.(err, what);
  }
}

/** Adds to a posting set; true when the key is new. */
function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): boolean {
  const set = map.get(key);
  if (set) {
    set.add(value);
    return false;
  }
  map.set(key, new Set([value]));
  return true;
}

/** Removes from a posting set; true when the key is gone. */
function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): boolean {
  const set = map.get(key);
  if (!set) return false;
  set.delete(value);
  if (set.size > 0) return false;
  map.delete(key);
  return true;
}

function countsOf(rows: readonly DownloadCount[]): Map<string, number> {
  return new Map(rows.map((r) => [r.lowerVersion, r.count]));
}

/** Every text word of a document that goes into the postings (computed again on removal: nothing stored twice). */
function docTextKeys(doc: Doc): string[] {
  const keys = new Set<string>([...doc.titleWords, ...doc.tagWords, ...doc.authorWords, ...doc.ownerWords]);
  for (const w of textWords(doc.summary)) keys.add(w);
  for (const w of textWords(doc.description)) {
    if (keys.size >= MAX_TEXT_KEYS) break;
    keys.add(w);
  }
  return [...keys];
}

/** The field score of a document that has every key somewhere in its text. */
function scoreText(
  doc: Doc,
  field: QueryField | 'any',
  keys: readonly string[],
  phrase: readonly string[] | null,
  hasAll: (words: readonly string[]) => boolean,
): number {
  const check = (words: readonly string[], text: () => string) => hasAll(words) && (phrase === null || containsPhrase(text(), phrase));
  const inTitle = () => check(doc.titleWords, () => doc.title);
  const inTags = () => check(doc.tagWords, () => doc.tags.join(' '));
  const inAuthors = () => check(doc.authorWords, () => doc.authors.join(', '));
  const inOwners = () => check(doc.ownerWords, () => doc.owners.join(', '));
  const inSummary = () => check(textWords(doc.summary), () => doc.summary);
  const inDescription = () => check(textWords(doc.description, MAX_TEXT_KEYS), () => doc.description);
  switch (field) {
    case 'title':
      return inTitle() ? SCORE.title : 0;
    case 'tags':
      return inTags() ? SCORE.tag : 0;
    case 'author':
      return inAuthors() ? SCORE.author : 0;
    case 'owner':
      return inOwners() ? SCORE.author : 0;
    case 'summary':
      return inSummary() ? SCORE.summary : 0;
    case 'description':
      return inDescription() ? SCORE.description : 0;
    default:
      if (inTitle()) return SCORE.title;
      if (inTags()) return SCORE.tag;
      if (inAuthors() || inOwners()) return SCORE.author;
      if (phrase === null) return keys.length > 0 ? SCORE.description : 0;
      if (inSummary()) return SCORE.summary;
      return inDescription() ? SCORE.description : 0;
  }
}

/**
 * Builds an id's entry from all its rows (listed or not): versions in NuGet order, and a document for the latest
 * listed version under each filter. Null when the id has no rows left (deleted).
 */
function buildEntry(records: readonly PackageRecord[], counts: ReadonlyMap<string, number>): Entry | null {
  if (records.length === 0) return null;
  const sorted = records
    .map((record) => ({ record, parsed: parseVersion(record.fullVersion) }))
    .filter((r): r is { record: PackageRecord; parsed: NonNullable<typeof r.parsed> } => r.parsed !== null)
    .sort((a, b) => compareVersions(a.parsed, b.parsed));
  if (sorted.length === 0) return null;
  const versions: VersionInfo[] = sorted.map(({ record }) => ({
    fullVersion: record.fullVersion,
    lowerVersion: record.lowerVersion,
    isPrerelease: record.isPrerelease,
    isSemVer2: record.isSemVer2,
    listed: record.listed,
    downloads: counts.get(record.lowerVersion) ?? 0,
  }));
  const latest = sorted.at(-1)!.record;
  const views: (Doc | null)[] = [];
  const docs: Doc[] = [];
  const entry: Entry = {
    lowerId: latest.lowerId,
    shape: idShape(latest.id),
    versions,
    views,
    docs,
    totalDownloads: versions.reduce((sum, v) => sum + v.downloads, 0),
  };
  const byVersion = new Map<number, Doc>();
  for (let f = 0; f < 4; f++) {
    let at = -1;
    for (let i = versions.length - 1; i >= 0; i--) {
      if (allowed(versions[i]!, f)) {
        at = i;
        break;
      }
    }
    if (at < 0) {
      views.push(null);
      continue;
    }
    let doc = byVersion.get(at);
    if (!doc) {
      doc = makeDoc(entry, versions[at]!, sorted[at]!.record);
      byVersion.set(at, doc);
      docs.push(doc);
    }
    views.push(doc);
  }
  return entry;
}

/** A search document from one version's stored metadata; long text is cut to bound memory. */
function makeDoc(entry: Entry, version: VersionInfo, record: PackageRecord): Doc {
  const m = JSON.parse(record.metadata) as StoredMetadata;
  const title = m.title ?? '';
  const summary = m.summary ?? '';
  const description = m.description.length > MAX_DESCRIPTION ? m.description.slice(0, MAX_DESCRIPTION) : m.description;
  const tags = [...m.tags];
  const authors = splitList(m.authors);
  const owners = splitList(m.owners);
  const packageTypes = m.packageTypes.length > 0 ? unique(m.packageTypes.map((t) => t.name)) : ['Dependency'];
  const licenseExpression = m.license?.type === 'expression' ? m.license.value : null;
  return {
    entry,
    version,
    id: record.id,
    title,
    description,
    summary,
    tags,
    authors,
    owners,
    iconUrl: m.iconUrl,
    licenseUrl: licenseExpression ? `https://licenses.nuget.org/${encodeURIComponent(licenseExpression)}` : m.licenseUrl,
    licenseExpression,
    projectUrl: m.projectUrl,
    packageTypes,
    packageTypeKeys: packageTypes.map((t) => toLowerId(t)),
    titleWords: unique(textWords(title)),
    tagWords: unique(tags.flatMap((t) => textWords(t))),
    authorWords: unique(authors.flatMap((a) => textWords(a))),
    ownerWords: unique(owners.flatMap((o) => textWords(o))),
  };
}
