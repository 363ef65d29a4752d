import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from './kysely.js';
import { keepingOriginalErrors } from './keep-original-errors.js';
import { KyselyPackageDatabase } from './kysely-database.js';
import { cachingStatements } from './statement-cache.js';
import type { Tables } from './schema.js';

/**
 * Opens (creating if needed) the embedded SQLite database and runs migrations.
 * WAL lets readers go on while a push commits; busy_timeout makes concurrent writers wait instead of failing.
 */
export async function openSqliteDatabase(file: string): Promise<KyselyPackageDatabase> {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new KyselyPackageDatabase(new Kysely<Tables>({ dialect: keepingOriginalErrors(new SqliteDialect({ database: cachingStatements(sqlite) }), () => !sqlite.inTransaction) }), 'sqlite');
  await db.migrate();
  return db;
}
