import { resolve } from 'node:path';
import { openBlobStore } from '../blobs/open.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { AccessDatabase } from '../db/access-database.js';
import type { AdvisoryDatabase } from '../db/advisory-database.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { KyselyAdvisoryDatabase } from '../db/kysely-advisory-database.js';
import { KyselySymbolDatabase } from '../db/kysely-symbol-database.js';
import { openDatabase } from '../db/open.js';
import type { SymbolDatabase } from '../db/symbol-database.js';
import type { FeedStorage } from '../feed/copy.js';

/** Opens (and migrates) the database and blob store a config names, without starting a server. */
export async function openStorage(config: Config): Promise<
  FeedStorage & { readonly advisoryDb: AdvisoryDatabase; readonly accessDb: AccessDatabase; readonly symbolDb: SymbolDatabase; close(): Promise<void> }
> {
  const dataDir = resolve(config.dataDir);
  const db = await openDatabase(config.database, dataDir);
  const blobs = await openBlobStore(config, dataDir);
  return {
    db,
    blobs,
    advisoryDb: new KyselyAdvisoryDatabase(db.kysely),
    accessDb: new KyselyAccessDatabase(db.kysely),
    symbolDb: new KyselySymbolDatabase(db.kysely),
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
