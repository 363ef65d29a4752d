import type { BlobStore } from '../blobs/blob-store.js';
import type { MaterializeDatabase } from '../db/materialize-database.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import type { Feed } from '../feed/feed.js';
import type { FeedHub } from '../feed/hub.js';
import { routes } from '../http/routes.js';
import { MATERIALIZED_ROOTS, type FeedFolder } from './layout.js';
import { Materializer, type MaterializeMode } from './materializer.js';

export interface FeedsProgress {
  /** A feed starts: its name and how many package versions it holds. */
  feed?(name: string, versions: number): void;
  /** One id done, with its version count. */
  id?(versions: number): void;
}

export interface MaterializeSummary {
  readonly feeds: number;
  readonly ids: number;
  readonly written: number;
  readonly removed: number;
  /** verify: documents that differed from what the routes serve (rewritten). */
  readonly mismatched: readonly string[];
}

const cursorName = (feedId: number, mode: MaterializeMode) => `${mode}:${feedId}`;
const folderName = (feedId: number) => `folder:${feedId}`;
const folderText = (f: FeedFolder | null) => (f ? f.root + f.prefix : '');
const PAGE = 1000;

/**
 * Rebuilds (or verifies) the materialized documents of every feed, or of one: each id the database holds, then the
 * ids the store has documents for and the database no longer has (removed), and a feed's documents left in the other
 * root (it changed between public and private). Resumable: each feed's progress is recorded every few ids.
 */
export async function materializeFeeds(
  hub: FeedHub,
  materializer: Materializer,
  db: MaterializeDatabase,
  options: { readonly mode: 'rebuild' | 'verify'; readonly feed?: string; readonly progress?: FeedsProgress },
): Promise<MaterializeSummary> {
  const definitions = hub.definitions().filter((d) => options.feed === undefined || d.lowerName === options.feed.toLowerCase());
  let ids = 0;
  let written = 0;
  let removed = 0;
  const mismatched: string[] = [];
  let feeds = 0;
  for (const definition of definitions) {
    const feed = await hub.feedById(definition.id);
    if (!feed) continue;
    await moveFolder(hub.shared.blobs, db, materializer, feed);
    if (!Materializer.materializes(feed)) continue;
    feeds++;
    options.progress?.feed?.(definition.name, await feed.db.countPackages());
    const cursor = cursorName(definition.id, options.mode);
    const resumeAfter = (await db.progress(cursor)) || null;
    const seen = new Set<string>();
    const visit = async (lowerId: string, versions: number) => {
      const report = await materializer.runLeased(definition.id, lowerId, options.mode);
      ids++;
      written += report.written;
      removed += report.removed;
      mismatched.push(...report.mismatched.map((p) => `${materializer.folderOf(feed).prefix}${p}`));
      options.progress?.id?.(versions);
    };
    let after: { lowerId: string; lowerVersion: string } | null = resumeAfter ? { lowerId: resumeAfter, lowerVersion: '\uffff' } : null;
    for (;;) {
      const page = await feed.db.scanByIdentity(after, PAGE);
      if (!page.length) break;
      const counts = new Map<string, number>();
      for (const r of page) counts.set(r.lowerId, (counts.get(r.lowerId) ?? 0) + 1);
      for (const [lowerId, versions] of counts) {
        seen.add(lowerId);
        await visit(lowerId, versions);
      }
      const last = page.at(-1)!;
      // The next page starts after the last id entirely: each id was materialized whole.
      after = { lowerId: last.lowerId, lowerVersion: '\uffff' };
      await db.setProgress(cursor, last.lowerId);
      if (page.length < PAGE) break;
    }
    // Ids the store has documents for and the database no longer has: materializing them removes their files.
    if (!resumeAfter) {
      const folder = materializer.folderOf(feed);
      const flat = `${folder.root}${folder.prefix}${routes.flatContainer.slice(1)}`;
      const gone = new Set<string>();
      for await (const blob of hub.shared.blobs.list(flat)) {
        const lowerId = blob.key.slice(flat.length).split('/')[0]!;
        if (!seen.has(lowerId)) gone.add(lowerId);
      }
      for (const lowerId of gone) await visit(lowerId, 0);
    }
    await db.setProgress(cursor, '');
  }
  return { feeds, ids, written, removed, mismatched };
}

/**
 * Removes a feed's documents from where they were when they are no longer wanted there (the feed turned private or
 * public, gained upstreams, or was deleted) and makes it start over; records where they are now. True when it moved.
 */
export async function moveFolder(blobs: BlobStore, db: MaterializeDatabase, materializer: Materializer, feed: Feed | null, feedId = feed?.definition.id): Promise<boolean> {
  if (feedId === undefined) return false;
  const now = feed && Materializer.materializes(feed) ? materializer.folderOf(feed) : null;
  const before = await db.progress(folderName(feedId));
  if (before === folderText(now)) return false;
  if (before) await removeTree(blobs, before, feedId === DEFAULT_FEED_ID);
  await db.forgetFeed(feedId);
  await db.setProgress(folderName(feedId), folderText(now));
  return true;
}

/** Removes every document under a feed's folder; the default feed's folder holds the other feeds' (`f/`): kept. */
async function removeTree(blobs: BlobStore, folder: string, isDefault: boolean): Promise<void> {
  if (!MATERIALIZED_ROOTS.some((r) => folder.startsWith(r))) return;
  const keys: string[] = [];
  for await (const blob of blobs.list(folder)) {
    if (isDefault && blob.key.slice(folder.length).startsWith('f/')) continue;
    keys.push(blob.key);
  }
  for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((k) => blobs.delete(k)));
}

/**
 * A serving node's watch over feed definitions: a feed that changes folder (or stops being materialized) has its old
 * documents removed at once and is rebuilt in the background.
 */
export function watchDefinitions(hub: FeedHub, materializer: Materializer, db: MaterializeDatabase, onError: (e: unknown) => void): () => void {
  let running: Promise<void> = Promise.resolve();
  const known = new Set(hub.definitions().map((d) => d.id));
  const check = () => {
    running = running.then(async () => {
      const current = hub.definitions();
      for (const definition of current) {
        const feed = await hub.feedById(definition.id);
        const moved = await moveFolder(hub.shared.blobs, db, materializer, feed);
        if (moved && feed && Materializer.materializes(feed)) await materializeFeeds(hub, materializer, db, { mode: 'rebuild', feed: definition.name });
      }
      const ids = new Set(current.map((d) => d.id));
      for (const id of known) if (!ids.has(id)) await moveFolder(hub.shared.blobs, db, materializer, null, id);
      known.clear();
      for (const id of ids) known.add(id);
    }).catch(onError);
  };
  check();
  return hub.onDefinitionsChanged(check);
}
