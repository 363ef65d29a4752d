import { join } from 'node:path';
import type { KyselyPackageDatabase } from './kysely-database.js';
import { openSqliteDatabase } from './sqlite.js';

/**
 * Opens the database a `database` setting names: `sqlite` (pawket.sqlite in the data dir), `sqlite:PATH`, or a
 * `postgres://` URL.
 */
export async function openDatabase(setting: string, dataDir: string): Promise<KyselyPackageDatabase> {
  const file = sqliteFile(setting, dataDir);
  if (file !== null) return openSqliteDatabase(file);
  // Loaded only when used, like the AWS SDK: an embedded feed never pays for the PostgreSQL driver.
  const { openPostgresDatabase } = await import('./postgres.js');
  return openPostgresDatabase(setting);
}

/** The SQLite file a `database` setting names, or null for PostgreSQL. */
export function sqliteFile(setting: string, dataDir: string): string | null {
  if (setting.startsWith('postgres')) return null;
  return setting.startsWith('sqlite:') ? setting.slice('sqlite:'.length) : join(dataDir, 'pawket.sqlite');
}
