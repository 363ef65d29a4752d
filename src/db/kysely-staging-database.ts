import type { Generated, Kysely, Selectable } from 'kysely';
import { sql } from './kysely.js';
import type { FeedUsage } from './database.js';
import type { Tables } from './schema.js';
import type {
  ArtifactFilter,
  NewStagedArtifact,
  Page,
  StagedArtifactRecord,
  StagedKind,
  StagedStatus,
  StagingDatabase,
  StagingGroupRecord,
  StagingSweepDatabase,
  StagedPromotion,
  StagedPromotionOutcome,
  SweptArtifact,
} from './staging-database.js';
import { promoteStaged } from './kysely-staged-promotion.js';

/** Table shapes of staging-migrations.ts. */
export type StagingTables = {
  staging_groups: {
    feed_id: number;
    owner: string;
    lower_group_id: string;
    group_id: string;
    name: string;
    created: string;
    expires: string;
  };
  staged_artifacts: {
    key: Generated<number>;
    feed_id: number;
    kind: string;
    id: string;
    lower_id: string;
    version: string;
    lower_version: string;
    full_version: string;
    original_version: string | null;
    owner: string;
    lower_group_id: string | null;
    status: string;
    listed: number;
    size: number;
    sha512: string;
    blob_key: string;
    metadata: string;
    nuspec: Uint8Array | null;
    uploaded: string;
    validated: string | null;
    expires: string;
    /** When `staging.expiring` was announced (0013); null: not yet. */
    expiry_warned: string | null;
  };
};

type Db = Tables & StagingTables;
type ArtifactRow = Selectable<StagingTables['staged_artifacts']> & { published: unknown; has_parent: unknown };
type GroupRow = Selectable<StagingTables['staging_groups']> & { item_count: unknown; blocked_count: unknown };

/** SQLite answers 0/1, PostgreSQL true/false. */
const truthy = (v: unknown) => v === true || Number(v) === 1;

/** SQL: whether artifact `a` is published (a package row with its identity exists in its feed). */
const publishedSql = sql<boolean>`exists (select 1 from packages p where p.feed_id = a.feed_id and p.lower_id = a.lower_id and p.lower_version = a.lower_version)`;
/** SQL: whether artifact `a` has its package staged (always for packages). */
const parentSql = (now: string) =>
  sql<boolean>`(a.kind = 'package' or exists (select 1 from staged_artifacts s where s.feed_id = a.feed_id and s.kind = 'package' and s.lower_id = a.lower_id and s.lower_version = a.lower_version and s.expires > ${now}))`;

function toArtifact(r: ArtifactRow): StagedArtifactRecord {
  return {
    kind: r.kind as StagedKind,
    id: r.id,
    lowerId: r.lower_id,
    version: r.version,
    lowerVersion: r.lower_version,
    fullVersion: r.full_version,
    originalVersion: r.original_version,
    owner: r.owner,
    lowerGroupId: r.lower_group_id,
    status: r.status as StagedStatus,
    listed: Number(r.listed) === 1,
    size: Number(r.size),
    sha512: r.sha512,
    blobKey: r.blob_key,
    metadata: r.metadata,
    nuspec: r.nuspec,
    uploaded: r.uploaded,
    validated: r.validated,
    expires: r.expires,
    published: truthy(r.published),
    hasParent: truthy(r.has_parent),
  };
}

function toGroup(r: GroupRow): StagingGroupRecord {
  return {
    owner: r.owner,
    lowerGroupId: r.lower_group_id,
    groupId: r.group_id,
    name: r.name,
    created: r.created,
    expires: r.expires,
    itemCount: Number(r.item_count ?? 0),
    blockedCount: Number(r.blocked_count ?? 0),
  };
}

