import SQLite from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { keepingOriginalErrors } from '../../../src/db/keep-original-errors.js';

/** A transaction whose statement fails after the transaction ended, so that Kysely's ROLLBACK fails too. */
async function failBothWays(db: Kysely<Record<string, never>>): Promise<unknown> {
  return db
    .transaction()
    .execute(async (tx) => {
      await sql`commit`.execute(tx);
      await sql`select * from missing_table`.execute(tx);
    })
    .then(
      () => null,
      (e: unknown) => e,
    );
}

describe('a transaction whose rollback fails too', () => {
  it('fails with the error that made it roll back, the rollback failure attached', async () => {
    const sqlite = new SQLite(':memory:');
    // Never skipping the ROLLBACK: the path a PostgreSQL connection takes.
    const db = new Kysely<Record<string, never>>({ dialect: keepingOriginalErrors(new SqliteDialect({ database: sqlite })) });
    const error = (await failBothWays(db)) as Error & { rollbackFailure?: string };
    expect(error.message).toMatch(/no such table: missing_table/);
    expect(error.rollbackFailure).toMatch(/cannot rollback - no transaction is active/);
    await db.destroy();
  });

  it('skips the ROLLBACK when SQLite has rolled back by itself', async () => {
    const sqlite = new SQLite(':memory:');
    const db = new Kysely<Record<string, never>>({ dialect: keepingOriginalErrors(new SqliteDialect({ database: sqlite }), () => !sqlite.inTransaction) });
    const error = (await failBothWays(db)) as Error & { rollbackFailure?: string };
    expect(error.message).toMatch(/no such table: missing_table/);
    expect(error.rollbackFailure).toBeUndefined();
    await db.destroy();
  });

  it('without it, Kysely reports only the failed rollback', async () => {
    const db = new Kysely<Record<string, never>>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    expect(((await failBothWays(db)) as Error).message).toMatch(/cannot rollback/);
    await db.destroy();
  });
});
