import type { Generated, Kysely, Selectable, Transaction } from 'kysely';
import { sql } from './kysely.js';
import {
  ACCESS_CHANGE_MARKER,
  type AccessDatabase,
  type ApiKeyRecord,
  type AuditEntry,
  type AuditQuery,
  type KeyScope,
  type NewAuditEntry,
  type PrefixReservation,
  type RegisteredId,
  type Registration,
  type StoredApiKey,
} from './access-database.js';
import { DEFAULT_FEED_ID } from './feed-migrations.js';
import type { Tables } from './schema.js';

type ApiKeysTable = {
  key_id: string;
  hash: string;
  hint: string;
  name: string;
  owner: string;
  scopes: string;
  patterns: string;
  created: string;
  created_by: string;
  expires: string | null;
  last_used: string | null;
  revoked: string | null;
  /** JSON array of feed ids the key is valid on; null: every feed. */
  feeds: string | null;
  /** The person who made the key (people-migrations.ts), or null. */
  user_id: number | null;
};

type AuditLogTable = {
  seq: Generated<number>;
  feed_id: Generated<number>;
  at: string;
  key_id: string | null;
  actor: string;
  owner: string | null;
  action: string;
  target: string;
  detail: string | null;
  address: string | null;
};

/** Table shapes of access-migrations.ts. */
export type AccessTables = {
  api_keys: ApiKeysTable;
  package_registrations: { feed_id: Generated<number>; lower_id: string; created: string };
  package_owners: { feed_id: Generated<number>; lower_id: string; owner: string };
  prefix_reservations: { feed_id: Generated<number>; pattern: string; owner: string; created: string };
  audit_log: AuditLogTable;
};

type Db = Tables & AccessTables;

const keyColumns = [
  'key_id', 'hash', 'hint', 'name', 'owner', 'scopes', 'patterns', 'created', 'created_by', 'expires', 'last_used', 'revoked', 'feeds', 'user_id',
] as const;

function toKey(r: Selectable<ApiKeysTable>): StoredApiKey {
  return {
    keyId: r.key_id,
    hash: r.hash,
    hint: r.hint,
    name: r.name,
    owner: r.owner,
    scopes: JSON.parse(r.scopes) as KeyScope[],
    patterns: JSON.parse(r.patterns) as string[],
    created: r.created,
    createdBy: r.created_by,
    expires: r.expires,
    lastUsed: r.last_used,
    revoked: r.revoked,
    feeds: r.feeds === null ? null : (JSON.parse(r.feeds) as number[]),
    userId: r.user_id === null ? null : Number(r.user_id),
  };
}

function keyRow(key: StoredApiKey): ApiKeysTable {
  return {
    key_id: key.keyId,
    hash: key.hash,
    hint: key.hint,
    name: key.name,
    owner: key.owner,
    scopes: JSON.stringify(key.scopes),
    patterns: JSON.stringify(key.patterns),
    created: key.created,
    created_by: key.createdBy,
    expires: key.expires,
    last_used: key.lastUsed,
    revoked: key.revoked,
    feeds: key.feeds === null ? null : JSON.stringify(key.feeds),
    user_id: key.userId ?? null,
  };
}

function auditRow(entry: NewAuditEntry, feedId: number) {
  return {
    feed_id: feedId,
    at: entry.at,
    key_id: entry.keyId,
    actor: entry.actor,
    owner: entry.owner,
    action: entry.action,
    target: entry.target,
    detail: entry.detail,
    address: entry.address,
  };
}

function toAuditEntry(r: Selectable<AuditLogTable>): AuditEntry {
  return {
    seq: Number(r.seq),
    feedId: Number(r.feed_id),
    at: r.at,
    keyId: r.key_id,
    actor: r.actor,
    owner: r.owner,
    action: r.action,
    target: r.target,
    detail: r.detail,
    address: r.address,
  };
}

function withoutHash(k: StoredApiKey): ApiKeyRecord {
  const { hash: _hash, ...record } = k;
  return record;
}

async function recordAccessChange(tx: Transaction<Db>, feedId: number): Promise<void> {
  await tx.insertInto('changes').values({ feed_id: feedId, lower_id: ACCESS_CHANGE_MARKER }).execute();
}

/**
 * AccessDatabase over the same Kysely instance (and dialects) as the packages. Ownership and prefix reservations are
 * the feed's; keys and the audit log are the server's (an audit entry records the feed it happened in).
 */
export class KyselyAccessDatabase implements AccessDatabase {
  private readonly db: Kysely<Db>;

  constructor(
    db: Kysely<Tables>,
    readonly feedId: number = DEFAULT_FEED_ID,
  ) {
    this.db = db.withTables<AccessTables>();
  }

  async insertKey(key: StoredApiKey): Promise<void> {
    await this.db.insertInto('api_keys').values(keyRow(key)).execute();
  }

  async findKeyByHash(hash: string): Promise<StoredApiKey | null> {
    const row = await this.db.selectFrom('api_keys').select(keyColumns).where('hash', '=', hash).executeTakeFirst();
    return row ? toKey(row) : null;
  }