/** StagingDatabase over Kysely, for one feed. */
export class KyselyStagingDatabase implements StagingDatabase {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly feedId: number,
  ) {}

  private get k(): Kysely<Db> {
    return this.db as unknown as Kysely<Db>;
  }

  private artifacts(now: string) {
    return this.k
      .selectFrom('staged_artifacts as a')
      .selectAll('a')
      .select([publishedSql.as('published'), parentSql(now).as('has_parent')])
      .where('a.feed_id', '=', this.feedId)
      .where('a.expires', '>', now);
  }

  async getArtifact(kind: StagedKind, lowerId: string, lowerVersion: string, now: string): Promise<StagedArtifactRecord | null> {
    const row = await this.artifacts(now).where('a.kind', '=', kind).where('a.lower_id', '=', lowerId).where('a.lower_version', '=', lowerVersion).executeTakeFirst();
    return row ? toArtifact(row as ArtifactRow) : null;
  }

  async putArtifact(a: NewStagedArtifact): Promise<{ readonly inserted: boolean; readonly previousBlobKey: string | null }> {
    const values = {
      feed_id: this.feedId,
      kind: a.kind,
      id: a.id,
      lower_id: a.lowerId,
      version: a.version,
      lower_version: a.lowerVersion,
      full_version: a.fullVersion,
      original_version: a.originalVersion,
      owner: a.owner,
      lower_group_id: a.lowerGroupId,
      status: a.status,
      listed: a.listed ? 1 : 0,
      size: a.size,
      sha512: a.sha512,
      blob_key: a.blobKey,
      metadata: a.metadata,
      nuspec: a.nuspec,
      uploaded: a.uploaded,
      validated: a.validated,
      expires: a.expires,
    };
    return this.k.transaction().execute(async (tx) => {
      const previous = await tx
        .deleteFrom('staged_artifacts')
        .where('feed_id', '=', this.feedId)
        .where('kind', '=', a.kind)
        .where('lower_id', '=', a.lowerId)
        .where('lower_version', '=', a.lowerVersion)
        .returning('blob_key')
        .executeTakeFirst();
      // A concurrent first staging of the same identity that committed first wins; the caller answers 409.
      const inserted = await tx
        .insertInto('staged_artifacts')
        .values(values)
        .onConflict((oc) => oc.columns(['feed_id', 'kind', 'lower_id', 'lower_version']).doNothing())
        .executeTakeFirst();
      return { inserted: Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0, previousBlobKey: previous?.blob_key ?? null };
    });
  }

  async deleteArtifact(kind: StagedKind, lowerId: string, lowerVersion: string): Promise<string | null> {
    const row = await this.k
      .deleteFrom('staged_artifacts')
      .where('feed_id', '=', this.feedId)
      .where('kind', '=', kind)
      .where('lower_id', '=', lowerId)
      .where('lower_version', '=', lowerVersion)
      .returning('blob_key')
      .executeTakeFirst();
    return row?.blob_key ?? null;
  }

  async listArtifacts(filter: ArtifactFilter, now: string, offset: number, limit: number): Promise<Page<StagedArtifactRecord>> {
    let q = this.artifacts(now);
    if (filter.kind) q = q.where('a.kind', '=', filter.kind);
    if (filter.owners) q = filter.owners.length ? q.where('a.owner', 'in', [...filter.owners]) : q.where(sql<boolean>`1 = 0`);
    if (filter.group) q = q.where('a.owner', '=', filter.group.owner).where('a.lower_group_id', '=', filter.group.lowerGroupId);
    const total = await q
      .clearSelect()
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    const rows = await q.orderBy('a.lower_id').orderBy('a.lower_version').orderBy('a.kind').offset(offset).limit(limit).execute();
    return { items: rows.map((r) => toArtifact(r as ArtifactRow)), totalCount: Number(total?.n ?? 0) };
  }

  async setGroup(lowerId: string, lowerVersion: string, lowerGroupId: string | null): Promise<void> {
    await this.k.updateTable('staged_artifacts').set({ lower_group_id: lowerGroupId }).where('feed_id', '=', this.feedId).where('lower_id', '=', lowerId).where('lower_version', '=', lowerVersion).execute();
  }

  async setExpiry(lowerId: string, lowerVersion: string, expires: string): Promise<void> {
    // A new expiry deserves a new warning; the same one keeps it (a sweep may have warned of a row just staged).
    const warned = sql<string | null>`case when expires = ${expires} then expiry_warned else null end`;
    await this.k.updateTable('staged_artifacts').set({ expires, expiry_warned: warned }).where('feed_id', '=', this.feedId).where('lower_id', '=', lowerId).where('lower_version', '=', lowerVersion).execute();
  }

  private groups(now: string) {
    const members = sql`from staged_artifacts a where a.feed_id = g.feed_id and a.owner = g.owner and a.lower_group_id = g.lower_group_id and a.expires > ${now}`;
    return this.k
      .selectFrom('staging_groups as g')
      .selectAll('g')
      .select([
        sql<number>`(select count(*) ${members})`.as('item_count'),
        sql<number>`(select count(*) ${members} and (${publishedSql} or not ${parentSql(now)}))`.as('blocked_count'),
      ])
      .where('g.feed_id', '=', this.feedId)
      .where('g.expires', '>', now);
  }

  async getGroup(owner: string, lowerGroupId: string, now: string): Promise<StagingGroupRecord | null> {
    const row = await this.groups(now).where('g.owner', '=', owner).where('g.lower_group_id', '=', lowerGroupId).executeTakeFirst();
    return row ? toGroup(row as GroupRow) : null;
  }

  async findGroups(owners: readonly string[] | null, lowerGroupId: string, now: string): Promise<StagingGroupRecord[]> {
    if (owners && owners.length === 0) return [];
    let q = this.groups(now).where('g.lower_group_id', '=', lowerGroupId);
    if (owners) q = q.where('g.owner', 'in', [...owners]);
    return (await q.orderBy('g.owner').execute()).map((r) => toGroup(r as GroupRow));
  }

  async listGroups(owners: readonly string[] | null, now: string, offset: number, limit: number): Promise<Page<StagingGroupRecord>> {
    if (owners && owners.length === 0) return { items: [], totalCount: 0 };
    let q = this.groups(now);
    if (owners) q = q.where('g.owner', 'in', [...owners]);
    const total = await q
      .clearSelect()
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    const rows = await q.orderBy('g.owner').orderBy('g.lower_group_id').offset(offset).limit(limit).execute();
    return { items: rows.map((r) => toGroup(r as GroupRow)), totalCount: Number(total?.n ?? 0) };
  }

  async countGroups(owner: string, now: string): Promise<number> {
    const row = await this.k
      .selectFrom('staging_groups')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('feed_id', '=', this.feedId)
      .where('owner', '=', owner)
      .where('expires', '>', now)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async createGroup(group: Omit<StagingGroupRecord, 'itemCount' | 'blockedCount'>, now: string): Promise<boolean> {
    // An expired group (not yet swept) gives way to the new one.
    await this.k.deleteFrom('staging_groups').where('feed_id', '=', this.feedId).where('owner', '=', group.owner).where('lower_group_id', '=', group.lowerGroupId).where('expires', '<=', now).execute();
    const inserted = await this.k
      .insertInto('staging_groups')
      .values({ feed_id: this.feedId, owner: group.owner, lower_group_id: group.lowerGroupId, group_id: group.groupId, name: group.name, created: group.created, expires: group.expires })
      .onConflict((oc) => oc.columns(['feed_id', 'owner', 'lower_group_id']).doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async renameGroup(owner: string, lowerGroupId: string, name: string): Promise<void> {
    await this.k.updateTable('staging_groups').set({ name }).where('feed_id', '=', this.feedId).where('owner', '=', owner).where('lower_group_id', '=', lowerGroupId).execute();
  }

  async setGroupExpiry(owner: string, lowerGroupId: string, expires: string): Promise<void> {
    await this.k.updateTable('staging_groups').set({ expires }).where('feed_id', '=', this.feedId).where('owner', '=', owner).where('lower_group_id', '=', lowerGroupId).execute();
  }

  async deleteGroup(owner: string, lowerGroupId: string): Promise<string[]> {
    return this.k.transaction().execute(async (tx) => {
      const members = await tx
        .deleteFrom('staged_artifacts')
        .where('feed_id', '=', this.feedId)
        .where('owner', '=', owner)
        .where('lower_group_id', '=', lowerGroupId)
        .returning('blob_key')
        .execute();
      await tx.deleteFrom('staging_groups').where('feed_id', '=', this.feedId).where('owner', '=', owner).where('lower_group_id', '=', lowerGroupId).execute();
      return members.map((m) => m.blob_key);
    });
  }

  async usage(): Promise<FeedUsage> {
    const row = await this.k
      .selectFrom('staged_artifacts')
      .select((eb) => [eb.fn.countAll().as('packages'), eb.fn.sum('size').as('bytes')])
      .where('feed_id', '=', this.feedId)
      .where('kind', '=', 'package')
      .executeTakeFirst();
    return { packages: Number(row?.packages ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  promote(promotion: StagedPromotion): Promise<StagedPromotionOutcome> {
    return promoteStaged(this.db, this.feedId, promotion);
  }

  async countGroupPackages(owner: string, lowerGroupId: string, now: string): Promise<number> {
    return this.countPackages(owner, now, lowerGroupId);
  }

  async countOwnerPackages(owner: string, now: string): Promise<number> {
    return this.countPackages(owner, now, null);
  }

  /** The owner's unexpired staged packages, of one group or all. */
  private async countPackages(owner: string, now: string, lowerGroupId: string | null): Promise<number> {
    let q = this.k
      .selectFrom('staged_artifacts')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('feed_id', '=', this.feedId)
      .where('owner', '=', owner)
      .where('kind', '=', 'package')
      .where('expires', '>', now);
    if (lowerGroupId !== null) q = q.where('lower_group_id', '=', lowerGroupId);
    const row = await q.executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async previewPackages(owner: string, lowerGroupId: string, lowerIds: readonly string[], now: string): Promise<StagedArtifactRecord[] | null> {
    const group = await this.k
      .selectFrom('staging_groups')
      .select('lower_group_id')
      .where('feed_id', '=', this.feedId)
      .where('owner', '=', owner)
      .where('lower_group_id', '=', lowerGroupId)
      .where('expires', '>', now)
      .executeTakeFirst();
    if (!group) return null;
    if (lowerIds.length === 0) return [];
    const rows = await this.artifacts(now)
      .where('a.kind', '=', 'package')
      .where('a.owner', '=', owner)
      .where('a.lower_group_id', '=', lowerGroupId)
      .where('a.lower_id', 'in', [...lowerIds])
      .execute();
    return rows.map((r) => toArtifact(r as ArtifactRow));
  }
}

/** What the sweep returns of an artifact row it changed: the group's id as created, read from its group row. */
const sweptColumns = [
  'feed_id',
  'kind',
  'id',
  'full_version',
  'owner',
  'expires',
  'blob_key',
  sql<string | null>`(select g.group_id from staging_groups g where g.feed_id = staged_artifacts.feed_id and g.owner = staged_artifacts.owner and g.lower_group_id = staged_artifacts.lower_group_id)`.as('group_id'),
] as const;

type SweptRow = Pick<Selectable<StagingTables['staged_artifacts']>, 'feed_id' | 'kind' | 'id' | 'full_version' | 'owner' | 'expires' | 'blob_key'> & { group_id: string | null };

const toSwept = (r: SweptRow): SweptArtifact => ({
  feedId: Number(r.feed_id),
  kind: r.kind as StagedKind,
  id: r.id,
  fullVersion: r.full_version,
  owner: r.owner,
  groupId: r.group_id,
  expires: r.expires,
  blobKey: r.blob_key,
});

/** The expiry sweep over every feed's staging rows. */
export class KyselyStagingSweep implements StagingSweepDatabase {
  constructor(private readonly db: Kysely<Tables>) {}

  async deleteExpired(now: string): Promise<SweptArtifact[]> {
    const k = this.db as unknown as Kysely<Db>;
    return k.transaction().execute(async (tx) => {
      // Each row is returned by the one delete that removed it: the point where its expiry is announced once.
      const gone = await tx.deleteFrom('staged_artifacts').where('expires', '<=', now).returning([...sweptColumns]).execute();
      await tx
        .deleteFrom('staging_groups as g')
        .where('g.expires', '<=', now)
        .where(sql<boolean>`not exists (select 1 from staged_artifacts a where a.feed_id = g.feed_id and a.owner = g.owner and a.lower_group_id = g.lower_group_id)`)
        .execute();
      return gone.map((r) => toSwept(r as SweptRow));
    });
  }

  async claimExpiryWarnings(now: string, before: string): Promise<SweptArtifact[]> {
    const k = this.db as unknown as Kysely<Db>;
    // Conditional on the column still being null: of nodes claiming at once, one gets each row.
    const warned = await k
      .updateTable('staged_artifacts')
      .set({ expiry_warned: now })
      .where('expiry_warned', 'is', null)
      .where('expires', '>', now)
      .where('expires', '<=', before)
      .returning([...sweptColumns])
      .execute();
    return warned.map((r) => toSwept(r as SweptRow));
  }
}

/** Whether a staged artifact of any feed references this blob (the orphan sweep and every "still used?" check). */
export async function isStagedBlobReferenced(db: Kysely<Tables>, blobKey: string): Promise<boolean> {
  const row = await (db as unknown as Kysely<Db>).selectFrom('staged_artifacts').select('key').where('blob_key', '=', blobKey).executeTakeFirst();
  return row !== undefined;
}
