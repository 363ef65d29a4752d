import { setMaxListeners } from 'node:events';
import type { ClaimedDelivery, WebhookQueue } from '../db/webhook-database.js';
import { sendWebhook } from './webhook-sender.js';

export interface WebhookWorkerOptions {
  readonly pollIntervalMs: number;
  /** Longest one attempt may take. */
  readonly timeoutMs: number;
  /** Delay before each retry (ms); a delivery fails after `retryDelaysMs.length + 1` attempts. */
  readonly retryDelaysMs: readonly number[];
  readonly allowPrivateAddresses: boolean;
  /** Deliveries sent at once by this node. */
  readonly concurrency?: number;
  /** Finished deliveries kept per webhook (the delivery log). */
  readonly keepDeliveries?: number;
  readonly onError: (err: unknown) => void;
}

/** How much longer than an attempt's timeout a claim lasts before another node may take the delivery over. */
const LEASE_MARGIN_MS = 30_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Sends the queued webhook deliveries of every feed, one worker per server process. Deliveries are claimed in the
 * database with a lease, so with several nodes each is sent by one of them; a node that dies mid-send leaves a claim
 * that runs out, and another node sends the delivery again (receivers may see a delivery id twice, never lose one).
 * Pushes only insert rows: a slow or dead receiver costs this worker's slots and the retry schedule, nothing else.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly abort = new AbortController();
  private lastPrune = 0;
  private readonly concurrency: number;

  constructor(
    private readonly queue: WebhookQueue,
    private readonly options: WebhookWorkerOptions,
  ) {
    this.concurrency = options.concurrency ?? 16;
    // Every attempt in flight listens to the one stop signal: more than Node's default 10 is expected, not a leak.
    setMaxListeners(this.concurrency + 10, this.abort.signal);
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops claiming, cuts attempts in flight short and hands their deliveries back to the queue (due at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.running?.catch(() => {});
    await Promise.all(this.inFlight.values());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  /** One look at the queue; a look asked for while one runs happens right after it. */
  private tick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.claimAndSend()
      .catch((err: unknown) => this.options.onError(new Error(`webhook deliveries: ${String(err)}`, { cause: err })))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        } else {
          this.schedule(this.options.pollIntervalMs);
        }
      });
  }

  private async claimAndSend(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    if (now - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await this.queue.prune(this.options.keepDeliveries ?? 1000);
    }
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const lease = new Date(now + this.options.timeoutMs + LEASE_MARGIN_MS).toISOString();
    const claimed = await this.queue.claim(new Date(now).toISOString(), lease, free);
    for (const delivery of claimed) {
      const sending = this.send(delivery)
        .catch((err: unknown) => this.options.onError(new Error(`webhook delivery ${delivery.deliveryId}: ${String(err)}`, { cause: err })))
        .finally(() => {
          this.inFlight.delete(delivery.seq);
          // A delivery done may let the next one of the same package go: look again at once.
          this.tick();
        });
      this.inFlight.set(delivery.seq, sending);
    }
  }

  private async send(d: ClaimedDelivery): Promise<void> {
    const result = await sendWebhook(d.url, d.secret, { event: d.event, deliveryId: d.deliveryId }, d.payload, {
      timeoutMs: this.options.timeoutMs,
      allowPrivateAddresses: this.options.allowPrivateAddresses,
      signal: this.abort.signal,
    });
    const at = new Date();
    if (this.stopped && result.error !== null) {
      await this.queue.release(d.seq, d.attempts, at.toISOString());
      return;
    }
    if (result.error === null) {
      await this.queue.complete(d.seq, d.attempts, { status: 'sent', statusCode: result.statusCode, error: null, at: at.toISOString() });
      return;
    }
    const delay = this.options.retryDelaysMs[d.attempts - 1];
    await this.queue.complete(d.seq, d.attempts, {
      status: delay === undefined ? 'failed' : 'pending',
      statusCode: result.statusCode,
      error: delay === undefined ? `${result.error} (attempt ${d.attempts}, the last)` : `${result.error} (attempt ${d.attempts})`,
      at: at.toISOString(),
      ...(delay === undefined ? {} : { nextAttemptAt: new Date(at.getTime() + delay).toISOString() }),
    });
  }
}
