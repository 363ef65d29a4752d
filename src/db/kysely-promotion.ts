import type { Kysely, Transaction } from 'kysely';
import { sql } from './kysely.js';
import { ACCESS_CHANGE_MARKER } from './access-database.js';
import type { PackageIdentity, PromotedPackage, PromotionOutcome } from './database.js';
import type { AccessTables } from './kysely-access-database.js';
import type { AdvisoryTables } from './kysely-advisory-database.js';
import type { SymbolTables } from './kysely-symbol-database.js';
import type { Tables } from './schema.js';

type Db = Tables & SymbolTables & AdvisoryTables & AccessTables;

/** Thrown inside the transaction to roll it back, carrying the outcome to return. */
class RolledBack extends Error {
  constructor(readonly outcome: PromotionOutcome) {
    super(outcome.status);
  }
}

/**
 * Promotion's one transaction (PackageDatabase.promotePackages): rows are copied inside the database with
 * `INSERT ... SELECT`, so a nuspec (up to 1 MiB each) never passes through this process and the source row is read as
 * it is at commit time. Parameters in a select list are cast: PostgreSQL does not infer their types there.
 */
export async function promotePackages(
  kysely: Kysely<Tables>,
  fromFeedId: number,
  toFeedId: number,
  packages: readonly PromotedPackage[],
): Promise<PromotionOutcome> {
  const db = kysely.withTables<SymbolTables & AdvisoryTables & AccessTables>();
  try {
    return await db.transaction().execute(async (tx) => {
      const conflicts: PackageIdentity[] = [];
      const changed: PackageIdentity[] = [];
      const inserted: Array<{ pkg: PromotedPackage; sourceKey: number; key: number }> = [];
      for (const pkg of packages) {
        const source = await tx
          .selectFrom('packages')
          .select('key')
          .where('feed_id', '=', fromFeedId)
          .where('lower_id', '=', pkg.lowerId)
          .where('lower_version', '=', pkg.lowerVersion)
          .where('sha512', '=', pkg.sha512)
          .executeTakeFirst();
        if (!source) {
          changed.push(identity(pkg));
          continue;
        }
        const key = await copyPackageRow(tx, Number(source.key), toFeedId, pkg);
        if (key === null) conflicts.push(identity(pkg));
        else inserted.push({ pkg, sourceKey: Number(source.key), key });
      }
      if (conflicts.length > 0) throw new RolledBack({ status: 'conflict', identities: conflicts });
      if (changed.length > 0) throw new RolledBack({ status: 'source-changed', identities: changed });

      for (const { pkg, sourceKey, key } of inserted) {
        await copyMirrorMark(tx, fromFeedId, toFeedId, pkg);
        await sql`INSERT INTO deprecations (package_key, reasons, message, alternate_id, alternate_range, updated_at)
          SELECT CAST(${key} AS integer), reasons, message, alternate_id, alternate_range, updated_at
          FROM deprecations WHERE package_key = ${sourceKey}`.execute(tx);
        if (pkg.symbols) await insertSymbols(tx, key, pkg);
      }
      const ids = [...new Set(packages.map((p) => p.lowerId))];
      let registered = false;
      for (const lowerId of ids) {
        if (await copyRegistration(tx, fromFeedId, toFeedId, lowerId)) registered = true;
        await tx.insertInto('changes').values({ feed_id: toFeedId, lower_id: lowerId }).execute();
      }
      if (registered) await tx.insertInto('changes').values({ feed_id: toFeedId, lower_id: ACCESS_CHANGE_MARKER }).execute();
      return { status: 'promoted' as const };
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.outcome;
    throw error;
  }
}

const identity = (p: PackageIdentity): PackageIdentity => ({ lowerId: p.lowerId, lowerVersion: p.lowerVersion });

/** The source row under this feed, with its new file key and publish time; null when the identity is here already. */
async function copyPackageRow(tx: Transaction<Db>, sourceKey: number, toFeedId: number, pkg: PromotedPackage): Promise<number | null> {
  const result = await sql<{ key: number }>`INSERT INTO packages
      (feed_id, id, lower_id, version, lower_version, full_version, original_version, is_prerelease, is_semver2, listed,
       published, size, sha512, blob_key, metadata, nuspec)
    SELECT CAST(${toFeedId} AS integer), id, lower_id, version, lower_version, full_version, original_version, is_prerelease,
       is_semver2, listed, CAST(${pkg.published} AS text), size, sha512, CAST(${pkg.blobKey} AS text), metadata, nuspec
    FROM packages WHERE key = ${sourceKey}
    ON CONFLICT (feed_id, lower_id, lower_version) DO NOTHING
    RETURNING key`.execute(tx);
  const row = result.rows[0];
  return row ? Number(row.key) : null;
}

/** A version mirrored into the source stays marked as mirrored (as `pawket copy` keeps it); a stale mark here goes. */
async function copyMirrorMark(tx: Transaction<Db>, fromFeedId: number, toFeedId: number, pkg: PackageIdentity): Promise<void> {
  await tx
    .deleteFrom('upstream_packages')
    .where('feed_id', '=', toFeedId)
    .where('lower_id', '=', pkg.lowerId)
    .where('lower_version', '=', pkg.lowerVersion)
    .execute();
  await sql`INSERT INTO upstream_packages (feed_id, lower_id, lower_version, upstream, mirrored_at)
    SELECT CAST(${toFeedId} AS integer), lower_id, lower_version, upstream, mirrored_at FROM upstream_packages
    WHERE feed_id = ${fromFeedId} AND lower_id = ${pkg.lowerId} AND lower_version = ${pkg.lowerVersion}`.execute(tx);
}

async function insertSymbols(tx: Transaction<Db>, packageKey: number, pkg: PromotedPackage): Promise<void> {
  const symbols = pkg.symbols!;
  const row = await tx
    .insertInto('symbol_packages')
    .values({
      package_key: packageKey,
      package_sha512: symbols.packageSha512,
      size: symbols.size,
      sha512: symbols.sha512,
      blob_key: symbols.blobKey,
      published: pkg.published,
    })
    .returning('key')
    .executeTakeFirstOrThrow();
  const files = symbols.files.map((f) => ({
    symbol_package_key: row.key,
    path: f.path,
    ssqp_key: f.ssqpKey,
    size: f.size,
    blob_key: f.blobKey,
    checksums: JSON.stringify(f.checksums),
  }));
  for (let i = 0; i < files.length; i += 500) await tx.insertInto('symbol_files').values(files.slice(i, i + 500)).execute();
}

/**
 * Registers an id this feed has not registered with the source feed's owners (true); an id the source never
 * registered (copied or mirrored there) stays unregistered here too, and one registered here keeps its owners.
 */
async function copyRegistration(tx: Transaction<Db>, fromFeedId: number, toFeedId: number, lowerId: string): Promise<boolean> {
  const now = new Date().toISOString();
  const registered = await sql<{ lower_id: string }>`INSERT INTO package_registrations (feed_id, lower_id, created)
    SELECT CAST(${toFeedId} AS integer), lower_id, CAST(${now} AS text) FROM package_registrations
    WHERE feed_id = ${fromFeedId} AND lower_id = ${lowerId}
    ON CONFLICT (feed_id, lower_id) DO NOTHING
    RETURNING lower_id`.execute(tx);
  if (registered.rows.length === 0) return false;
  await sql`INSERT INTO package_owners (feed_id, lower_id, owner)
    SELECT CAST(${toFeedId} AS integer), lower_id, owner FROM package_owners WHERE feed_id = ${fromFeedId} AND lower_id = ${lowerId}
    ON CONFLICT (feed_id, lower_id, owner) DO NOTHING`.execute(tx);
  return true;
}
