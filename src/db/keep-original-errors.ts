import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';

/**
 * Kysely rolls a failed transaction back and, when that rollback fails as well, throws the rollback's error in place
 * of the one that made the transaction fail: a write on a full disk was logged as SQLite's "cannot rollback - no
 * transaction is active", and "database or disk is full" was lost. This wrapper keeps the error that matters.
 *
 * - `rolledBackAlready` (SQLite: the connection is no longer in a transaction) skips a ROLLBACK that can only fail:
 *   SQLite rolls back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, SQLITE_BUSY).
 * - Any other failed rollback rethrows the first statement (or COMMIT) error of the transaction, the rollback's message
 *   attached as `rollbackFailure`. An error the transaction's code threw itself, with no failed statement before it,
 *   is not seen here; a rollback failing after it is rare (a dropped connection) and its error is thrown as is.
 *
 * @example new Kysely<Tables>({ dialect: keepingOriginalErrors(new SqliteDialect({ database }), () => !database.inTransaction) })
 */
export function keepingOriginalErrors(dialect: Dialect, rolledBackAlready: () => boolean = () => false): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new OriginalErrorDriver(dialect.createDriver(), rolledBackAlready),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

/** A connection that remembers the first statement that failed since its transaction began. */
class TrackedConnection implements DatabaseConnection {
  failure: { readonly error: unknown } | null = null;

  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(query);
    } catch (error) {
      this.failure ??= { error };
      throw error;
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class OriginalErrorDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly rolledBackAlready: () => boolean,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new TrackedConnection(await this.inner.acquireConnection());
  }

  // The inner driver gets its own connection object: the PostgreSQL driver calls private methods on it.
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const tracked = connection as TrackedConnection;
    tracked.failure = null;
    await this.inner.beginTransaction(tracked.inner, settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const tracked = connection as TrackedConnection;
    try {
      await this.inner.commitTransaction(tracked.inner);
    } catch (error) {
      tracked.failure ??= { error };
      throw error;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const tracked = connection as TrackedConnection;
    if (this.rolledBackAlready()) return;
    try {
      await this.inner.rollbackTransaction(tracked.inner);
    } catch (rollbackError) {
      const original = tracked.failure?.error;
      if (!(original instanceof Error)) throw rollbackError;
      Object.assign(original, { rollbackFailure: (rollbackError as Error).message ?? String(rollbackError) });
      throw original;
    }
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as TrackedConnection).inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
