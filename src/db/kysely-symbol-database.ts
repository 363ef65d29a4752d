import type { Generated, Kysely, Selectable, Transaction } from 'kysely';
import { DEFAULT_FEED_ID } from './feed-migrations.js';
import type { Tables } from './schema.js';
import type {
  NewSymbolPackage,
  PutSymbolsOutcome,
  SymbolDatabase,
  SymbolFileRecord,
  SymbolPackageRecord,
} from './symbol-database.js';

type SymbolPackagesTable = {
  key: Generated<number>;
  package_key: number;
  package_sha512: string;
  size: number;
  sha512: string;
  blob_key: string;
  published: string;
};

type SymbolFilesTable = {
  symbol_package_key: number;
  path: string;
  ssqp_key: string;
  size: number;
  blob_key: string;
  checksums: string;
};

/** Table shapes of symbol-migrations.ts. */
export type SymbolTables = {
  symbol_packages: SymbolPackagesTable;
  symbol_files: SymbolFilesTable;
};

type Db = Tables & SymbolTables;

/** PostgreSQL's foreign_key_violation: the package row went away between our read and our insert. */
const FOREIGN_KEY_VIOLATION = '23503';

function toFile(r: Selectable<SymbolFilesTable>): SymbolFileRecord {
  return {
    path: r.path,
    ssqpKey: r.ssqp_key,
    size: Number(r.size),
    blobKey: r.blob_key,
    checksums: JSON.parse(r.checksums) as string[],
  };
}

/** SymbolDatabase over the same Kysely instance (and dialects) as the packages. */
export class KyselySymbolDatabase implements SymbolDatabase {
  private readonly db: Kysely<Db>;

  constructor(
    db: Kysely<Tables>,
    /** The feed whose symbols this instance sees (through their packages' rows). */
    private readonly feedId: number = DEFAULT_FEED_ID,
  ) {
    this.db = db.withTables<SymbolTables>();
  }

