import type { Kysely, Migration } from 'kysely';
import { sql } from './kysely.js';
import type { SqlDialectName } from './migrations.js';

/**
 * Migrations of access control: API keys (hashes only), package ownership, id prefix reservations and the audit log.
 * Spread into the list in migrations.ts; never edit one that has shipped.
 */
export function accessMigrations(dialect: SqlDialectName): Record<string, Migration> {
  return {
    '0004_api_keys': {
      async up(db: Kysely<unknown>) {
        // A key is stored as the SHA-256 of its 256 random bits: enough against a stolen database file, and the
        // lookup is one unique-index probe. `hint` is the key's last four characters, to tell keys apart in lists.
        await db.schema
          .createTable('api_keys')
          .addColumn('key_id', 'text', (c) => c.primaryKey())
          .addColumn('hash', 'text', (c) => c.notNull().unique())
          .addColumn('hint', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          /** JSON arrays of scopes and id glob patterns ([] = any id). */
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('patterns', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('expires', 'text')
          .addColumn('last_used', 'text')
          .addColumn('revoked', 'text')
          .execute();

        // An id is registered by its first push; the registration and its owners outlive deleted versions, so a
        // deleted id cannot be taken over by someone else.
        await db.schema
          .createTable('package_registrations')
          .addColumn('lower_id', 'text', (c) => c.primaryKey())
          .addColumn('created', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('package_owners')
          .addColumn('lower_id', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('package_owners_pk', ['lower_id', 'owner'])
          .execute();
        await db.schema.createIndex('package_owners_owner').on('package_owners').column('owner').execute();

        await db.schema
          .createTable('prefix_reservations')
          .addColumn('pattern', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('audit_log')
          .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('owner', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('detail', 'text')
          .addColumn('address', 'text')
          .execute();

        // Packages pushed before access control existed were pushed with the configured keys: the bootstrap admin
        // owns them (an admin hands them on with `pawket owners add`).
        const now = new Date().toISOString();
        await sql`INSERT INTO package_registrations (lower_id, created) SELECT DISTINCT lower_id, ${now} FROM packages`.execute(db);
        await sql`INSERT INTO package_owners (lower_id, owner) SELECT lower_id, 'admin' FROM package_registrations`.execute(db);
      },
    },
  };
}
