import { join } from 'node:path';
import type { KyselyPackageDatabase } from './kysely-database.js';
import { openPostgresDatabase } from './postgres.js';
import { openSqliteDatabase } from './sqlite.js';

/**
 * Opens the database a `database` setting names: `sqlite` (pawket.sqlite in the data dir), `sqlite:PATH`, or a
 * `postgres://` URL.
 */
export function openDatabase(setting: string, dataDir: string): Promise<KyselyPackageDatabase> {
  if (setting.startsWith('postgres')) return openPostgresDatabase(setting);
  const file = setting.startsWith('sqlite:') ? setting.slice('sqlite:'.length) : join(dataDir, 'pawket.sqlite');
  return openSqliteDatabase(file);
}
