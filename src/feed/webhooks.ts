import { randomBytes, randomUUID } from 'node:crypto';
import type { DeliveryRecord, WebhookDatabase, WebhookRecord } from '../db/webhook-database.js';
import { badRequest, notFound, PawketError } from '../errors.js';
import { lowerId as toLowerId } from '../nuget/id.js';
import type { AuditLog } from './audit.js';
import type { Actor } from './auth.js';
import { checkWebhookUrl } from './webhook-sender.js';
import { PING_EVENT, WEBHOOK_EVENTS, type FeedEvent, type FeedNotifier, type WebhookBody } from './webhook-events.js';

export interface WebhookSettings {
  /** The feed's name, in every body. */
  readonly feedName: string;
  readonly maxPerFeed: number;
  readonly maxPending: number;
  readonly allowPrivateAddresses: boolean;
  /** Where a failure to queue goes (the server's log): it never fails the change that caused it. */
  readonly onError: (err: unknown) => void;
}

export interface WebhookInput {
  readonly url: string;
  /** Event names or `*` (the default). */
  readonly events?: readonly string[] | '*' | undefined;
  readonly description?: string | undefined;
  /** The signing secret; generated when absent. */
  readonly secret?: string | undefined;
}

export interface WebhookUpdate {
  readonly url?: string | undefined;
  readonly events?: readonly string[] | '*' | undefined;
  readonly active?: boolean | undefined;
  readonly description?: string | undefined;
}

const MIN_SECRET = 16;
const MAX_SECRET = 200;
const MAX_DESCRIPTION = 500;
/** Deliveries a webhook's log shows. */
export const SHOWN_DELIVERIES = 50;

function checkEvents(events: readonly string[] | '*' | undefined): readonly string[] | '*' {
  if (events === undefined || events === '*') return '*';
  const list = [...new Set(events.map((e) => e.trim()).filter((e) => e.length > 0))];
  if (list.includes('*')) return '*';
  if (list.length === 0) throw badRequest(`Name the events the webhook wants, or '*' for all: ${WEBHOOK_EVENTS.join(', ')}.`);
  const unknown = list.filter((e) => !WEBHOOK_EVENTS.includes(e));
  if (unknown.length) throw badRequest(`Unknown webhook event(s) ${unknown.join(', ')}; the events are ${WEBHOOK_EVENTS.join(', ')} (or '*').`);
  return list;
}

function checkDescription(text: string | undefined): string {
  const d = (text ?? '').trim();
  if (d.length > MAX_DESCRIPTION) throw badRequest(`The description is ${d.length} characters long; at most ${MAX_DESCRIPTION} are allowed.`);
  return d;
}

const wants = (w: WebhookRecord, event: string) => w.events === '*' || w.events.includes(event);

/**
 * A feed's webhooks (docs/WEBHOOKS.md): managing them, and queueing a delivery to each that wants an event once the
 * change committed. Sending is the delivery worker's (webhook-worker.ts), on whichever node claims it.
 */
