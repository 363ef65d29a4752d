import type { Kysely, Transaction } from 'kysely';
import { ACCESS_CHANGE_MARKER } from './access-database.js';
import type { PackageIdentity } from './database.js';
import type { AccessTables } from './kysely-access-database.js';
import { sql } from './kysely.js';
import type { StagingTables } from './kysely-staging-database.js';
import { insertSymbolRows, type SymbolTables } from './kysely-symbol-database.js';
import type { Tables } from './schema.js';
import type { PromotedStagedPackage, StagedPromotion, StagedPromotionOutcome } from './staging-database.js';

type Db = Tables & StagingTables & SymbolTables & AccessTables;

/** Thrown inside the transaction to roll it back, carrying the outcome to return. */
class RolledBack extends Error {
  constructor(readonly outcome: StagedPromotionOutcome) {
    super(outcome.status);
  }
}

/**
 * StagingDatabase.promote for one feed. Rows are copied with `INSERT ... SELECT`, so no nuspec passes through this
 * process, and each staged row is read as it is at commit time (staged again with other bytes: not promoted).
 * Parameters in a select list are cast: PostgreSQL does not infer their types there.
 */
export async function promoteStaged(kysely: Kysely<Tables>, feedId: number, promotion: StagedPromotion): Promise<StagedPromotionOutcome> {
  const db = kysely as unknown as Kysely<Db>;
  try {
    return await db.transaction().execute(async (tx) => {
      const conflicts: PackageIdentity[] = [];
      const changed: PackageIdentity[] = [];
      for (const pkg of promotion.packages) {
        const key = await insertPackageRow(tx, feedId, promotion, pkg);
        if (key === null) {
          (await isPublished(tx, feedId, pkg)) ? conflicts.push(identity(pkg)) : changed.push(identity(pkg));
          continue;
        }
        if (pkg.symbols && !(await stagedSymbolsUnchanged(tx, feedId, pkg))) changed.push(identity(pkg));
        else if (pkg.symbols) await insertSymbolRows(tx as unknown as Transaction<Tables & SymbolTables>, key, { ...pkg.symbols, published: promotion.published });
      }
      if (conflicts.length > 0) throw new RolledBack({ status: 'conflict', identities: conflicts });
      if (changed.length > 0) throw new RolledBack({ status: 'changed', identities: changed });

      for (const pkg of promotion.packages) {
        await tx.deleteFrom('staged_artifacts').where('feed_id', '=', feedId).where('lower_id', '=', pkg.lowerId).where('lower_version', '=', pkg.lowerVersion).execute();
      }
      if (promotion.lowerGroupId !== null) {
        // A package that joined the group while it was being promoted would be left in no group: promote again.
        const joined = await tx
          .selectFrom('staged_artifacts')
          .select(['lower_id', 'lower_version'])
          .where('feed_id', '=', feedId)
          .where('owner', '=', promotion.owner)
          .where('lower_group_id', '=', promotion.lowerGroupId)
          .execute();
        if (joined.length > 0) throw new RolledBack({ status: 'changed', identities: joined.map((r) => ({ lowerId: r.lower_id, lowerVersion: r.lower_version })) });
        await tx.deleteFrom('staging_groups').where('feed_id', '=', feedId).where('owner', '=', promotion.owner).where('lower_group_id', '=', promotion.lowerGroupId).execute();
      }

      let registered = false;
      const ids = new Map(promotion.packages.map((p) => [p.lowerId, p.claimOwners] as const));
      for (const [lowerId, owners] of ids) {
        if (owners.length > 0 && (await claim(tx, feedId, lowerId, owners, promotion.published))) registered = true;
        await tx.insertInto('changes').values({ feed_id: feedId, lower_id: lowerId }).execute();
      }
      if (registered) await tx.insertInto('changes').values({ feed_id: feedId, lower_id: ACCESS_CHANGE_MARKER }).execute();
      return { status: 'promoted' as const };
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.outcome;
    throw error;
  }
}

const identity = (p: PackageIdentity): PackageIdentity => ({ lowerId: p.lowerId, lowerVersion: p.lowerVersion });

/** The staged package as a package row; null when it is published already, or not staged with those bytes. */
async function insertPackageRow(tx: Transaction<Db>, feedId: number, promotion: StagedPromotion, pkg: PromotedStagedPackage): Promise<number | null> {
  const result = await sql<{ key: number }>`INSERT INTO packages
      (feed_id, id, lower_id, version, lower_version, full_version, original_version, is_prerelease, is_semver2, listed,
       published, size, sha512, blob_key, metadata, nuspec)
    SELECT feed_id, id, lower_id, version, lower_version, full_version, CAST(${pkg.originalVersion} AS text),
       CAST(${pkg.isPrerelease ? 1 : 0} AS integer), CAST(${pkg.isSemVer2 ? 1 : 0} AS integer), listed,
       CAST(${promotion.published} AS text), size, sha512, blob_key, metadata, nuspec
    FROM staged_artifacts
    WHERE feed_id = ${feedId} AND kind = 'package' AND lower_id = ${pkg.lowerId} AND lower_version = ${pkg.lowerVersion}
      AND sha512 = ${pkg.sha512} AND owner = ${promotion.owner} AND expires > ${promotion.published}
    ON CONFLICT (feed_id, lower_id, lower_version) DO NOTHING
    RETURNING key`.execute(tx);
  const row = result.rows[0];
  return row ? Number(row.key) : null;
}

async function isPublished(tx: Transaction<Db>, feedId: number, pkg: PackageIdentity): Promise<boolean> {
  const row = await tx.selectFrom('packages').select('key').where('feed_id', '=', feedId).where('lower_id', '=', pkg.lowerId).where('lower_version', '=', pkg.lowerVersion).executeTakeFirst();
  return row !== undefined;
}

/** The symbols whose PDBs were stored are still the staged ones. */
async function stagedSymbolsUnchanged(tx: Transaction<Db>, feedId: number, pkg: PromotedStagedPackage): Promise<boolean> {
  const row = await tx
    .selectFrom('staged_artifacts')
    .select('key')
    .where('feed_id', '=', feedId)
    .where('kind', '=', 'symbols')
    .where('lower_id', '=', pkg.lowerId)
    .where('lower_version', '=', pkg.lowerVersion)
    .where('sha512', '=', pkg.symbols!.sha512)
    .executeTakeFirst();
  return row !== undefined;
}

/** Registers an id for its owners (as a first push would); false when it was registered already. */
async function claim(tx: Transaction<Db>, feedId: number, lowerId: string, owners: readonly string[], at: string): Promise<boolean> {
  const registered = await tx
    .insertInto('package_registrations')
    .values({ feed_id: feedId, lower_id: lowerId, created: at })
    .onConflict((oc) => oc.columns(['feed_id', 'lower_id']).doNothing())
    .executeTakeFirst();
  if (Number(registered.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
  await tx
    .insertInto('package_owners')
    .values(owners.map((owner) => ({ feed_id: feedId, lower_id: lowerId, owner })))
    .onConflict((oc) => oc.columns(['feed_id', 'lower_id', 'owner']).doNothing())
    .execute();
  return true;
}
