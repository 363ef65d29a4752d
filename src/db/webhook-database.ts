/** What a delivery is doing: waiting (maybe for a retry), claimed by a node, done, or given up. */
export const DELIVERY_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface WebhookRecord {
  readonly webhookId: number;
  readonly feedId: number;
  readonly url: string;
  /** Event names, or `*` for every event. */
  readonly events: readonly string[] | '*';
  readonly active: boolean;
  readonly description: string;
  readonly created: string;
  /** The actor's label (a key's or a person's name, or the command line). */
  readonly createdBy: string;
}

export interface NewWebhook {
  readonly url: string;
  readonly secret: string;
  readonly events: readonly string[] | '*';
  readonly description: string;
  readonly created: string;
  readonly createdBy: string;
}

export interface WebhookChanges {
  readonly url?: string;
  readonly events?: readonly string[] | '*';
  readonly active?: boolean;
  readonly description?: string;
}

export interface DeliveryRecord {
  /** Order of creation. */
  readonly seq: number;
  /** The UUID receivers see (`x-pawket-delivery`, the body's `id`). */
  readonly deliveryId: string;
  readonly webhookId: number;
  readonly event: string;
  readonly lowerId: string | null;
  readonly payload: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly leaseUntil: string | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly created: string;
  readonly sentAt: string | null;
}

export interface NewDelivery {
  readonly deliveryId: string;
  readonly event: string;
  readonly lowerId: string | null;
  readonly payload: string;
  readonly created: string;
}

/** One feed's webhooks and their delivery logs (the constructor of an implementation takes the feed id). */
export interface WebhookDatabase {
  createWebhook(webhook: NewWebhook): Promise<WebhookRecord>;
  countWebhooks(): Promise<number>;
  listWebhooks(): Promise<WebhookRecord[]>;
  getWebhook(webhookId: number): Promise<WebhookRecord | null>;
  /** Null when this feed has no such webhook. */
  updateWebhook(webhookId: number, changes: WebhookChanges): Promise<WebhookRecord | null>;
  /** Removes the webhook and its deliveries; false when this feed has no such webhook. */
  deleteWebhook(webhookId: number): Promise<boolean>;
  /** The feed's active webhooks (for deciding who hears of an event). */
  activeWebhooks(): Promise<WebhookRecord[]>;
  /**
   * Queues a delivery, due now; when the webhook already has `maxPending` deliveries waiting, the delivery is recorded
   * as failed with a message instead (a dead receiver costs a bounded queue). Returns it as stored.
   */
  enqueue(webhookId: number, delivery: NewDelivery, maxPending: number): Promise<DeliveryRecord>;
  /** Newest first, skipping the newest `offset`. */
  deliveries(webhookId: number, limit: number, offset?: number): Promise<DeliveryRecord[]>;
  getDelivery(webhookId: number, deliveryId: string): Promise<DeliveryRecord | null>;
  /**
   * Queues a finished (sent or failed) delivery again with the same id and body, due now, attempts counted afresh;
   * null when there is no such delivery, false when it is still pending or being sent.
   */
  redeliver(webhookId: number, deliveryId: string, now: string): Promise<boolean | null>;
}

/** A delivery claimed for sending, with what sending needs. */
export interface ClaimedDelivery extends DeliveryRecord {
  readonly url: string;
  readonly secret: string;
}

export interface DeliveryOutcome {
  readonly status: 'sent' | 'pending' | 'failed';
  readonly statusCode: number | null;
  readonly error: string | null;
  /** For `pending`: when to try again. */
  readonly nextAttemptAt?: string;
  readonly at: string;
}

/** The server-wide queue the delivery workers of every node share. */
export interface WebhookQueue {
  /**
   * Claims up to `limit` due deliveries of active webhooks until `leaseUntil`: pending ones whose time came, and ones
   * whose sender's lease ran out (a node that died). A delivery is skipped while an earlier one of the same webhook and
   * package id is pending or being sent. Each row is claimed by a conditional update, so one node gets it.
   */
  claim(now: string, leaseUntil: string, limit: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt's outcome, unless another node claimed the delivery since (its lease ran out). */
  complete(seq: number, attempt: number, outcome: DeliveryOutcome): Promise<void>;
  /** Hands a claimed delivery back (a stopping node), due now, the attempt not counted. */
  release(seq: number, attempt: number, now: string): Promise<void>;
  /** Deletes finished deliveries beyond the newest `keep` of each webhook. */
  prune(keep: number): Promise<number>;
}
