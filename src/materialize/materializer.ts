import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Config } from '../config/schema.js';
import type { MaterializeDatabase } from '../db/materialize-database.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import type { Feed } from '../feed/feed.js';
import { ALIVE_MS } from '../feed/read-fence.js';
import { indexPaths, pagePath, renderIdDocuments, versionPaths, type IdDocuments, type JsonDocument } from './documents.js';
import { blobKeyOf, documentPaths, JSON_GZIP_META, materializedBase, JSON_META, nupkgMeta, nuspecMeta, PRIVATE_ROOT, PUBLIC_ROOT, type FeedFolder } from './layout.js';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** What was written for one id: digests per version, page and index (so a change writes only what differs). */
interface Manifest {
  v: Record<string, string>;
  p: Record<string, string>;
  i: Record<string, string>;
}

const EMPTY: Manifest = { v: {}, p: {}, i: {} };
const digest = (bytes: Buffer) => createHash('sha1').update(bytes).digest('base64url').slice(0, 16);
const WRITES_IN_FLIGHT = 8;
/** PostgreSQL makes a change visible after later-numbered ones now and then: the sweep looks this far back again. */
const LOOKBACK = 1000;
const SWEEP_BATCH = 5000;
const LOW_WATER = 'low-water';

/** How one id's materialization went. */
export interface IdReport {
  readonly written: number;
  readonly removed: number;
  /** verify: documents that differed from what the routes serve (and were rewritten). */
  readonly mismatched: readonly string[];
}

export type MaterializeMode = 'changes' | 'rebuild' | 'verify';

export interface MaterializerOptions {
  /** Names this process in leases (unique per process). */
  readonly holder: string;
  readonly onError: (err: unknown) => void;
  readonly leaseMs?: number;
  readonly sweepIntervalMs?: number;
}

/** The feed parts materialization reads. */
export type MaterializedFeed = Pick<Feed, 'definition' | 'config' | 'reader' | 'advisories' | 'upstream' | 'virtual' | 'events'>;

/**
 * Keeps each feed's restore documents as finished files in the blob store (docs/DEPLOYMENT.md): the versions list,
 * package files, nuspecs and all three registration hives, plain and gzip, exactly as the routes render them for the
 * public URL. A change here writes its id's documents at once; changes made elsewhere (other nodes, commands) are
 * found by a sweep over the change log. Files are written before the documents that point at them, and removed after
 * the documents stop pointing at them; one writer per id at a time across nodes (a lease), and each writer reads the
 * database after taking it, so nodes converge on the latest state.
 */
export class Materializer {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly again = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;
  private readonly leaseMs: number;

  constructor(
    private readonly config: Config,
    private readonly db: MaterializeDatabase,
    private readonly blobs: BlobStore,
    private readonly feeds: { byId(id: number): Promise<MaterializedFeed | null> },
    private readonly options: MaterializerOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
  }

  /** Feeds with upstreams or members answer with documents made per request: those stay dynamic. */
  static materializes(feed: Pick<MaterializedFeed, 'upstream' | 'virtual'>): boolean {
    return !feed.upstream && !feed.virtual;
  }

  /** The public base URL a feed's documents link to. */
  baseOf(feed: Pick<MaterializedFeed, 'definition'>): string {
    return materializedBase(this.config, feed.definition);
  }

  /** The nodes' base URL of a feed: where its documents link icons and readmes, which no static file holds. */
  private nodeBaseOf(feed: Pick<MaterializedFeed, 'definition'>): string {
    return materializedBase({ baseUrl: this.config.baseUrl }, feed.definition);
  }

  folderOf(feed: Pick<MaterializedFeed, 'definition' | 'config'>): FeedFolder {
    return {
      root: feed.config.private ? PRIVATE_ROOT : PUBLIC_ROOT,
      prefix: feed.definition.id === DEFAULT_FEED_ID ? '' : `f/${feed.definition.name}/`,
    };
  }

