import type { Generated, Kysely, Selectable } from 'kysely';
import type { Tables } from './schema.js';
import type {
  ClaimedDelivery,
  DeliveryOutcome,
  DeliveryRecord,
  DeliveryStatus,
  NewDelivery,
  NewWebhook,
  WebhookChanges,
  WebhookDatabase,
  WebhookQueue,
  WebhookRecord,
} from './webhook-database.js';

/** Table shapes of webhook-migrations.ts. */
export type WebhookTables = {
  webhooks: {
    webhook_id: Generated<number>;
    feed_id: number;
    url: string;
    secret: string;
    events: string;
    active: number;
    description: string;
    created: string;
    created_by: string;
  };
  webhook_deliveries: {
    seq: Generated<number>;
    delivery_id: string;
    webhook_id: number;
    event: string;
    lower_id: string | null;
    payload: string;
    status: string;
    attempts: number;
    next_attempt_at: string;
    lease_until: string | null;
    last_status_code: number | null;
    last_error: string | null;
    created: string;
    sent_at: string | null;
  };
};

type Db = Tables & WebhookTables;

const eventsText = (events: readonly string[] | '*') => (events === '*' ? '*' : JSON.stringify(events));

function toWebhook(r: Selectable<WebhookTables['webhooks']>): WebhookRecord {
  return {
    webhookId: Number(r.webhook_id),
    feedId: Number(r.feed_id),
    url: r.url,
    events: r.events === '*' ? '*' : (JSON.parse(r.events) as string[]),
    active: Number(r.active) === 1,
    description: r.description,
    created: r.created,
    createdBy: r.created_by,
  };
}

function toDelivery(r: Selectable<WebhookTables['webhook_deliveries']>): DeliveryRecord {
  return {
    seq: Number(r.seq),
    deliveryId: r.delivery_id,
    webhookId: Number(r.webhook_id),
    event: r.event,
    lowerId: r.lower_id,
    payload: r.payload,
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    leaseUntil: r.lease_until,
    lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
    lastError: r.last_error,
    created: r.created,
    sentAt: r.sent_at,
  };
}

/** WebhookDatabase of one feed, over the server's Kysely instance. */
export class KyselyWebhookDatabase implements WebhookDatabase {
  private readonly db: Kysely<Db>;

  constructor(
    db: Kysely<Tables>,
    private readonly feedId: number,
  ) {
    this.db = db.withTables<WebhookTables>();
  }

  async createWebhook(w: NewWebhook): Promise<WebhookRecord> {
    const row = await this.db
      .insertInto('webhooks')
      .values({
        feed_id: this.feedId,
        url: w.url,
        secret: w.secret,
        events: eventsText(w.events),
        active: 1,
        description: w.description,
        created: w.created,
        created_by: w.createdBy,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toWebhook(row);
  }

  async countWebhooks(): Promise<number> {
    const row = await this.db.selectFrom('webhooks').select((eb) => eb.fn.countAll().as('n')).where('feed_id', '=', this.feedId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    const rows = await this.db.selectFrom('webhooks').selectAll().where('feed_id', '=', this.feedId).orderBy('webhook_id').execute();
    return rows.map(toWebhook);
  }

  async getWebhook(webhookId: number): Promise<WebhookRecord | null> {
    const row = await this.db.selectFrom('webhooks').selectAll().where('feed_id', '=', this.feedId).where('webhook_id', '=', webhookId).executeTakeFirst();
    return row ? toWebhook(row) : null;
  }

  async updateWebhook(webhookId: number, changes: WebhookChanges): Promise<WebhookRecord | null> {
    const values = {
      ...(changes.url !== undefined ? { url: changes.url } : {}),
      ...(changes.events !== undefined ? { events: eventsText(changes.events) } : {}),
      ...(changes.active !== undefined ? { active: changes.active ? 1 : 0 } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
    };
    if (Object.keys(values).length > 0) {
      await this.db.updateTable('webhooks').set(values).where('feed_id', '=', this.feedId).where('webhook_id', '=', webhookId).execute();
    }
    return this.getWebhook(webhookId);
  }

  async deleteWebhook(webhookId: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const found = await tx.selectFrom('webhooks').select('webhook_id').where('feed_id', '=', this.feedId).where('webhook_id', '=', webhookId).executeTakeFirst();
      if (!found) return false;
      await tx.deleteFrom('webhook_deliveries').where('webhook_id', '=', webhookId).execute();
      await tx.deleteFrom('webhooks').where('webhook_id', '=', webhookId).execute();
      return true;
    });
  }

  async activeWebhooks(): Promise<WebhookRecord[]> {
    const rows = await this.db.selectFrom('webhooks').selectAll().where('feed_id', '=', this.feedId).where('active', '=', 1).orderBy('webhook_id').execute();
    return rows.map(toWebhook);
  }

  async enqueue(webhookId: number, d: NewDelivery, maxPending: number): Promise<DeliveryRecord> {
    const waiting = await this.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('webhook_id', '=', webhookId)
      .where('status', 'in', ['pending', 'sending'])
      .executeTakeFirstOrThrow();
    const full = Number(waiting.n) >= maxPending;
    const row = await this.db
      .insertInto('webhook_deliveries')
      .values({
        delivery_id: d.deliveryId,
        webhook_id: webhookId,
        event: d.event,
        lower_id: d.lowerId,
        payload: d.payload,
        status: full ? 'failed' : 'pending',
        attempts: 0,
        next_attempt_at: d.created,
        last_error: full ? `Not queued: ${maxPending} deliveries of this webhook were already waiting (its receiver is down or slow). Redeliver it once the receiver is back.` : null,
        created: d.created,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDelivery(row);
  }

  async deliveries(webhookId: number, limit: number, offset = 0): Promise<DeliveryRecord[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('webhook_id', '=', webhookId)
      .orderBy('seq', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toDelivery);
  }

  async getDelivery(webhookId: number, deliveryId: string): Promise<DeliveryRecord | null> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('delivery_id', '=', deliveryId).executeTakeFirst();
    return row ? toDelivery(row) : null;
  }

  async redeliver(webhookId: number, deliveryId: string, now: string): Promise<boolean | null> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null })
      .where('webhook_id', '=', webhookId)
      .where('delivery_id', '=', deliveryId)
      .where('status', 'in', ['sent', 'failed'])
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) return true;
    return (await this.getDelivery(webhookId, deliveryId)) ? false : null;
  }
}

