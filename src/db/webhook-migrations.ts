import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from './migrations.js';

/**
 * Webhooks (docs/WEBHOOKS.md): a feed's webhooks and the durable queue of their deliveries. The queue lives in the
 * database so that a restart loses nothing and several nodes share it. Spread into the list in migrations.ts; never edit
 * one that has shipped.
 */
export function webhookMigrations(dialect: SqlDialectName): Record<string, Migration> {
  const serial = (table: string, column: string, type: 'serial' | 'bigserial') => (db: Kysely<unknown>) =>
    db.schema
      .createTable(table)
      .addColumn(column, dialect === 'postgres' ? type : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()));
  return {
    '0011_webhooks': {
      async up(db: Kysely<unknown>) {
        await serial('webhooks', 'webhook_id', 'serial')(db)
          // A deleted feed takes its webhooks (and they their deliveries) with it.
          .addColumn('feed_id', 'integer', (c) => c.notNull().references('feeds.feed_id').onDelete('cascade'))
          .addColumn('url', 'text', (c) => c.notNull())
          /** Kept as is: the server signs every body with it. Shown once, when the webhook is created. */
          .addColumn('secret', 'text', (c) => c.notNull())
          /** JSON array of event names, or `*` for every event. */
          .addColumn('events', 'text', (c) => c.notNull())
          .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('webhooks_feed').on('webhooks').column('feed_id').execute();
        // `seq` orders deliveries (per webhook and package id they go out in this order); `delivery_id` is the UUID
        // receivers see.
        await serial('webhook_deliveries', 'seq', 'bigserial')(db)
          .addColumn('delivery_id', 'text', (c) => c.notNull().unique())
          .addColumn('webhook_id', 'integer', (c) => c.notNull().references('webhooks.webhook_id').onDelete('cascade'))
          .addColumn('event', 'text', (c) => c.notNull())
          /** The lower-case package id the event is about (null for `ping`): deliveries of one id go in order. */
          .addColumn('lower_id', 'text')
          /** The exact body sent (and signed). */
          .addColumn('payload', 'text', (c) => c.notNull())
          /** pending | sending | sent | failed */
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'text', (c) => c.notNull())
          /** While `sending`: until when the node that claimed it owns it; past it, another node may send it again. */
          .addColumn('lease_until', 'text')
          .addColumn('last_status_code', 'integer')
          .addColumn('last_error', 'text')
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('sent_at', 'text')
          .execute();
        await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
        await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'lower_id', 'seq']).execute();
      },
    },
  };
}