export class WebhookService implements FeedNotifier {
  constructor(
    private readonly db: WebhookDatabase,
    private readonly audit: AuditLog,
    private readonly settings: WebhookSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Creates a webhook; the secret is in the answer this once, never again. */
  async create(actor: Actor, input: WebhookInput): Promise<{ webhook: WebhookRecord; secret: string }> {
    const url = checkWebhookUrl(input.url, this.settings.allowPrivateAddresses);
    const events = checkEvents(input.events);
    const description = checkDescription(input.description);
    const secret = input.secret ?? 'whsec_' + randomBytes(24).toString('hex');
    if (secret.length < MIN_SECRET || secret.length > MAX_SECRET) {
      throw badRequest(`A webhook secret needs ${MIN_SECRET} to ${MAX_SECRET} characters (or leave it out: the server makes one).`);
    }
    const max = this.settings.maxPerFeed;
    if ((await this.db.countWebhooks()) >= max) {
      throw new PawketError(409, `The feed ${this.settings.feedName} has ${max} webhooks, the most allowed (webhookMaxPerFeed): delete one first.`);
    }
    const webhook = await this.db.createWebhook({ url, secret, events, description, created: this.now().toISOString(), createdBy: actor.name });
    await this.audit.record(actor, 'webhook.create', `webhook ${webhook.webhookId}`, url).catch(this.settings.onError);
    return { webhook, secret };
  }

  list(): Promise<WebhookRecord[]> {
    return this.db.listWebhooks();
  }

  async get(webhookId: number): Promise<WebhookRecord> {
    const webhook = await this.db.getWebhook(webhookId);
    if (!webhook) throw notFound(`The feed ${this.settings.feedName} has no webhook ${webhookId}.`);
    return webhook;
  }

  /** A webhook with its newest deliveries (its delivery log), skipping the newest `offset` (pages of the log). */
  async show(webhookId: number, limit = SHOWN_DELIVERIES, offset = 0): Promise<{ webhook: WebhookRecord; deliveries: DeliveryRecord[] }> {
    const webhook = await this.get(webhookId);
    return { webhook, deliveries: await this.db.deliveries(webhookId, limit, offset) };
  }

  async update(actor: Actor, webhookId: number, changes: WebhookUpdate): Promise<WebhookRecord> {
    await this.get(webhookId);
    const updated = await this.db.updateWebhook(webhookId, {
      ...(changes.url !== undefined ? { url: checkWebhookUrl(changes.url, this.settings.allowPrivateAddresses) } : {}),
      ...(changes.events !== undefined ? { events: checkEvents(changes.events) } : {}),
      ...(changes.active !== undefined ? { active: changes.active } : {}),
      ...(changes.description !== undefined ? { description: checkDescription(changes.description) } : {}),
    });
    if (!updated) throw notFound(`The feed ${this.settings.feedName} has no webhook ${webhookId}.`);
    const what = Object.keys(changes).filter((k) => changes[k as keyof WebhookUpdate] !== undefined);
    await this.audit.record(actor, 'webhook.update', `webhook ${webhookId}`, what.join(', ') || null).catch(this.settings.onError);
    return updated;
  }

  async delete(actor: Actor, webhookId: number): Promise<WebhookRecord> {
    const webhook = await this.get(webhookId);
    if (!(await this.db.deleteWebhook(webhookId))) throw notFound(`The feed ${this.settings.feedName} has no webhook ${webhookId}.`);
    await this.audit.record(actor, 'webhook.delete', `webhook ${webhookId}`, webhook.url).catch(this.settings.onError);
    return webhook;
  }

  /** Queues a `ping` to one active webhook, whatever events it wants. */
  async ping(actor: Actor, webhookId: number): Promise<DeliveryRecord> {
    const webhook = await this.get(webhookId);
    if (!webhook.active) throw new PawketError(409, `Webhook ${webhookId} is inactive: make it active first (its deliveries wait until then).`);
    return this.enqueue(webhookId, PING_EVENT, null, { package: null }, actor);
  }

  /**
   * Queues a `ping` and waits up to `waitMs` for its first attempt (a node's worker sends it); answers the delivery as
   * it is then, and whether that attempt is over (sent, failed, or waiting for a retry).
   */
  async pingAndWait(actor: Actor, webhookId: number, waitMs: number): Promise<{ delivery: DeliveryRecord; attempted: boolean }> {
    let delivery = await this.ping(actor, webhookId);
    const attempted = (d: DeliveryRecord) => d.status === 'sent' || d.status === 'failed' || (d.status === 'pending' && d.attempts > 0);
    const until = Date.now() + waitMs;
    while (!attempted(delivery) && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      delivery = await this.delivery(webhookId, delivery.deliveryId);
    }
    return { delivery, attempted: attempted(delivery) };
  }

  /** Sends a delivery again (same id and body). */
  async redeliver(webhookId: number, deliveryId: string): Promise<DeliveryRecord> {
    await this.get(webhookId);
    const done = await this.db.redeliver(webhookId, deliveryId, this.now().toISOString());
    if (done === null) throw notFound(`Webhook ${webhookId} has no delivery ${deliveryId}.`);
    if (!done) throw new PawketError(409, `Delivery ${deliveryId} is still on its way: only a sent or failed delivery can be sent again.`);
    return (await this.db.getDelivery(webhookId, deliveryId))!;
  }

  async delivery(webhookId: number, deliveryId: string): Promise<DeliveryRecord> {
    await this.get(webhookId);
    const found = await this.db.getDelivery(webhookId, deliveryId);
    if (!found) throw notFound(`Webhook ${webhookId} has no delivery ${deliveryId}.`);
    return found;
  }

  /** FeedNotifier: queues the event for every active webhook that wants it; failures go to the log, never to the caller. */
  async notify(actor: Actor, event: FeedEvent): Promise<void> {
    // Package events are ordered per id; group events have no id (their own order key is null).
    const [lowerId, fields, what] =
      'package' in event
        ? [toLowerId(event.package.id), { package: event.package }, event.package.id]
        : [null, { package: null, group: event.group, packages: event.packages }, `group ${event.group.id}`];
    try {
      const hooks = (await this.db.activeWebhooks()).filter((w) => wants(w, event.event));
      for (const hook of hooks) await this.enqueue(hook.webhookId, event.event, lowerId, fields, actor);
    } catch (err) {
      this.settings.onError(new Error(`could not queue the webhook deliveries of ${event.event} ${what}: ${String(err)}`, { cause: err }));
    }
  }

  private enqueue(
    webhookId: number,
    event: string,
    lowerId: string | null,
    fields: Pick<WebhookBody, 'package' | 'group' | 'packages'>,
    actor: Actor,
  ): Promise<DeliveryRecord> {
    const id = randomUUID();
    const timestamp = this.now().toISOString();
    const body: WebhookBody = { id, event, feed: this.settings.feedName, timestamp, ...fields, actor: { name: actor.name, owner: actor.owner } };
    return this.db.enqueue(webhookId, { deliveryId: id, event, lowerId, payload: JSON.stringify(body), created: timestamp }, this.settings.maxPending);
  }
}