  async getKey(keyId: string): Promise<ApiKeyRecord | null> {
    const row = await this.db.selectFrom('api_keys').select(keyColumns).where('key_id', '=', keyId).executeTakeFirst();
    return row ? withoutHash(toKey(row)) : null;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.db.selectFrom('api_keys').select(keyColumns).orderBy('created').orderBy('key_id').execute();
    return rows.map((r) => withoutHash(toKey(r)));
  }

  async listKeysOf(userId: number): Promise<ApiKeyRecord[]> {
    const rows = await this.db.selectFrom('api_keys').select(keyColumns).where('user_id', '=', userId).orderBy('created').orderBy('key_id').execute();
    return rows.map((r) => withoutHash(toKey(r)));
  }

  async countUsableKeys(now: string): Promise<number> {
    const row = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('revoked', 'is', null)
      .where((eb) => eb.or([eb('expires', 'is', null), eb('expires', '>', now)]))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async revokeKey(keyId: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked: at })
      .where('key_id', '=', keyId)
      .where('revoked', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async replaceKeyHash(keyId: string, hash: string, hint: string, created: string, expires: string | null): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ hash, hint, created, expires, last_used: null })
      .where('key_id', '=', keyId)
      .where('revoked', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async touchKey(keyId: string, at: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used: at }).where('key_id', '=', keyId).execute();
  }

  async listStoredKeys(): Promise<StoredApiKey[]> {
    const rows = await this.db.selectFrom('api_keys').select(keyColumns).orderBy('created').orderBy('key_id').execute();
    return rows.map(toKey);
  }

  async putKey(key: StoredApiKey): Promise<void> {
    const { key_id: _keyId, ...rest } = keyRow(key);
    await this.db
      .insertInto('api_keys')
      .values(keyRow(key))
      .onConflict((oc) => oc.column('key_id').doUpdateSet(rest))
      .execute();
  }

  async registration(lowerId: string): Promise<Registration> {
    const [registered, owners] = await Promise.all([
      this.db.selectFrom('package_registrations').select('lower_id').where('feed_id', '=', this.feedId).where('lower_id', '=', lowerId).executeTakeFirst(),
      this.db.selectFrom('package_owners').select('owner').where('feed_id', '=', this.feedId).where('lower_id', '=', lowerId).orderBy('owner').execute(),
    ]);
    return { registered: registered !== undefined, owners: owners.map((o) => o.owner) };
  }

  async registeredAmong(lowerIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    // In slices: a statement's bound parameters are limited (SQLite's to 32,766).
    for (let i = 0; i < lowerIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('package_registrations')
        .select('lower_id')
        .where('feed_id', '=', this.feedId)
        .where('lower_id', 'in', lowerIds.slice(i, i + 500))
        .execute();
      for (const r of rows) found.add(r.lower_id);
    }
    return found;
  }

  async hasPackages(lowerId: string): Promise<boolean> {
    const row = await this.db.selectFrom('packages').select('key').where('feed_id', '=', this.feedId).where('lower_id', '=', lowerId).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async claimId(lowerId: string, owners: readonly string[], at: string): Promise<boolean> {
    // The primary key decides between concurrent first pushes (on PostgreSQL the loser's insert waits for the
    // winner's commit and then does nothing).
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .insertInto('package_registrations')
        .values({ feed_id: this.feedId, lower_id: lowerId, created: at })
        .onConflict((oc) => oc.columns(['feed_id', 'lower_id']).doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
      if (owners.length > 0) {
        await tx
          .insertInto('package_owners')
          .values(owners.map((owner) => ({ feed_id: this.feedId, lower_id: lowerId, owner })))
          .onConflict((oc) => oc.columns(['feed_id', 'lower_id', 'owner']).doNothing())
          .execute();
      }
      return true;
    });
  }

  async addOwner(lowerId: string, owner: string, at: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('package_registrations')
        .values({ feed_id: this.feedId, lower_id: lowerId, created: at })
        .onConflict((oc) => oc.columns(['feed_id', 'lower_id']).doNothing())
        .execute();
      const result = await tx
        .insertInto('package_owners')
        .values({ feed_id: this.feedId, lower_id: lowerId, owner })
        .onConflict((oc) => oc.columns(['feed_id', 'lower_id', 'owner']).doNothing())
        .executeTakeFirst();
      const added = Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
      if (added) await recordAccessChange(tx, this.feedId);
      return added;
    });
  }

  async removeOwner(lowerId: string, owner: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .deleteFrom('package_owners')
        .where('feed_id', '=', this.feedId)
        .where('lower_id', '=', lowerId)
        .where('owner', '=', owner)
        .executeTakeFirst();
      const removed = Number(result.numDeletedRows) === 1;
      if (removed) await recordAccessChange(tx, this.feedId);
      return removed;
    });
  }

  async idsOwnedBy(owner: string): Promise<string[]> {
    const rows = await this.db.selectFrom('package_owners').select('lower_id').where('feed_id', '=', this.feedId).where('owner', '=', owner).orderBy('lower_id').execute();
    return rows.map((r) => r.lower_id);
  }

  async ownershipsOf(owners: readonly string[]): Promise<Array<{ lowerId: string; owner: string }>> {
    if (owners.length === 0) return [];
    const rows = await this.db.selectFrom('package_owners').select(['lower_id', 'owner']).where('feed_id', '=', this.feedId).where('owner', 'in', [...owners]).execute();
    return rows.map((r) => ({ lowerId: r.lower_id, owner: r.owner }));
  }

  async listRegistrations(): Promise<RegisteredId[]> {
    const [registrations, owners] = await Promise.all([
      this.db.selectFrom('package_registrations').select(['lower_id', 'created']).where('feed_id', '=', this.feedId).orderBy('lower_id').execute(),
      this.db
        .selectFrom('package_owners')
        .select(['lower_id', 'owner'])
        .where('feed_id', '=', this.feedId)
        .orderBy('lower_id')
        .orderBy('owner')
        .execute(),
    ]);
    const byId = new Map<string, string[]>();
    for (const o of owners) {
      const list = byId.get(o.lower_id);
      if (list) list.push(o.owner);
      else byId.set(o.lower_id, [o.owner]);
    }
    // Owners without a registration row cannot be made by this code (addOwner registers), so they are not listed.
    return registrations.map((r) => ({ lowerId: r.lower_id, created: r.created, owners: byId.get(r.lower_id) ?? [] }));
  }

  async copyRegistration(registration: RegisteredId): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const registered = await tx
        .insertInto('package_registrations')
        .values({ feed_id: this.feedId, lower_id: registration.lowerId, created: registration.created })
        .onConflict((oc) => oc.columns(['feed_id', 'lower_id']).doNothing())
        .executeTakeFirst();
      let changed = Number(registered.numInsertedOrUpdatedRows ?? 0) === 1;
      if (registration.owners.length > 0) {
        const added = await tx
          .insertInto('package_owners')
          .values(registration.owners.map((owner) => ({ feed_id: this.feedId, lower_id: registration.lowerId, owner })))
          .onConflict((oc) => oc.columns(['feed_id', 'lower_id', 'owner']).doNothing())
          .executeTakeFirst();
        if (Number(added.numInsertedOrUpdatedRows ?? 0) > 0) changed = true;
      }
      if (changed) await recordAccessChange(tx, this.feedId);
      return changed;
    });
  }

  async reservePrefix(reservation: PrefixReservation): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx
        .insertInto('prefix_reservations')
        .values({ feed_id: this.feedId, ...reservation })
        .onConflict((oc) => oc.columns(['feed_id', 'pattern']).doNothing())
        .executeTakeFirst();
      const inserted = Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
      if (inserted) await recordAccessChange(tx, this.feedId);
      return inserted;
    });
  }

  async releasePrefix(pattern: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const result = await tx.deleteFrom('prefix_reservations').where('feed_id', '=', this.feedId).where('pattern', '=', pattern).executeTakeFirst();
      const removed = Number(result.numDeletedRows) === 1;
      if (removed) await recordAccessChange(tx, this.feedId);
      return removed;
    });
  }

  async listPrefixes(): Promise<PrefixReservation[]> {
    return this.db
      .selectFrom('prefix_reservations')
      .select(['pattern', 'owner', 'created'])
      .where('feed_id', '=', this.feedId)
      .orderBy('pattern')
      .execute();
  }

  async appendAudit(entry: NewAuditEntry): Promise<void> {
    await this.db.insertInto('audit_log').values(auditRow(entry, this.feedId)).execute();
  }

  async appendAuditEntries(entries: ReadonlyArray<NewAuditEntry & { readonly feedId?: number }>): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      // 500 rows of 8 columns stay well under either dialect's limit on bound parameters.
      for (let i = 0; i < entries.length; i += 500) await tx.insertInto('audit_log').values(entries.slice(i, i + 500).map((e) => auditRow(e, e.feedId ?? this.feedId))).execute();
    });
  }

  async scanAudit(after: number, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(limit).execute();
    return rows.map(toAuditEntry);
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (query.feedId !== undefined) q = q.where('feed_id', '=', query.feedId);
    if (query.before !== undefined) q = q.where('seq', '<', query.before);
    if (query.action !== undefined) q = q.where('action', '=', query.action);
    if (query.keyId !== undefined) q = q.where('key_id', '=', query.keyId);
    if (query.who !== undefined) {
      const who = query.who;
      q = q.where((eb) => eb.or([eb('key_id', '=', who), eb('actor', '=', who), eb('owner', '=', who.toLowerCase())]));
    }
    if (query.target !== undefined) {
      // Targets start with the package id ("Contoso.Lib 1.0.0"); compare case-insensitively, without LIKE ('_' is an id
      // character, and a wildcard there).
      const t = query.target.toLowerCase();
      q = q.where(sql<boolean>`(lower(target) = ${t} or lower(substr(target, 1, ${t.length + 1})) = ${t + ' '})`);
    }
    const rows = await q.orderBy('seq', 'desc').limit(query.limit).execute();
    return rows.map(toAuditEntry);
  }
}