/** The server-wide delivery queue (every feed's webhooks), shared by the nodes through the database. */
export class KyselyWebhookQueue implements WebhookQueue {
  private readonly db: Kysely<Db>;

  constructor(db: Kysely<Tables>) {
    this.db = db.withTables<WebhookTables>();
  }

  async claim(now: string, leaseUntil: string, limit: number): Promise<ClaimedDelivery[]> {
    const candidates = await this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhooks as w', 'w.webhook_id', 'd.webhook_id')
      .selectAll('d')
      .select(['w.url', 'w.secret'])
      .where('w.active', '=', 1)
      .where((eb) =>
        eb.or([
          eb.and([eb('d.status', '=', 'pending'), eb('d.next_attempt_at', '<=', now)]),
          eb.and([eb('d.status', '=', 'sending'), eb('d.lease_until', '<', now)]),
        ]),
      )
      // Per webhook and package id, in creation order: nothing overtakes an earlier delivery still on its way.
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_deliveries as e')
              .select('e.seq')
              .whereRef('e.webhook_id', '=', 'd.webhook_id')
              .whereRef('e.lower_id', '=', 'd.lower_id')
              .whereRef('e.seq', '<', 'd.seq')
              .where('e.status', 'in', ['pending', 'sending']),
          ),
        ),
      )
      .orderBy('d.seq')
      .limit(limit)
      .execute();
    const claimed: ClaimedDelivery[] = [];
    for (const c of candidates) {
      // A conditional update of one row: of several nodes that saw it due, the first to update it gets it (on
      // PostgreSQL the others wait for its row lock, then find the condition false).
      const result = await this.db
        .updateTable('webhook_deliveries')
        .set((eb) => ({ status: 'sending', lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
        .where('seq', '=', c.seq)
        .where('attempts', '=', c.attempts)
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', now)]),
            eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)]),
          ]),
        )
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) continue;
      const { url, secret, ...row } = c;
      claimed.push({ ...toDelivery({ ...row, status: 'sending', lease_until: leaseUntil, attempts: Number(c.attempts) + 1 }), url, secret });
    }
    return claimed;
  }

  async complete(seq: number, attempt: number, o: DeliveryOutcome): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: o.status,
        lease_until: null,
        last_status_code: o.statusCode,
        last_error: o.error,
        ...(o.nextAttemptAt ? { next_attempt_at: o.nextAttemptAt } : {}),
        ...(o.status === 'sent' ? { sent_at: o.at } : {}),
      })
      .where('seq', '=', seq)
      .where('status', '=', 'sending')
      .where('attempts', '=', attempt)
      .execute();
  }

  async release(seq: number, attempt: number, now: string): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', lease_until: null, next_attempt_at: now, attempts: attempt - 1 })
      .where('seq', '=', seq)
      .where('status', '=', 'sending')
      .where('attempts', '=', attempt)
      .execute();
  }

  async prune(keep: number): Promise<number> {
    const hooks = await this.db.selectFrom('webhooks').select('webhook_id').execute();
    let removed = 0;
    for (const { webhook_id } of hooks) {
      const edge = await this.db
        .selectFrom('webhook_deliveries')
        .select('seq')
        .where('webhook_id', '=', webhook_id)
        .where('status', 'in', ['sent', 'failed'])
        .orderBy('seq', 'desc')
        .offset(keep)
        .limit(1)
        .executeTakeFirst();
      if (!edge) continue;
      const result = await this.db
        .deleteFrom('webhook_deliveries')
        .where('webhook_id', '=', webhook_id)
        .where('status', 'in', ['sent', 'failed'])
        .where('seq', '<=', edge.seq)
        .executeTakeFirst();
      removed += Number(result.numDeletedRows);
    }
    return removed;
  }
}
