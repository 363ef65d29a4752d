import type { Kysely, Migration } from 'kysely';
import { sql } from './kysely.js';
import type { SqlDialectName } from './migrations.js';

/**
 * People (docs/SIGN-IN.md): users who sign in, organisations (today's owner names, one row each), their members, roles
 * granted per feed, server-side sessions and the sign-in requests waiting for their callback. Spread into the list in
 * migrations.ts; never edit one that has shipped.
 */
export function peopleMigrations(dialect: SqlDialectName): Record<string, Migration> {
  const serial = (table: string, column: string) => (db: Kysely<unknown>) =>
    db.schema
      .createTable(table)
      .addColumn(column, dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()));
  return {
    '0010_people': {
      async up(db: Kysely<unknown>) {
        // The identity is the issuer and subject, never the e-mail; `name` is the owner name the user acts as.
        await serial('users', 'user_id')(db)
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('lower_name', 'text', (c) => c.notNull().unique())
          .addColumn('display_name', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('email', 'text')
          .addColumn('issuer', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          /** JSON array of the group claim's values at the last sign-in. */
          .addColumn('groups', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('disabled', 'text')
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('last_sign_in', 'text')
          .addUniqueConstraint('users_identity', ['issuer', 'subject'])
          .execute();
        await serial('organisations', 'org_id')(db)
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('lower_name', 'text', (c) => c.notNull().unique())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('created', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('org_members')
          .addColumn('org_id', 'integer', (c) => c.notNull())
          .addColumn('user_id', 'integer', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          /** `direct` (added by a person) or `groups` (from a group claim, replaced at each sign-in). */
          .addColumn('source', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('org_members_pk', ['org_id', 'user_id'])
          .execute();
        await db.schema.createIndex('org_members_user').on('org_members').column('user_id').execute();
        await db.schema
          .createTable('feed_roles')
          .addColumn('feed_id', 'integer', (c) => c.notNull())
          /** `user`, `org` or `group` (a group claim's value). */
          .addColumn('grantee_kind', 'text', (c) => c.notNull())
          .addColumn('grantee', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('feed_roles_pk', ['feed_id', 'grantee_kind', 'grantee'])
          .execute();
        await db.schema
          .createTable('sessions')
          /** SHA-256 of the cookie's value: a database dump holds no usable session. */
          .addColumn('session_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'integer')
          /** Signed in with an API key instead of a provider. */
          .addColumn('key_id', 'text')
          .addColumn('csrf', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('last_seen', 'text', (c) => c.notNull())
          .addColumn('expires', 'text', (c) => c.notNull())
          .addColumn('address', 'text')
          .execute();
        await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
        await db.schema
          .createTable('sign_in_requests')
          /** SHA-256 of `state`: taken (deleted) by the one callback that may use it. */
          .addColumn('state_hash', 'text', (c) => c.primaryKey())
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('nonce', 'text', (c) => c.notNull())
          .addColumn('code_verifier', 'text', (c) => c.notNull())
          .addColumn('return_to', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .execute();
        // Keys a person made are theirs: disabling the person disables them.
        await db.schema.alterTable('api_keys').addColumn('user_id', 'integer').execute();
        // Every owner name in use becomes an organisation, so nothing anyone owns is lost.
        const now = new Date().toISOString();
        await sql`INSERT INTO organisations (name, lower_name, created)
          SELECT DISTINCT owner, owner, ${now} FROM (
            SELECT owner FROM package_owners UNION SELECT owner FROM prefix_reservations UNION SELECT owner FROM api_keys
          ) AS owners ORDER BY owner`.execute(db);
      },
    },
  };
}
