import { Kysely, PostgresDialect } from './kysely.js';
import pg from 'pg';
import { keepingOriginalErrors } from './keep-original-errors.js';
import { KyselyPackageDatabase } from './kysely-database.js';
import type { Tables } from './schema.js';

/**
 * Connects to PostgreSQL (the scale-out database) and runs migrations; Kysely's migration lock keeps several nodes
 * starting at once from migrating twice.
 */
export async function openPostgresDatabase(url: string, poolSize = 10): Promise<KyselyPackageDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  const db = new KyselyPackageDatabase(new Kysely<Tables>({ dialect: keepingOriginalErrors(new PostgresDialect({ pool })) }), 'postgres');
  try {
    await db.migrate();
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}
