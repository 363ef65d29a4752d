import { randomUUID } from 'node:crypto';
import type { FenceDatabase } from '../db/fence-database.js';

const RAISE = '#fence:';
const LOWER = '#fence-end:';

export interface ReadFenceOptions {
  /** Runs one poll of the change log that starts after the call (ChangeWatcher.catchUp). */
  readonly catchUp: () => Promise<void>;
  readonly onError: (err: unknown) => void;
  /** How often this node says it is alive, in ms. */
  readonly heartbeatMs?: number;
  /** Most time a fence waits for other nodes' acknowledgements, in ms. */
  readonly ackTimeoutMs?: number;
  readonly now?: () => number;
}

/** A raised fence, as its raiser holds it. */
export interface RaisedFence {
  readonly token: string;
  /** Nodes alive that did not acknowledge in time (readers there may see the change late by one change poll). */
  readonly unacknowledged: readonly string[];
}

/** A node not seen for this long is gone: its acknowledgement is not waited for. */
export const ALIVE_MS = 10_000;
/** A fence that is never lowered (its raiser died) stops holding after this long. */
const FENCE_MS = 60_000;

/**
 * Read fences make a change of many package ids appear at one instant on every node (docs/STAGING.md, atomic
 * promotion). Each node caches what it read; another node's commit reaches those caches one change poll later, so
 * without a fence a reader could see a promoted package on one node and miss its sibling on another.
 *
 * The writer raises a fence (a change row) and waits until every live node has acknowledged it. While a fence is
 * raised, a node admits each request only after a poll of the change log that started after the request arrived, so
 * whatever committed before the request (the writer's transaction) has reached its caches first. The writer commits,
 * then lowers the fence. Outside fences, requests pay nothing.
 */
export class ReadFence {
  /** Fences this node holds raised: token → when it stops holding by itself (ms). */
  private readonly raised = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly db: FenceDatabase,
    readonly nodeId: string,
    private readonly options: ReadFenceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Says this node is alive now and then every few seconds, until {@link stop}. */
  async start(): Promise<void> {
    const beat = () => this.db.heartbeat(this.nodeId, new Date(this.now()).toISOString());
    await beat();
    let beats = 0;
    this.heartbeat = setInterval(() => {
      void beat()
        .then(() => (++beats % 500 === 0 ? this.db.prune(new Date(this.now() - 3_600_000).toISOString()) : undefined))
        .catch(this.options.onError);
    }, this.options.heartbeatMs ?? 2000);
    this.heartbeat.unref();
  }

  /** Stops the heartbeat and takes this node off the list fences wait for. */
  async stop(): Promise<void> {
    if (!this.heartbeat) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.db.forget(this.nodeId).catch(this.options.onError);
  }

  /** A change row's id from the change log: true when it was a fence marker (handled here, and not a package id). */
  observe(marker: string): boolean {
    if (!marker.startsWith('#fence')) return false;
    if (marker.startsWith(RAISE)) {
      const token = marker.slice(RAISE.length);
      if (!this.raised.has(token)) {
        this.raised.set(token, this.now() + FENCE_MS);
        void this.db.acknowledge(token, this.nodeId, new Date(this.now()).toISOString()).catch(this.options.onError);
      }
      return true;
    }
    if (marker.startsWith(LOWER)) {
      this.raised.delete(marker.slice(LOWER.length));
      return true;
    }
    return false;
  }

  get isRaised(): boolean {
    const now = this.now();
    for (const [token, until] of this.raised) {
      if (until > now) return true;
      this.raised.delete(token);
    }
    return false;
  }

  /** Runs `serve` at once, or, while a fence is raised, once this node has caught up with the change log. */
  admit(serve: () => void): void {
    if (!this.isRaised) return serve();
    this.options.catchUp().then(serve, serve);
  }

  /** Raises a fence and waits for every live node to acknowledge it (bounded by `ackTimeoutMs`). */
  async raise(): Promise<RaisedFence> {
    const token = randomUUID();
    this.raised.set(token, this.now() + FENCE_MS);
    await this.db.announce(RAISE + token);
    await this.db.acknowledge(token, this.nodeId, new Date(this.now()).toISOString());
    const deadline = this.now() + (this.options.ackTimeoutMs ?? 5000);
    let waiting: string[];
    for (let pause = 10; ; pause = Math.min(pause * 2, 100)) {
      waiting = await this.db.unacknowledged(token, new Date(this.now() - ALIVE_MS).toISOString());
      if (waiting.length === 0 || this.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    return { token, unacknowledged: waiting };
  }

  /** Lowers a fence this node raised (after its change committed, or failed). */
  async lower(fence: RaisedFence): Promise<void> {
    this.raised.delete(fence.token);
    await this.db.announce(LOWER + fence.token);
  }
}
