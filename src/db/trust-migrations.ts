import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.js';

/**
 * Trusted publishing (docs/TRUSTED-PUBLISHING.md): the policies that say which CI identities may exchange their OIDC
 * token for a short-lived key, and the tokens already exchanged (each works once). Spread into the list in
 * migrations.ts; never edit one that has shipped.
 */
export function trustMigrations(dialect: SqlDialectName): Record<string, Migration> {
  return {
    '0015_trusted_publishing': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('trust_policies')
          .addColumn('policy_id', dialect === 'postgres' ? 'serial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('name', 'text', (c) => c.notNull())
          /** The user or organisation the issued keys act for; the exchange's `username` must name it. */
          .addColumn('owner', 'text', (c) => c.notNull())
          /** github | gitlab | generic: which claims the policy checks and how. */
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('issuer', 'text', (c) => c.notNull())
          /** JSON object: claim name → required value. */
          .addColumn('claims', 'text', (c) => c.notNull())
          /** The `aud` tokens must carry; null: the feed's public base URL. */
          .addColumn('audience', 'text')
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('patterns', 'text', (c) => c.notNull())
          /** JSON array of feed ids; null: every feed. */
          .addColumn('feeds', 'text')
          /** Seconds an issued key lives. */
          .addColumn('key_lifetime', 'integer', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex('trust_policies_issuer').on('trust_policies').column('issuer').execute();
        await db.schema
          .createTable('used_tokens')
          /** SHA-256 of the issuer and the token's `jti` (or of the whole token when it has none). */
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('policy_id', 'integer', (c) => c.notNull())
          .addColumn('used_at', 'text', (c) => c.notNull())
          /** The token's own expiry: after it, a replay fails on `exp` anyway and the row can go. */
          .addColumn('expires', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('used_tokens_policy').on('used_tokens').columns(['policy_id', 'used_at']).execute();
        await db.schema.createIndex('used_tokens_expires').on('used_tokens').column('expires').execute();
      },
    },
  };
}
