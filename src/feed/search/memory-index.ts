import type { DownloadCount, PackageDatabase, PackageRecord } from '../../db/database.js';
import { PawketError } from '../../errors.js';
import { lowerId as toLowerId } from '../../nuget/id.js';
import { compareVersions, lowerNormalizedVersion, parseVersion } from '../../nuget/version.js';
import type { ChangedVersions, FeedEvents } from '../events.js';
import type { StoredMetadata } from '../stored-metadata.js';
import { editDistanceWithin, typoBudget } from './fuzzy.js';
import { parseQuery, type ParsedQuery, type QueryField, type QueryTerm } from './query.js';
import type {
  AutocompleteResults,
  DownloadDelta,
  PackageText,
  SearchFilter,
  SearchIndex,
  SearchRequest,
  SearchResultPackage,
  SearchResults,
} from './search-index.js';
import { containsPhrase, idShape, phraseWords, textWords, type IdShape } from './tokenize.js';

/** What the index reads from the database: the same calls on every backend. */
export type SearchSource = Pick<PackageDatabase, 'scanByIdentity' | 'listVersions' | 'listDownloadCounts' | 'getPackage'>;

export interface MemorySearchIndexOptions {
  /** Where background failures go (loading, refreshing an id). */
  readonly onError?: (err: unknown, what: string) => void;
  /** Re-read every download count this often, to pick up other nodes' downloads (ms; 0 = never). */
  readonly countsReloadMs?: number;
  /** How long a request waits for the first load before answering 503 (ms). */
  readonly readyTimeoutMs?: number;
  /**
   * Load only once {@link start} is called (or a query or `whenLoaded` needs the index): a server starts it once it
   * listens, so reading a large feed never delays the first answers.
   */
  readonly deferLoad?: boolean;
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

/** Text fields as bits: a text posting records which fields of a document hold the word. */
const FIELD = { title: 1, tags: 2, author: 4, owner: 8, summary: 16, description: 32 } as const;
const FIELD_SCORE: readonly [number, number][] = [
  [FIELD.title, SCORE.title],
  [FIELD.tags, SCORE.tag],
  [FIELD.author | FIELD.owner, SCORE.author],
  [FIELD.summary, SCORE.summary],
  [FIELD.description, SCORE.description],
];

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
  /** Set on mirrored versions only. */
  readonly mirroredFrom?: string;
  downloads: number;
}

/** The searchable metadata of one version: an id has up to four, the latest under each filter. */
interface Doc extends PackageText {
  /** Dense number while indexed (scores live in typed arrays at this index); -1 once removed. */
  slot: number;
  readonly entry: Entry;
  readonly version: VersionInfo;
  readonly packageTypeKeys: readonly string[];
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
  /** Scratch mark for collecting candidates without a Set. */
  mark: number;
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

/** Downloads first, then ids alphabetically: the order of browsing and autocomplete. */
function byPopularity(a: Doc, b: Doc): number {
  return b.entry.totalDownloads - a.entry.totalDownloads || (a.entry.lowerId < b.entry.lowerId ? -1 : a.entry.lowerId > b.entry.lowerId ? 1 : 0);
}

/** After equal scores: downloads, then the shorter id (fewer other words), then alphabetically. */
function tieBreak(a: Doc, b: Doc): number {
  const x = a.entry;
  const y = b.entry;
  return y.totalDownloads - x.totalDownloads || x.lowerId.length - y.lowerId.length || (x.lowerId < y.lowerId ? -1 : x.lowerId > y.lowerId ? 1 : 0);
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
 * Scores per document slot for one evaluation, in typed arrays that are reused (an epoch stamp says which slots are
 * set): no maps or objects per matching document, so a query matching every package stays cheap and makes no garbage.
 */
class Board {
  score = new Float64Array(0);
  count = new Uint16Array(0);
  private stamp = new Uint32Array(0);
  private epoch = 0;
  /** Slots set since the last reset, in the order first set. */
  readonly touched: number[] = [];

  reset(capacity: number): void {
    if (this.stamp.length < capacity) {
      const size = Math.max(capacity, this.stamp.length * 2, 1024);
      this.score = new Float64Array(size);
      this.count = new Uint16Array(size);
      this.stamp = new Uint32Array(size);
      this.epoch = 0;
    }
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    this.touched.length = 0;
  }

  has(slot: number): boolean {
    return this.stamp[slot] === this.epoch;
  }

  /** Keeps the best score of a slot (one term's fields). */
  max(slot: number, score: number): void {
    if (this.stamp[slot] !== this.epoch) {
      this.stamp[slot] = this.epoch;
      this.score[slot] = score;
      this.count[slot] = 1;
      this.touched.push(slot);
    } else if (score > this.score[slot]!) {
      this.score[slot] = score;
    }
  }

  /** Adds a score and counts it (terms of a query). */
  add(slot: number, score: number): void {
    if (this.stamp[slot] !== this.epoch) {
      this.stamp[slot] = this.epoch;
      this.score[slot] = score;
      this.count[slot] = 1;
      this.touched.push(slot);
    } else {
      this.score[slot]! += score;
      this.count[slot]!++;
    }
  }
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
      if (w.startsWith(pos === 0 ? t : t.slice(pos))) best = Math.max(best, SCORE.idPrefix);
      break;
    }
  }
  if (best > 0) return best;
  if (term.words.length > 1 && term.words.every((w) => words.includes(w))) return SCORE.idAllWords;
  if (allowSubstring && t.length >= 3 && id.compact.includes(t)) return SCORE.idSubstring;
  return 0;
}