  /** Materializes every change made through this feed's use cases in this process, as it happens. */
  watch(feed: MaterializedFeed): () => void {
    if (!Materializer.materializes(feed)) return () => {};
    return feed.events.onPackageChanged((lowerId, remote) => {
      if (!remote && !lowerId.startsWith('#')) void this.request(feed.definition.id, lowerId).catch(this.options.onError);
    });
  }

  /**
   * Brings one id's documents up to date. Requests for an id being written share one more run after it, which reads
   * the database afresh: what changed meanwhile is included.
   */
  request(feedId: number, lowerId: string): Promise<void> {
    const key = `${feedId}|${lowerId}`;
    const running = this.inFlight.get(key);
    if (running) {
      let next = this.again.get(key);
      if (!next) {
        next = running.catch(() => {}).then(() => {
          this.again.delete(key);
          return this.request(feedId, lowerId);
        });
        this.again.set(key, next);
      }
      return next;
    }
    const run = this.runLeased(feedId, lowerId, 'changes')
      .then(() => {})
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, run);
    return run;
  }

  /**
   * Resolves when the id's documents include what changed before this call, or after `timeoutMs` (a push answers
   * then, and the documents follow): a client that pushes and then restores through the front sees its package.
   */
  async settled(feedId: number, lowerId: string, timeoutMs = 10_000): Promise<void> {
    const key = `${feedId}|${lowerId}`;
    const pending = this.again.get(key) ?? this.inFlight.get(key);
    if (!pending) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pending.catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Resolves when every request made so far has finished (tests, commands that exit after a change). */
  async idle(): Promise<void> {
    while (this.inFlight.size || this.again.size || this.sweeping) {
      await Promise.allSettled([...this.inFlight.values(), ...this.again.values(), this.sweeping]);
    }
  }

  /** One id, under its lease: waits while another node writes it (it may have read the database before our change). */
  async runLeased(feedId: number, lowerId: string, mode: MaterializeMode): Promise<IdReport> {
    const feed = await this.feeds.byId(feedId);
    if (!feed || !Materializer.materializes(feed)) return { written: 0, removed: 0, mismatched: [] };
    const { holder } = this.options;
    const claim = () => this.db.claim(feedId, lowerId, holder, Date.now(), Date.now() + this.leaseMs, new Date(Date.now() - ALIVE_MS).toISOString());
    let state = await claim();
    for (let wait = 50; !state; wait = Math.min(wait * 2, 1000)) {
      if (this.stopped) throw new Error('The materializer stopped.');
      await new Promise((r) => setTimeout(r, wait));
      state = await claim();
    }
    const renewal = setInterval(() => void this.db.renew(feedId, lowerId, holder, Date.now() + this.leaseMs).catch(this.options.onError), this.leaseMs / 3);
    renewal.unref();
    try {
      const seq = await this.db.head();
      const old = state.manifest ? (JSON.parse(state.manifest) as Manifest) : EMPTY;
      const { report, manifest } = await this.materialize(feed, lowerId, old, mode);
      await this.db.finish(feedId, lowerId, holder, seq, JSON.stringify(manifest));
      return report;
    } catch (e) {
      await this.db.release(feedId, lowerId, holder).catch(() => {});
      throw e;
    } finally {
      clearInterval(renewal);
    }
  }

  /**
   * Writes what differs from `old` (mode 'changes'), everything ('rebuild'), or what differs from the stored files
   * ('verify'); then removes what `old` had and the id no longer has. Rebuild and verify also remove files of the id
   * that no manifest knows (left by a crash between writing and recording).
   */
  private async materialize(feed: MaterializedFeed, lid: string, old: Manifest, mode: MaterializeMode): Promise<{ report: IdReport; manifest: Manifest }> {
    const versions = await feed.reader.versions(lid);
    const docs = renderIdDocuments(this.baseOf(feed), lid, versions, await feed.advisories.forId(lid), this.nodeBaseOf(feed));
    const folder = this.folderOf(feed);
    const key = (path: string) => blobKeyOf(folder, path);
    const allowOverwrite = feed.config.allowOverwrite;
    const manifest: Manifest = { v: {}, p: {}, i: {} };
    const mismatched: string[] = [];
    let written = 0;

    /** Writes a JSON document and its gzip twin, unless verifying finds both as they should be. */
    const putJson = async (doc: JsonDocument) => {
      if (mode === 'verify' && (await this.jsonMatches(key(doc.path), doc.bytes))) return;
      if (mode === 'verify') mismatched.push(doc.path);
      await this.blobs.putBytes(key(`${doc.path}.gz`), await gzip(doc.bytes, { level: 6 }), JSON_GZIP_META);
      await this.blobs.putBytes(key(doc.path), doc.bytes, JSON_META);
      written++;
    };
    const putVersion = async (v: IdDocuments['versions'][number]) => {
      const nupkg = documentPaths.nupkg(lid, v.lowerVersion);
      if (mode !== 'verify' || !(await this.fileMatches(key(nupkg), v.sha512))) {
        if (mode === 'verify') mismatched.push(nupkg);
        if (!(await this.blobs.copy(v.blobKey, key(nupkg), nupkgMeta(lid, v.lowerVersion, allowOverwrite)))) {
          // The routes answer 404 for it too; leaving it out lets the front ask Node, which logs it.
          this.options.onError(new Error(`Package file ${v.blobKey} is missing from storage; ${lid} ${v.lowerVersion} was not materialized.`));
        }
      }
      const nuspecPath = documentPaths.nuspec(lid, v.lowerVersion);
      const nuspec = await feed.reader.nuspec(lid, v.lowerVersion);
      if (nuspec && (mode !== 'verify' || !(await this.bytesMatch(key(nuspecPath), nuspec)))) {
        if (mode === 'verify') mismatched.push(nuspecPath);
        await this.blobs.putBytes(key(nuspecPath), nuspec, nuspecMeta(allowOverwrite));
      }
      for (const leaf of v.leaves()) await putJson(leaf);
      written++;
    };

    // Files first, then the pages and indexes that point at them.
    await inBatches(
      docs.versions.filter((v) => mode !== 'changes' || old.v[v.lowerVersion] !== v.digest),
      putVersion,
    );
    for (const v of docs.versions) manifest.v[v.lowerVersion] = v.digest;
    await inBatches(docs.pages.filter((p) => mode !== 'changes' || old.p[p.key] !== p.digest), (p) => putJson(p.render()));
    for (const p of docs.pages) manifest.p[p.key] = p.digest;
    for (const doc of docs.indexes) {
      const d = digest(doc.bytes);
      if (mode !== 'changes' || old.i[doc.path] !== d) await putJson(doc);
      manifest.i[doc.path] = d;
    }

    // Then what nothing points at any more: indexes of hives the id left, pages, versions.
    const stale: string[] = [];
    stale.push(...Object.keys(old.i).filter((p) => !(p in manifest.i)));
    stale.push(...Object.keys(old.p).filter((k) => !(k in manifest.p)).map((k) => pagePath(lid, k)));
    stale.push(...Object.keys(old.v).filter((v) => !(v in manifest.v)).flatMap((v) => versionPaths(lid, v)));
    if (mode !== 'changes') stale.push(...(await this.unknownFiles(folder, lid, docs, manifest)));
    const removed = new Set(stale.flatMap((p) => (p.endsWith('.json') ? [p, `${p}.gz`] : [p])));
    await inBatches([...removed], (p) => this.blobs.delete(key(p)));
    return { report: { written, removed: removed.size, mismatched }, manifest };
  }

  /** Files under the id's folders that its documents do not include (a crash between writing and recording). */
  private async unknownFiles(folder: FeedFolder, lid: string, docs: IdDocuments, manifest: Manifest): Promise<string[]> {
    const wanted = new Set<string>();
    for (const v of docs.versions) {
      wanted.add(documentPaths.nupkg(lid, v.lowerVersion));
      wanted.add(documentPaths.nuspec(lid, v.lowerVersion));
      for (const l of v.leaves()) wanted.add(l.path);
    }
    for (const p of docs.pages) wanted.add(p.path);
    for (const p of Object.keys(manifest.i)) wanted.add(p);
    const folders = [...new Set(indexPaths(lid).map((p) => p.slice(0, p.lastIndexOf('/') + 1)))];
    const unknown: string[] = [];
    const base = folder.root + folder.prefix;
    for (const f of folders) {
      for await (const blob of this.blobs.list(base + f)) {
        const path = blob.key.slice(base.length);
        const plain = path.endsWith('.gz') ? path.slice(0, -3) : path;
        if (!wanted.has(plain) || (path.endsWith('.gz') && !plain.endsWith('.json'))) unknown.push(path);
      }
    }
    return unknown;
  }

  private async jsonMatches(key: string, bytes: Buffer): Promise<boolean> {
    if (!(await this.bytesMatch(key, bytes))) return false;
    const gz = await this.blobs.readRange(`${key}.gz`, 0, bytes.length * 2 + 1024);
    if (!gz) return false;
    try {
      return (await gunzip(gz)).equals(bytes);
    } catch {
      return false;
    }
  }

  private async bytesMatch(key: string, bytes: Buffer): Promise<boolean> {
    const stored = await this.blobs.readRange(key, 0, bytes.length + 1);
    return stored !== null && stored.equals(bytes);
  }

  /** A stored package file is right when its SHA-512 is the row's. */
  private async fileMatches(key: string, sha512: string): Promise<boolean> {
    const content = await this.blobs.open(key);
    if (!content) return false;
    const hash = createHash('sha512');
    if (content.bytes) return hash.update(content.bytes).digest('base64') === sha512;
    for await (const chunk of content.stream) hash.update(chunk as Buffer);
    return hash.digest('base64') === sha512;
  }

  /**
   * Starts the background work of a serving node: a sweep of the change log now and every few seconds, which writes
   * the ids changed by other nodes or commands whose documents are older than their change (a node that stopped
   * mid-write is caught up here). It looks back only to where the last sweep found everything written.
   */
  async start(): Promise<void> {
    // Every few change polls: one indexed query over the changes since the low-water mark.
    const interval = this.options.sweepIntervalMs ?? Math.max(1000, this.config.changePollInterval * 4);
    try {
      if ((await this.db.progress(LOW_WATER)) === null) await this.db.setProgress(LOW_WATER, String(await this.db.head()));
    } catch (e) {
      this.options.onError(e);
    }
    if (this.stopped) return;
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), interval);
    this.timer.unref();
  }

  /** One sweep; concurrent calls share it. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce()
      .catch(this.options.onError)
      .finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const low = Number((await this.db.progress(LOW_WATER)) ?? 0);
    const changes = await this.db.changedSince(low, SWEEP_BATCH);
    if (!changes.length) return;
    const byFeed = new Map<number, typeof changes>();
    for (const c of changes) byFeed.set(c.feedId, [...(byFeed.get(c.feedId) ?? []), c]);
    let failedAt = Infinity;
    for (const [feedId, list] of byFeed) {
      const seqs = await this.db.seqs(feedId, list.map((c) => c.lowerId));
      const behind = list.filter((c) => (seqs.get(c.lowerId) ?? 0) < c.seq);
      await inBatches(behind, async (c) => {
        try {
          await this.request(feedId, c.lowerId);
        } catch (e) {
          failedAt = Math.min(failedAt, c.seq);
          this.options.onError(e);
        }
      });
    }
    const highest = changes.reduce((m, c) => Math.max(m, c.seq), low);
    const next = Math.min(failedAt - 1, changes.length === SWEEP_BATCH ? highest : highest - LOOKBACK);
    if (next > low) await this.db.setProgress(LOW_WATER, String(next));
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}

/** Runs `work` over items, a bounded number at a time. */
async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, items.length) }, worker));
}
