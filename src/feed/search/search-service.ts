import type { PackageDatabase } from '../../db/database.js';
import type { FeedEvents } from '../events.js';
import { DownloadCounter } from './download-counter.js';
import { MemorySearchIndex } from './memory-index.js';

export interface SearchServiceOptions {
  /** Background failures (index loading and refreshing, count writes); the server logs them. */
  readonly onError?: (err: unknown, what: string) => void;
  /** How often downloads counted in memory are written (ms); default 10 s. */
  readonly downloadFlushIntervalMs?: number;
  /** How often every download count is re-read, to see other nodes' downloads (ms); default 5 min, 0 = never. */
  readonly countsReloadMs?: number;
  /** The index loads once its `start()` is called (or a search needs it), not at once. */
  readonly deferLoad?: boolean;
}

/** Search and download counting, wired together: counts written by the counter go into the index's totals. */
export interface SearchService {
  readonly index: MemorySearchIndex;
  readonly downloads: DownloadCounter;
  /** Writes pending download counts and stops background work; call before the database closes. */
  close(): Promise<void>;
}

/**
 * Opens the search side of the feed. The index starts loading at once, in the background: restores are served
 * meanwhile, and search requests wait for it.
 *
 * @example
 * const search = openSearch(feed.db, feed.events, { onError: (err, what) => log.warn({ err }, what) });
 * await search.index.search({ query: 'json', skip: 0, take: 20, prerelease: false, semVer2: true, packageType: null });
 */
export function openSearch(db: PackageDatabase, events: FeedEvents, options: SearchServiceOptions = {}): SearchService {
  const index = new MemorySearchIndex(db, events, {
    onError: options.onError,
    countsReloadMs: options.countsReloadMs ?? 5 * 60_000,
    deferLoad: options.deferLoad,
  });
  const downloads = new DownloadCounter(db, {
    flushIntervalMs: options.downloadFlushIntervalMs,
    onFlushed: (counts) => index.addDownloads(counts),
    onError: options.onError,
  });
  return {
    index,
    downloads,
    async close() {
      await downloads.close();
      await index.close();
    },
  };
}