/** Most id refreshes reading the database at once. */
const REFRESH_READS = 4;

/** A refresh told of more changed versions than this reads the whole id instead of each version. */
const PATCH_VERSIONS = 16;

/** What a refresh must read: the versions named by the changes announced, or the whole id. */
type Pending = Set<string> | 'all';

function withChanges(pending: Pending, versions: ChangedVersions): Pending {
  if (pending === 'all' || versions === undefined) return 'all';
  for (const v of versions) pending.add(v);
  return pending.size > PATCH_VERSIONS ? 'all' : pending;
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
  /** Text words → documents → the fields (bits of {@link FIELD}) holding the word. */
  private readonly textPostings = new Map<string, Map<Doc, number>>();
  /** Documents by slot; freed slots are reused. */
  private readonly docsBySlot: (Doc | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  /** Every compact id in one string, for substring search with indexOf; rebuilt after ids change. */
  private idText = { generation: -1, text: '', starts: [] as number[], entries: [] as Entry[] };
  private idsGeneration = 0;
  private markEpoch = 0;

  private readonly termBoard = new Board();
  private readonly groupBoard = new Board();
  private readonly queryBoard = new Board();

  /** Bumped on every change; caches below are valid for one generation. */
  private generation = 0;
  private browseCache: { generation: number; lists: (Doc[] | undefined)[] } = { generation: -1, lists: [] };

  private readonly refreshing = new Map<string, { again: boolean; pending: Pending; done: Promise<void> }>();
  private changedWhileLoading: Set<string> | null = new Set();
  private activeReads = 0;
  private readonly readWaiters: Array<() => void> = [];
  private loaded = false;
  private loading: Promise<void> | undefined;
  private countsTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly source: SearchSource,
    events: FeedEvents,
    private readonly options: MemorySearchIndexOptions = {},
  ) {
    events.onPackageChanged((lowerId, _remote, versions) => this.changed(lowerId, versions));
    if (!options.deferLoad) this.start();
    if (options.countsReloadMs) {
      this.countsTimer = setInterval(() => void this.reloadCounts().catch((e) => this.report(e, 'reloading download counts')), options.countsReloadMs);
      this.countsTimer.unref();
    }
  }

  /** Resolves once the first load finished (with every change announced during it applied). */
  whenLoaded(): Promise<void> {
    return this.start();
  }

  /** Begins the first load, once; returns when it finished. */
  start(): Promise<void> {
    this.loading ??= this.loadUntilDone();
    return this.loading;
  }

  /** Number of ids and documents held, for diagnostics and benchmarks. */
  stats(): { ids: number; documents: number; idWords: number; textWords: number } {
    return {
      ids: this.entries.size,
      documents: this.docsBySlot.length - this.freeSlots.length,
      idWords: this.wordPostings.size,
      textWords: this.textPostings.size,
    };
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

    let found = this.evaluate(query, f, false);
    if (found.slots.length === 0 && query.free.length > 0) found = this.evaluate(query, f, true);
    const docs = this.docsBySlot;
    const hits = typeKey === null ? found.slots : found.slots.filter((s) => docs[s]!.packageTypeKeys.includes(typeKey));
    const score = found.scores;
    const page = topK(hits, need, (a, b) => score[b]! - score[a]! || tieBreak(docs[a]!, docs[b]!)).slice(request.skip);
    return { totalHits: hits.length, packages: page.map((s) => this.result(docs[s]!, f)) };
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
    // Ids starting with the text first, then ids with a run of words starting with it.
    const lower = toLowerId(q);
    const prefixed: Doc[] = [];
    const mark = ++this.markEpoch;
    for (let i = lowerBound(this.sortedIds, lower); i < this.sortedIds.length && this.sortedIds[i]!.startsWith(lower); i++) {
      const entry = this.entries.get(this.sortedIds[i]!)!;
      entry.mark = mark;
      const doc = visible(entry);
      if (doc) prefixed.push(doc);
    }
    // A word starting with the text is a match as it stands; a text spanning words (`sqlcl`, `sinks.cons`) starts
    // with one of the id's words and needs the run checked.
    const shape = idShape(q);
    const t = shape.compact;
    const worded: Doc[] = [];
    const take = (entry: Entry, check: boolean) => {
      if (entry.mark === mark) return;
      entry.mark = mark;
      const doc = visible(entry);
      if (doc && (!check || matchId(shape, entry.shape, false) >= SCORE.idPrefix)) worded.push(doc);
    };
    if (t.length > 0) {
      for (let i = lowerBound(this.sortedWords, t); i < this.sortedWords.length && this.sortedWords[i]!.startsWith(t); i++) {
        this.wordPostings.get(this.sortedWords[i]!)!.forEach((e) => take(e, false));
      }
      for (let k = 1; k < t.length; k++) this.wordPostings.get(t.slice(0, k))?.forEach((e) => take(e, true));
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

  /**
   * The slots of every matching document of filter `f`, with their scores (indexed by slot). Synchronous: the boards
   * are shared. With `typos`, free terms that match nothing are replaced by their corrections.
   */
  private evaluate(query: ParsedQuery, f: number, typos: boolean): { slots: number[]; scores: Float64Array } {
    const capacity = this.docsBySlot.length;
    // One free term (the common case) scores straight into the query's board.
    const single = query.free.length === 1;
    const total = single ? this.termBoard : this.queryBoard;
    total.reset(capacity);
    let result: number[] | null = null;

    if (query.free.length > 0) {
      let matchedSome = false;
      for (const term of query.free) {
        const board = single ? total : this.termBoard;
        if (!single) board.reset(capacity);
        this.idMatches(term.text, f, true, board, 1);
        this.textMatches(term, f, 'any', board, 1);
        if (board.touched.length === 0 && typos) this.typoMatches(term, f, board);
        if (board.touched.length > 0) matchedSome = true;
        if (!single) for (const slot of board.touched) total.add(slot, board.score[slot]!);
      }
      if (typos && !matchedSome) return { slots: [], scores: total.score };
      // Documents matching every term, when there are any; otherwise those matching some.
      const terms = query.free.length;
      const everyTerm = single ? total.touched.slice() : total.touched.filter((slot) => total.count[slot] === terms);
      result = everyTerm.length > 0 ? everyTerm : total.touched.slice();
      this.addWholeQueryBonus(query.free, f, total, result);
    }

    for (const [field, terms] of query.fields) {
      const group = this.groupBoard;
      group.reset(capacity);
      for (const term of terms) this.fieldTermMatches(field, term, f, group);
      if (result === null) {
        for (const slot of group.touched) total.add(slot, group.score[slot]!);
        result = group.touched.slice();
        continue;
      }
      const narrowed: number[] = [];
      for (const slot of result) {
        if (!group.has(slot)) continue;
        total.score[slot]! += group.score[slot]!;
        narrowed.push(slot);
      }
      result = narrowed;
    }
    return { slots: result ?? [], scores: total.score };
  }

  /** The whole free text naming an id outright puts that id first. */
  private addWholeQueryBonus(free: readonly QueryTerm[], f: number, total: Board, result: number[]): void {
    const text = free.map((t) => t.text).join(' ');
    const bonus = (doc: Doc | null | undefined, score: number) => {
      if (!doc) return;
      if (!total.has(doc.slot)) result.push(doc.slot);
      total.add(doc.slot, score);
    };
    const exact = free.length === 1 ? this.entries.get(toLowerId(text.trim()))?.views[f] : undefined;
    bonus(exact, SCORE.wholeExact);
    for (const entry of this.compactIds.get(idShape(text).compact) ?? []) {
      if (entry.views[f] !== exact) bonus(entry.views[f], SCORE.wholeCompact);
    }
  }

  private fieldTermMatches(field: QueryField, term: QueryTerm, f: number, board: Board): void {
    switch (field) {
      case 'id':
        return this.idMatches(term.text, f, true, board, 1);
      case 'packageid': {
        const doc = this.entries.get(toLowerId(term.text))?.views[f];
        if (doc) board.max(doc.slot, SCORE.exactId);
        return;
      }
      case 'version': {
        const parsed = parseVersion(term.text);
        if (!parsed) return;
        const wanted = lowerNormalizedVersion(parsed);
        for (const e of this.entries.values()) {
          const doc = e.views[f];
          if (doc && doc.version.lowerVersion === wanted) board.max(doc.slot, 1);
        }
        return;
      }
      default:
        return this.textMatches(term, f, field, board, 1);
    }
  }

  /**
   * Ids that may match a term: a word of theirs starts the term, or starts with the term; plus (with `substrings`)
   * ids containing it. Ids already carrying `mark` are left out; the ones returned get it.
   */
  private idCandidates(term: IdShape, substrings: boolean, mark = ++this.markEpoch): Entry[] {
    const t = term.compact;
    const out: Entry[] = [];
    if (t.length === 0) return out;
    const take = (e: Entry) => {
      if (e.mark !== mark) {
        e.mark = mark;
        out.push(e);
      }
    };
    this.compactIds.get(t)?.forEach(take);
    const exact = this.entries.get(term.lower);
    if (exact) take(exact);
    for (let k = 1; k < t.length; k++) this.wordPostings.get(t.slice(0, k))?.forEach(take);
    for (let i = lowerBound(this.sortedWords, t); i < this.sortedWords.length && this.sortedWords[i]!.startsWith(t); i++) {
      this.wordPostings.get(this.sortedWords[i]!)!.forEach(take);
    }
    if (substrings && t.length >= 3) {
      const ids = this.idTextIndex();
      for (let at = ids.text.indexOf(t); at >= 0; ) {
        // the id holding this position: the last start at or before it
        let lo = 0;
        let hi = ids.starts.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (ids.starts[mid]! <= at) lo = mid;
          else hi = mid - 1;
        }
        take(ids.entries[lo]!);
        const next = ids.starts[lo + 1];
        at = next === undefined ? -1 : ids.text.indexOf(t, next);
      }
    }
    return out;
  }

  private idTextIndex() {
    if (this.idText.generation !== this.idsGeneration) {
      const entries = [...this.entries.values()];
      const starts: number[] = [];
      let offset = 0;
      for (const e of entries) {
        starts.push(offset);
        offset += e.shape.compact.length + 1;
      }
      this.idText = { generation: this.idsGeneration, text: entries.map((e) => e.shape.compact).join('\n'), starts, entries };
    }
    return this.idText;
  }

  private idMatches(text: string, f: number, substrings: boolean, board: Board, factor: number): void {
    const shape = idShape(text);
    for (const entry of this.idCandidates(shape, substrings)) {
      const doc = entry.views[f];
      if (!doc) continue;
      const s = matchId(shape, entry.shape, substrings);
      if (s > 0) board.max(doc.slot, s * factor);
    }
  }

  /** Documents whose text has all words of the term (as a phrase when quoted), scored by the best field. */
  private textMatches(term: QueryTerm, f: number, field: TextField | 'any', board: Board, factor: number): void {
    const phrase = phraseWords(term.text);
    const keys = unique(phrase);
    if (keys.length === 0) return;
    const lists: Map<Doc, number>[] = [];
    for (const key of keys) {
      const list = this.textPostings.get(key);
      if (!list) return;
      lists.push(list);
    }
    lists.sort((a, b) => a.size - b.size);
    const wanted = field === 'any' ? -1 : fieldBit(field);
    const asPhrase = term.quoted && phrase.length > 1;
    const [first, ...rest] = lists;
    first!.forEach((mask, doc) => {
      if (doc.entry.views[f] !== doc) return;
      let common = mask;
      for (const list of rest) {
        const m = list.get(doc);
        if (m === undefined) return;
        common &= m;
      }
      const score = asPhrase ? phraseScore(doc, common & wanted, phrase) : fieldScore(common & wanted, field === 'any');
      if (score > 0) board.max(doc.slot, score * factor);
    });
  }

  /** Corrections of a mistyped term: id words, ids and text words within its typo budget, nearest first. */
  private typoMatches(term: QueryTerm, f: number, board: Board): void {
    const shape = idShape(term.text);
    const t = shape.compact;
    const budget = typoBudget(t.length);
    if (budget === 0 || term.quoted) return;
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
      this.idMatches(word, f, false, board, SCORE.typoFactor);
      this.textMatches({ text: word, quoted: false }, f, 'any', board, SCORE.typoFactor);
    }
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
      embeddedIcon: doc.embeddedIcon,
      licenseUrl: doc.licenseUrl,
      licenseExpression: doc.licenseExpression,
      projectUrl: doc.projectUrl,
      packageTypes: doc.packageTypes,
      totalDownloads: e.totalDownloads,
      versions: e.versions
        .filter((v) => allowed(v, f))
        .map((v) => ({
          version: v.fullVersion,
          lowerVersion: v.lowerVersion,
          downloads: v.downloads,
          ...(v.mirroredFrom ? { mirroredFrom: v.mirroredFrom } : {}),
        })),
      ...(doc.version.mirroredFrom ? { mirroredFrom: doc.version.mirroredFrom } : {}),
    };
  }

  /** Whether the feed has any version of an id, listed or not (as of the last query, which waits for loading). */
  has(lowerId: string): boolean {
    return this.entries.has(lowerId);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Keeping the index in step with the database

  /** Waits for the first load and for every refresh announced so far. */
  private async settle(): Promise<void> {
    if (!this.loaded) {
      const timeout = this.options.readyTimeoutMs ?? 15_000;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeout)));
      const outcome = await Promise.race([this.start().then(() => 'ready' as const), late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        throw new PawketError(503, 'The search index is still loading; try again in a few seconds.', { 'retry-after': '5' });
      }
    }
    if (this.refreshing.size > 0) await Promise.all([...this.refreshing.values()].map((r) => r.done));
  }

  /**
   * Runs a refresh's reads with at most REFRESH_READS others: a release of hundreds of ids changes them at once, and
   * restore requests must not queue behind hundreds of index reads for the database's connections.
   */
  private async reading<T>(read: () => Promise<T>): Promise<T> {
    while (this.activeReads >= REFRESH_READS) await new Promise<void>((resolve) => this.readWaiters.push(resolve));
    this.activeReads++;
    try {
      return await read();
    } finally {
      this.activeReads--;
      this.readWaiters.shift()?.();
    }
  }

  private changed(lowerId: string, versions?: ChangedVersions): void {
    if (this.closed) return;
    if (this.changedWhileLoading) this.changedWhileLoading.add(lowerId);
    else void this.refresh(lowerId, versions);
  }

  /**
   * Re-reads one id from the database: the versions a change names (a push reads its own version, not the id's
   * thousands of others), else every version. A change announced while a refresh of the same id runs makes it run
   * again, so the promise resolves only once the index holds a state read after the last announced change.
   */
  refresh(lowerId: string, versions?: ChangedVersions): Promise<void> {
    const running = this.refreshing.get(lowerId);
    if (running) {
      running.again = true;
      running.pending = withChanges(running.pending, versions);
      return running.done;
    }
    const state = { again: false, pending: withChanges(new Set(), versions), done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          const pending = state.pending;
          state.pending = new Set();
          const old = this.entries.get(lowerId);
          const entry =
            pending === 'all' || !old
              ? await this.reading(async () => {
                  const [records, counts] = await Promise.all([this.source.listVersions(lowerId), this.source.listDownloadCounts(lowerId)]);
                  return buildEntry(records, countsOf(counts));
                })
              : await this.reading(() => patchEntry(old, pending, (v) => this.source.getPackage(lowerId, v)));
          if (this.closed) return;
          this.replace(lowerId, entry);
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
      // An embedded database answers synchronously, so the pages would follow one another without letting a request
      // in: each page waits for the event loop's next turn.
      await new Promise((resolve) => setImmediate(resolve));
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
    for (const doc of entry.docs) {
      doc.slot = this.freeSlots.pop() ?? this.docsBySlot.length;
      this.docsBySlot[doc.slot] = doc;
      for (const [key, mask] of docTextFields(doc)) {
        let list = this.textPostings.get(key);
        if (!list) this.textPostings.set(key, (list = new Map()));
        list.set(doc, mask);
      }
    }
    this.idsGeneration++;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.lowerId);
    sortedRemove(this.sortedIds, entry.lowerId);
    removeFrom(this.compactIds, entry.shape.compact, entry);
    for (const word of unique(entry.shape.words)) {
      if (removeFrom(this.wordPostings, word, entry)) sortedRemove(this.sortedWords, word);
    }
    for (const doc of entry.docs) {
      for (const key of docTextFields(doc).keys()) {
        const list = this.textPostings.get(key);
        if (list?.delete(doc) && list.size === 0) this.textPostings.delete(key);
      }
      this.docsBySlot[doc.slot] = undefined;
      this.freeSlots.push(doc.slot);
      doc.slot = -1;
    }
    this.idsGeneration++;
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

type TextField = Exclude<QueryField, 'id' | 'packageid' | 'version'>;

function fieldBit(field: TextField): number {
  return field === 'tags' ? FIELD.tags : FIELD[field];
}

/** The score of the best field among `mask`; with `anywhere`, words spread over several fields score as description. */
function fieldScore(mask: number, anywhere: boolean): number {
  for (const [bits, score] of FIELD_SCORE) if ((mask & bits) !== 0) return score;
  return anywhere ? SCORE.description : 0;
}

/** The score of the best field among `mask` whose text holds the phrase. */
function phraseScore(doc: Doc, mask: number, phrase: readonly string[]): number {
  const texts: [number, () => string][] = [
    [FIELD.title, () => doc.title],
    [FIELD.tags, () => doc.tags.join(' ')],
    [FIELD.author, () => doc.authors.join(', ')],
    [FIELD.owner, () => doc.owners.join(', ')],
    [FIELD.summary, () => doc.summary],
    [FIELD.description, () => doc.description],
  ];
  for (const [bit, text] of texts) if ((mask & bit) !== 0 && containsPhrase(text(), phrase)) return fieldScore(bit, false);
  return 0;
}

/**
 * Every text word of a document with the fields holding it (computed again on removal: nothing stored twice).
 * Title, tags, authors and owners always count; the description only up to {@link MAX_TEXT_KEYS} words.
 */
function docTextFields(doc: Doc): Map<string, number> {
  const out = new Map<string, number>();
  const put = (words: readonly string[], bit: number) => {
    for (const w of words) out.set(w, (out.get(w) ?? 0) | bit);
  };
  put(textWords(doc.title), FIELD.title);
  for (const t of doc.tags) put(textWords(t), FIELD.tags);
  for (const a of doc.authors) put(textWords(a), FIELD.author);
  for (const o of doc.owners) put(textWords(o), FIELD.owner);
  put(textWords(doc.summary), FIELD.summary);
  for (const w of textWords(doc.description)) {
    const seen = out.get(w);
    if (seen === undefined && out.size >= MAX_TEXT_KEYS) continue;
    out.set(w, (seen ?? 0) | FIELD.description);
  }
  return out;
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
  const versions = sorted.map(({ record }) => versionInfo(record, counts.get(record.lowerVersion) ?? 0));
  const latest = sorted.at(-1)!.record;
  const entry = newEntry(latest.lowerId, idShape(latest.id), versions);
  fillViews(entry, (version, at) => makeDoc(entry, version, sorted[at]!.record));
  return entry;
}

/**
 * An id's entry after changes of a few of its versions: those are read again (null: deleted), the others kept as they
 * were, with their documents; a version that becomes the latest under a filter without having been read is read then.
 * The work is a few queries and a copy of the version list, whatever the number of versions.
 */
async function patchEntry(old: Entry, changed: ReadonlySet<string>, read: (lowerVersion: string) => Promise<PackageRecord | null>): Promise<Entry | null> {
  const fresh = new Map<string, PackageRecord>();
  for (const record of await Promise.all([...changed].map(read))) if (record) fresh.set(record.lowerVersion, record);
  const before = new Map(old.versions.filter((v) => changed.has(v.lowerVersion)).map((v) => [v.lowerVersion, v] as const));
  const versions = old.versions.filter((v) => !changed.has(v.lowerVersion));
  for (const record of fresh.values()) {
    const parsed = parseVersion(record.fullVersion);
    if (!parsed) continue;
    let lo = 0;
    let hi = versions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareVersions(parseVersion(versions[mid]!.fullVersion)!, parsed) < 0) lo = mid + 1;
      else hi = mid;
    }
    versions.splice(lo, 0, versionInfo(record, before.get(record.lowerVersion)?.downloads ?? 0));
  }
  if (versions.length === 0) return null;
  const latest = versions.at(-1)!;
  const latestRecord = fresh.get(latest.lowerVersion);
  const entry = newEntry(old.lowerId, latestRecord ? idShape(latestRecord.id) : old.shape, versions);
  // Unchanged versions keep their documents (the same objects); one newly shown without a document is read.
  const unread = viewIndexes(versions)
    .filter((at) => at >= 0)
    .map((at) => versions[at]!)
    .filter((v) => !fresh.has(v.lowerVersion) && !old.docs.some((d) => d.version === v));
  for (const record of await Promise.all(unread.map((v) => read(v.lowerVersion)))) if (record) fresh.set(record.lowerVersion, record);
  fillViews(entry, (version) => {
    const kept = old.docs.find((d) => d.version === version);
    if (kept) return { ...kept, slot: -1, entry };
    const record = fresh.get(version.lowerVersion);
    // Deleted since this refresh began: the refresh that change announced reads the id again.
    return record ? makeDoc(entry, version, record) : null;
  });
  return entry;
}

