import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { BlobStore } from '../blobs/blob-store.js';
import { openBlobStore } from '../blobs/open.js';
import type { Config } from '../config/schema.js';
import type { Change } from '../db/database.js';
import { FEEDS_CHANGE_MARKER, type FeedDatabase } from '../db/feed-database.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import type { KyselyPackageDatabase } from '../db/kysely-database.js';
import { KyselyFeedDatabase } from '../db/kysely-feed-database.js';
import { KyselyFenceDatabase } from '../db/kysely-fence-database.js';
import { KyselySymbolDatabase } from '../db/kysely-symbol-database.js';
import type { Kysely } from 'kysely';
import { openDatabase } from '../db/open.js';
import type { Tables } from '../db/schema.js';
import { ApiKeyAuthenticator } from './auth.js';
import { ChangeWatcher } from './change-watcher.js';
import { KyselyPeopleDatabase, type PeopleTables } from '../db/kysely-people-database.js';
import { People } from '../people/people.js';
import { SessionStore } from '../people/sessions.js';
import { composeFeed, type Feed, type OpenedFeed } from './feed.js';
import { toDefinition, type FeedDefinition } from './feed-definitions.js';
import { FileBytesCache } from './file-bytes-cache.js';
import { sweepOrphanBlobs } from './orphans.js';
import { JournaledBlobStore, PENDING_BLOB_GRACE_MS, sweepPendingBlobs } from './pending-blobs.js';
import { KyselyPendingBlobDatabase } from '../db/kysely-pending-blob-database.js';
import { ReadFence } from './read-fence.js';
import { IssuerKeys } from '../trust/issuer-keys.js';
import { KyselyMaterializeDatabase } from '../db/kysely-materialize-database.js';
import { Materializer } from '../materialize/materializer.js';
import { openTempArea, type TempArea } from './temp-area.js';
import { loadRepositorySigningKeys, type RepositorySigningKeys } from '../signing/repository-signer.js';

export interface OpenHubOptions {
  /** Log sink for background failures (change polling); the server passes its logger. */
  readonly onBackgroundError?: (err: unknown) => void;
}

/** What every feed of the process shares. */
export interface HubShared {
  readonly config: Config;
  /** The database as the default feed sees it; `forFeed` gives the others. */
  readonly db: KyselyPackageDatabase;
  readonly kysely: Kysely<Tables>;
  readonly blobs: JournaledBlobStore;
  /** Keys are the server's: one authenticator, each feed checks that a key is valid on it. */
  readonly auth: ApiKeyAuthenticator;
  /** Blob keys carry their feed's prefix, so one cache serves every feed. */
  readonly fileBytes: FileBytesCache | null;
  readonly dataDir: string;
  readonly tempDir: string;
  readonly onError: (err: unknown) => void;
  /** People who sign in (people/people.ts): the server's, like keys. */
  readonly people: People;
  readonly sessions: SessionStore;
  /** Signing keys of the OIDC issuers trust policies name (trusted publishing). */
  readonly issuerKeys: IssuerKeys;
  /** Writes restore documents into the blob store when `materialize` is on (docs/DEPLOYMENT.md); null otherwise. */
  readonly materializer: Materializer | null;
  /** The repository certificate and key packages are signed with (docs/SIGNING.md); null when signing is off. */
  readonly repositorySigning: RepositorySigningKeys | null;
}

/**
 * The feeds of one server process (docs/FEEDS.md): the parts they share, the feed definitions kept in memory (finding a
 * request's feed never queries the database), and each feed's use cases, composed when first used. Definitions are
 * reloaded when any node changes them (a `#feeds` change row).
 */
