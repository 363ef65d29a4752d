import { join } from 'node:path';
import type { KyselyPackageDatabase } from './kysely-database.js';
import { openPostgresDatabase } from './postgres.js';
import { openSqliteDatabase } from './sqlite.js';

/**
 * Opens the database a `database` setting names: `sqlite` (pawket.sqlite in the data dir), `sqlite:PATH`, or a
 * `postgres://` URL.
 */
export function openDatabase(setting: string, dataDir: string): Promise<KyselyPackageDatabase> {
  const file = sqliteFile(setting, dataDir);
  return file === null ? openPostgresDatabase(setting) : openSqliteDatabase(file);
}

/** The SQLite file a `database` setting names, or null for PostgreSQL. */
export function sqliteFile(setting: string, dataDir: string): string | null {
  if (setting.startsWith('postgres')) return null;
  return setting.startsWith('sqlite:') ? setting.slice('sqlite:'.length) : join(dataDir, 'pawket.sqlite');
}