  async putSymbolPackage(symbols: NewSymbolPackage, replace: boolean): Promise<PutSymbolsOutcome> {
    try {
      return await this.db.transaction().execute(async (tx): Promise<PutSymbolsOutcome> => {
        const pkg = await tx
          .selectFrom('packages')
          .select(['key', 'sha512'])
          .where('feed_id', '=', this.feedId)
          .where('lower_id', '=', symbols.lowerId)
          .where('lower_version', '=', symbols.lowerVersion)
          .executeTakeFirst();
        if (!pkg) return { status: 'no-package' };
        if (pkg.sha512 !== symbols.packageSha512) return { status: 'package-changed' };
        const previous = await tx
          .selectFrom('symbol_packages')
          .select(['key', 'blob_key'])
          .where('package_key', '=', pkg.key)
          .executeTakeFirst();
        let previousBlobKeys: string[] = [];
        if (previous) {
          if (!replace) return { status: 'exists' };
          const files = await tx.selectFrom('symbol_files').select('blob_key').where('symbol_package_key', '=', previous.key).execute();
          previousBlobKeys = [previous.blob_key, ...files.map((f) => f.blob_key)];
          // The files go with it (ON DELETE CASCADE).
          await tx.deleteFrom('symbol_packages').where('key', '=', previous.key).execute();
        }
        if (!(await this.insertSymbols(tx, pkg.key, symbols))) return { status: 'exists' };
        return previous ? { status: 'replaced', previousBlobKeys } : { status: 'inserted' };
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return { status: 'no-package' };
      throw error;
    }
  }

  async getSymbolPackage(lowerId: string, lowerVersion: string): Promise<SymbolPackageRecord | null> {
    const row = await this.db
      .selectFrom('symbol_packages as s')
      .innerJoin('packages as p', 'p.key', 's.package_key')
      .select(['p.lower_id', 'p.lower_version', 's.size', 's.sha512', 's.blob_key', 's.published', 's.package_sha512'])
      .where('p.feed_id', '=', this.feedId)
      .where('p.lower_id', '=', lowerId)
      .where('p.lower_version', '=', lowerVersion)
      .executeTakeFirst();
    if (!row) return null;
    return {
      lowerId: row.lower_id,
      lowerVersion: row.lower_version,
      size: Number(row.size),
      sha512: row.sha512,
      blobKey: row.blob_key,
      published: row.published,
      packageSha512: row.package_sha512,
    };
  }

  async getSymbolPackageWithFiles(lowerId: string, lowerVersion: string): Promise<NewSymbolPackage | null> {
    const row = await this.db
      .selectFrom('symbol_packages as s')
      .innerJoin('packages as p', 'p.key', 's.package_key')
      .select(['s.key', 's.size', 's.sha512', 's.blob_key', 's.published', 's.package_sha512'])
      .where('p.feed_id', '=', this.feedId)
      .where('p.lower_id', '=', lowerId)
      .where('p.lower_version', '=', lowerVersion)
      .executeTakeFirst();
    if (!row) return null;
    const files = await this.db.selectFrom('symbol_files').selectAll().where('symbol_package_key', '=', row.key).orderBy('path').execute();
    return {
      lowerId,
      lowerVersion,
      size: Number(row.size),
      sha512: row.sha512,
      blobKey: row.blob_key,
      published: row.published,
      packageSha512: row.package_sha512,
      files: files.map(toFile),
    };
  }

  async findSymbolFiles(ssqpKey: string, limit: number): Promise<SymbolFileRecord[]> {
    const rows = await this.db
      .selectFrom('symbol_files as f')
      .innerJoin('symbol_packages as s', 's.key', 'f.symbol_package_key')
      .innerJoin('packages as p', 'p.key', 's.package_key')
      .selectAll('f')
      .where('f.ssqp_key', '=', ssqpKey)
      .where('p.feed_id', '=', this.feedId)
      .limit(limit)
      .execute();
    return rows.map(toFile);
  }

  async symbolBlobKeys(lowerId: string, lowerVersion: string): Promise<string[]> {
    const symbols = await this.db
      .selectFrom('symbol_packages as s')
      .innerJoin('packages as p', 'p.key', 's.package_key')
      .select(['s.key', 's.blob_key'])
      .where('p.feed_id', '=', this.feedId)
      .where('p.lower_id', '=', lowerId)
      .where('p.lower_version', '=', lowerVersion)
      .executeTakeFirst();
    if (!symbols) return [];
    const files = await this.db.selectFrom('symbol_files').select('blob_key').where('symbol_package_key', '=', symbols.key).execute();
    return [symbols.blob_key, ...files.map((f) => f.blob_key)];
  }

  async scanSymbolPackages(after: number, limit: number): Promise<{ cursor: number; records: NewSymbolPackage[] }> {
    const rows = await this.db
      .selectFrom('symbol_packages as s')
      .innerJoin('packages as p', 'p.key', 's.package_key')
      .select(['s.key', 'p.lower_id', 'p.lower_version', 's.size', 's.sha512', 's.blob_key', 's.published', 's.package_sha512'])
      .where('p.feed_id', '=', this.feedId)
      .where('s.key', '>', after)
      .orderBy('s.key')
      .limit(limit)
      .execute();
    const last = rows.at(-1);
    if (!last) return { cursor: after, records: [] };
    const files = await this.db
      .selectFrom('symbol_files')
      .selectAll()
      .where('symbol_package_key', 'in', rows.map((r) => r.key))
      .orderBy('symbol_package_key')
      .orderBy('path')
      .execute();
    const records = rows.map((r) => ({
      lowerId: r.lower_id,
      lowerVersion: r.lower_version,
      size: Number(r.size),
      sha512: r.sha512,
      blobKey: r.blob_key,
      published: r.published,
      packageSha512: r.package_sha512,
      files: files.filter((f) => Number(f.symbol_package_key) === Number(r.key)).map(toFile),
    }));
    return { cursor: Number(last.key), records };
  }

  async copySymbolPackage(symbols: NewSymbolPackage): Promise<'inserted' | 'exists' | 'no-package'> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const pkg = await tx
          .selectFrom('packages')
          .select('key')
          .where('feed_id', '=', this.feedId)
          .where('lower_id', '=', symbols.lowerId)
          .where('lower_version', '=', symbols.lowerVersion)
          .executeTakeFirst();
        if (!pkg) return 'no-package';
        const inserted = await this.insertSymbols(tx, pkg.key, symbols);
        return inserted ? 'inserted' : 'exists';
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return 'no-package';
      throw error;
    }
  }

  /** The symbols row and its files, unless the version has symbols already (false). */
  private async insertSymbols(tx: Transaction<Db>, packageKey: number, symbols: NewSymbolPackage): Promise<boolean> {
    const inserted = await tx
      .insertInto('symbol_packages')
      .values({
        package_key: packageKey,
        package_sha512: symbols.packageSha512,
        size: symbols.size,
        sha512: symbols.sha512,
        blob_key: symbols.blobKey,
        published: symbols.published,
      })
      // A concurrent push of the same symbols (PostgreSQL) waits for the first and then inserts nothing.
      .onConflict((oc) => oc.column('package_key').doNothing())
      .returning('key')
      .executeTakeFirst();
    if (!inserted) return false;
    const rows = symbols.files.map((f) => ({
      symbol_package_key: inserted.key,
      path: f.path,
      ssqp_key: f.ssqpKey,
      size: f.size,
      blob_key: f.blobKey,
      checksums: JSON.stringify(f.checksums),
    }));
    for (let i = 0; i < rows.length; i += 500) await tx.insertInto('symbol_files').values(rows.slice(i, i + 500)).execute();
    return true;
  }

  async isSymbolBlobReferenced(blobKey: string): Promise<boolean> {
    const pkg = await this.db.selectFrom('symbol_packages').select('key').where('blob_key', '=', blobKey).executeTakeFirst();
    if (pkg) return true;
    const file = await this.db.selectFrom('symbol_files').select('path').where('blob_key', '=', blobKey).executeTakeFirst();
    return file !== undefined;
  }
}
