import type { Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Distinct statements kept prepared: far more than the queries Pawket has, so only odd one-offs are prepared again. */
const CAPACITY = 500;
/** Longer SQL (a batch insert with many rows) is prepared each time: rare, and a cached copy would hold its text and plan. */
const MAX_SQL_LENGTH = 4096;

/**
 * The SQLite connection as Kysely's SQLite dialect sees it, with each statement prepared once per SQL text instead of
 * on every query (Kysely prepares on every execution; for a cold lookup, preparing cost as much as running it).
 * Least recently used statements are finalized beyond CAPACITY. A statement is connection state, not transaction
 * state: BEGIN, COMMIT and ROLLBACK run through the same cache and leave cached statements valid, and SQLite prepares
 * again by itself when a migration changes the schema. A statement still being iterated (a streamed query) is busy:
 * a second use of the same SQL meanwhile gets a statement of its own.
 */
export function cachingStatements(db: Database, capacity = CAPACITY): SqliteDatabase {
  const statements = new Map<string, Statement>();
  return {
    close() {
      statements.clear();
      db.close();
    },
    prepare(sql: string) {
      if (sql.length > MAX_SQL_LENGTH) return db.prepare(sql);
      let statement = statements.get(sql);
      if (statement) {
        if (statement.busy) return db.prepare(sql);
        // Most recently used last: the first key is the one to drop.
        statements.delete(sql);
      } else {
        statement = db.prepare(sql);
        if (statements.size >= capacity) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