/** Sets an entry's views, the latest version each filter shows, with one document per version shown. */
function fillViews(entry: Entry & { views: (Doc | null)[]; docs: Doc[] }, docOf: (version: VersionInfo, at: number) => Doc | null): void {
  const made = new Map<VersionInfo, Doc | null>();
  for (const at of viewIndexes(entry.versions)) {
    if (at < 0) {
      entry.views.push(null);
      continue;
    }
    const version = entry.versions[at]!;
    if (!made.has(version)) {
      const doc = docOf(version, at);
      made.set(version, doc);
      if (doc) entry.docs.push(doc);
    }
    entry.views.push(made.get(version)!);
  }
}

function versionInfo(record: PackageRecord, downloads: number): VersionInfo {
  return {
    fullVersion: record.fullVersion,
    lowerVersion: record.lowerVersion,
    isPrerelease: record.isPrerelease,
    isSemVer2: record.isSemVer2,
    listed: record.listed,
    ...(record.mirroredFrom ? { mirroredFrom: record.mirroredFrom } : {}),
    downloads,
  };
}

function newEntry(lowerId: string, shape: IdShape, versions: readonly VersionInfo[]): Entry & { views: (Doc | null)[]; docs: Doc[] } {
  return { lowerId, shape, versions, views: [], docs: [], totalDownloads: versions.reduce((sum, v) => sum + v.downloads, 0), mark: 0 };
}