export class FeedHub {
  private byName = new Map<string, FeedDefinition>();
  private readonly opened = new Map<number, Promise<OpenedFeed>>();
  private readonly listeners: Array<() => void> = [];
  private reloading: Promise<void> | undefined;
  private nextReload: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly shared: HubShared,
    readonly feedDb: FeedDatabase,
    private readonly watcher: ChangeWatcher,
    /** Makes a change of many ids appear at once on every node (promotion of a staging group). */
    readonly fence: ReadFence,
    private readonly temp: TempArea,
    private defaultOpened: OpenedFeed | undefined,
  ) {}

  static async open(config: Config, options: OpenHubOptions = {}): Promise<FeedHub> {
    const dataDir = resolve(config.dataDir);
    const onError = options.onBackgroundError ?? (() => {});
    // First: a certificate that cannot be used stops start-up before anything is opened.
    const repositorySigning = await loadRepositorySigningKeys(config);
    const db = await openDatabase(config.database, dataDir);
    // Every write of a file a row will point to is journaled first, so orphans are found without listing the store.
    const blobs = new JournaledBlobStore(await openBlobStore(config, dataDir), new KyselyPendingBlobDatabase(db.kysely));
    // Other processes may be using the data dir at this moment (a server beside `pawket gc`): each has its own temporary
    // folder, and only what a gone process left is removed (feed/temp-area.ts).
    const temp = await openTempArea(join(dataDir, 'tmp'), { onError });
    const peopleDb = new KyselyPeopleDatabase(db.kysely as unknown as Kysely<PeopleTables>);
    const people = new People(peopleDb, config.signIn);
    const auth = new ApiKeyAuthenticator(new KyselyAccessDatabase(db.kysely), config.apiKeys, { onError });
    auth.setKeyHolders(people);
    const nodeId = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    let hub: FeedHub | undefined;
    const materializer =
      config.materialize || config.readBaseUrl
        ? new Materializer(config, new KyselyMaterializeDatabase(db.kysely), blobs, { byId: (id) => hub!.feedById(id) }, { holder: nodeId, onError })
        : null;
    const shared: HubShared = {
      config,
      materializer,
      db,
      kysely: db.kysely,
      blobs,
      auth,
      people,
      issuerKeys: new IssuerKeys(),
      repositorySigning,
      sessions: new SessionStore(peopleDb, { idleTimeoutMs: config.signIn.idleTimeout * 1000, maxAgeMs: config.signIn.maxAge * 1000 }),
      fileBytes: config.packageBytesCacheSize > 0 ? new FileBytesCache(config.packageBytesCacheSize) : null,
      dataDir,
      tempDir: temp.dir,
      onError,
    };
    // Other nodes (or processes on the same SQLite file) change feeds too; their changes reach our caches here.
    const watcher = new ChangeWatcher(db, (change) => hub?.dispatch(change), onError);
    const fence = new ReadFence(new KyselyFenceDatabase(db.kysely), nodeId, {
      catchUp: () => watcher.catchUp(),
      onError,
    });
    hub = new FeedHub(shared, new KyselyFeedDatabase(db.kysely, db.sqlDialect), watcher, fence, temp, undefined);
    await hub.reloadDefinitions();
    // Alive before watching: a fence raised from now on waits for this node, and one raised just before is replayed.
    await fence.start();
    await watcher.start(config.changePollInterval, (change) => change.lowerId.startsWith('#fence'));
    hub.defaultOpened = await hub.openFeed(hub.definitionById(DEFAULT_FEED_ID)!);
    return hub;
  }

  /** The feed at the unprefixed URLs, which holds every row written before feeds existed. */
  get defaultFeed(): Feed {
    return this.defaultOpened!.feed;
  }

  /** Every feed, by id. */
  definitions(): FeedDefinition[] {
    return [...this.byName.values()].sort((a, b) => a.id - b.id);
  }

  /** A feed by name (case-insensitive), from memory. */
  definition(name: string): FeedDefinition | undefined {
    return this.byName.get(name.toLowerCase());
  }

  definitionById(id: number): FeedDefinition | undefined {
    for (const d of this.byName.values()) if (d.id === id) return d;
    return undefined;
  }

  /** A feed's use cases by name, composed on first use; null when there is no such feed. */
  async feed(name: string): Promise<Feed | null> {
    const definition = this.definition(name);
    return definition ? (await this.openFeed(definition)).feed : null;
  }

  /** A feed's use cases by id, composed on first use; null when there is no such feed. */
  async feedById(id: number): Promise<Feed | null> {
    const definition = this.definitionById(id);
    return definition ? (await this.openFeed(definition)).feed : null;
  }

  /** Called after feed definitions change (created, updated, deleted), here or on another node; returns what stops it. */
  onDefinitionsChanged(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /**
   * Reads the definitions again; feeds whose definition changed are composed again when next used. Resolves once a read
   * that started after the call is applied (a write followed by this call is always seen): a call during a read waits
   * for one more, which every call made meanwhile shares.
   */
  reloadDefinitions(): Promise<void> {
    if (!this.reloading) {
      this.reloading = this.loadDefinitions().finally(() => (this.reloading = undefined));
      return this.reloading;
    }
    this.nextReload ??= this.reloading.catch(() => {}).then(() => {
      this.nextReload = undefined;
      return this.reloadDefinitions();
    });
    return this.nextReload;
  }

  private async loadDefinitions(): Promise<void> {
    const records = await this.feedDb.listFeeds();
    const next = new Map(records.map((r) => [r.name.toLowerCase(), toDefinition(this.shared.config, r, r.id === DEFAULT_FEED_ID)] as const));
    const before = this.byName;
    this.byName = next;
    let changed = before.size !== next.size;
    for (const [name, old] of before) {
      const now = next.get(name);
      if (now && JSON.stringify(now) === JSON.stringify(old)) continue;
      changed = true;
      // The default feed keeps its composition (the server holds it); other feeds are composed again on next use.
      if (old.id === DEFAULT_FEED_ID) continue;
      const opened = this.opened.get(old.id);
      this.opened.delete(old.id);
      void opened?.then((o) => o.stop(), () => {});
    }
    if (changed) for (const listener of [...this.listeners]) listener();
  }

  private openFeed(definition: FeedDefinition): Promise<OpenedFeed> {
    let opened = this.opened.get(definition.id);
    if (!opened) {
      opened = composeFeed(this, this.shared, definition);
      this.opened.set(definition.id, opened);
      opened.catch(() => this.opened.delete(definition.id));
    }
    return opened;
  }

  /** A change from any node: a feed's caches drop the id (and so do virtual feeds that include it). */
  private dispatch(change: Change): void {
    if (this.fence.observe(change.lowerId)) return;
    if (change.lowerId === FEEDS_CHANGE_MARKER) {
      void this.reloadDefinitions().catch(this.shared.onError);
      return;
    }
    for (const [id, opened] of this.opened) {
      const definition = this.definitionById(id);
      if (id !== change.feedId && !definition?.members?.includes(change.feedId)) continue;
      void opened.then((o) => o.feed.events.packageChanged(change.lowerId, true), () => {});
    }
  }

  /** Whether any row of any feed points to a blob: rows store full keys, so a reference is a global question. */
  private isBlobReferenced(): (key: string) => Promise<boolean> {
    const { db, kysely } = this.shared;
    const symbolDb = new KyselySymbolDatabase(kysely);
    return async (key) => (await db.isBlobReferenced(key)) || (await symbolDb.isSymbolBlobReferenced(key));
  }

  /**
   * Removes files left by crashed writes, from the journal of writes (feed/pending-blobs.ts): the work is proportional to
   * recent writes, so the server runs it at start-up and on a timer. `now` is for tests.
   */
  sweepPendingBlobs(now = Date.now()): Promise<string[]> {
    const { blobs, kysely } = this.shared;
    return sweepPendingBlobs(new KyselyPendingBlobDatabase(kysely), blobs.unjournaled, { isReferenced: this.isBlobReferenced(), now });
  }

  /**
   * Removes every file no row points to by listing the whole store (`pawket gc`): also files a crash left before the
   * journal existed, and a deleted feed's. `now` is for tests, which cannot wait for a file to be old enough.
   */
  sweepOrphans(dryRun = false, now = Date.now()): Promise<string[]> {
    return sweepOrphanBlobs({ isBlobReferenced: this.isBlobReferenced() }, this.shared.blobs.unjournaled, PENDING_BLOB_GRACE_MS, now, dryRun);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A command that changed something leaves its documents written before it exits.
    await this.shared.materializer?.idle();
    this.shared.materializer?.stop();
    this.watcher.stop();
    await this.fence.stop();
    for (const opened of this.opened.values()) {
      const o = await opened.catch(() => null);
      o?.stop();
    }
    this.shared.blobs.close?.();
    await this.shared.db.close();
    await this.temp.close();
  }
}
