import { resolve } from 'node:path';
import { openBlobStore } from '../blobs/open.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { AccessDatabase } from '../db/access-database.js';
import type { AdvisoryDatabase } from '../db/advisory-database.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { KyselyAdvisoryDatabase } from '../db/kysely-advisory-database.js';
import { KyselyFeedDatabase } from '../db/kysely-feed-database.js';
import { KyselySymbolDatabase } from '../db/kysely-symbol-database.js';
import { KyselySignerPolicyDatabase } from '../db/kysely-signer-policy-database.js';
import type { SignerPolicyDatabase } from '../db/signer-policy-database.js';
import { KyselyPendingBlobDatabase } from '../db/kysely-pending-blob-database.js';
import { openDatabase } from '../db/open.js';
import type { SymbolDatabase } from '../db/symbol-database.js';
import type { FeedStorage, ServerStorage } from '../feed/copy.js';
import { JournaledBlobStore } from '../feed/pending-blobs.js';

/** Every store of one feed. */
export interface OpenedFeedStorage extends FeedStorage {
  readonly advisoryDb: AdvisoryDatabase;
  readonly accessDb: AccessDatabase;
  readonly symbolDb: SymbolDatabase;
  readonly signerDb: SignerPolicyDatabase;
}

/** A server's stores, and the default feed's beside them. */
export interface OpenedStorage extends ServerStorage, OpenedFeedStorage {
  feed(id: number): OpenedFeedStorage;
  close(): Promise<void>;
}

/** Opens (and migrates) the database and blob store a config names, without starting a server. */
export async function openStorage(config: Config): Promise<OpenedStorage> {
  const dataDir = resolve(config.dataDir);
  const db = await openDatabase(config.database, dataDir);
  // Copies write files before rows, like pushes: journaled, so a crash in between leaves nothing a server cannot find.
  const blobs = new JournaledBlobStore(await openBlobStore(config, dataDir), new KyselyPendingBlobDatabase(db.kysely));
  const feed = (id: number): OpenedFeedStorage => ({
    db: id === db.feedId ? db : db.forFeed(id),
    blobs,
    advisoryDb: new KyselyAdvisoryDatabase(db.kysely, id),
    accessDb: new KyselyAccessDatabase(db.kysely, id),
    symbolDb: new KyselySymbolDatabase(db.kysely, id),
    signerDb: new KyselySignerPolicyDatabase(db.kysely, id),
  });
  return {
    ...feed(DEFAULT_FEED_ID),
    feedDb: new KyselyFeedDatabase(db.kysely, db.sqlDialect),
    feed,
    async close() {
      blobs.close?.();
      await db.close();
    },
  };
}

/** A config file for one side of a copy; the environment does not apply, so both sides are exactly as written. */
export function configFromFile(file: string): Config {
  return loadConfig({ file, env: {} });
}