/** For each filter (0..3), the index of the latest version it shows, -1 when it hides them all. */
function viewIndexes(versions: readonly VersionInfo[]): number[] {
  const out: number[] = [];
  for (let f = 0; f < 4; f++) {
    let at = -1;
    for (let i = versions.length - 1; i >= 0; i--) {
      if (allowed(versions[i]!, f)) {
        at = i;
        break;
      }
    }
    out.push(at);
  }
  return out;
}

/** A search document from one version's stored metadata; long text is cut to bound memory. */
function makeDoc(entry: Entry, version: VersionInfo, record: PackageRecord): Doc {
  const m = JSON.parse(record.metadata) as StoredMetadata;
  const description = m.description.length > MAX_DESCRIPTION ? m.description.slice(0, MAX_DESCRIPTION) : m.description;
  const packageTypes = m.packageTypes.length > 0 ? unique(m.packageTypes.map((t) => t.name)) : ['Dependency'];
  const licenseExpression = m.license?.type === 'expression' ? m.license.value : null;
  return {
    slot: -1,
    entry,
    version,
    id: record.id,
    title: m.title ?? '',
    description,
    summary: m.summary ?? '',
    tags: [...m.tags],
    authors: splitList(m.authors),
    owners: splitList(m.owners),
    iconUrl: m.iconUrl,
    embeddedIcon: !!m.icon,
    licenseUrl: licenseExpression ? `https://licenses.nuget.org/${encodeURIComponent(licenseExpression)}` : m.licenseUrl,
    licenseExpression,
    projectUrl: m.projectUrl,
    packageTypes,
    packageTypeKeys: packageTypes.map((t) => toLowerId(t)),
  };
}
