import { isIPv6 } from 'node:net';

export interface FailureLimiterOptions {
  /** Bad keys an address may send per minute (also the burst); 0 turns the limit off. Default 10. */
  readonly perMinute?: number;
  /** Addresses remembered at most; the least recently seen is forgotten first. */
  readonly maxAddresses?: number;
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * Slows down key guessing: a token bucket per remote address, drained by refused keys (invalid, revoked, expired).
 * While an address's bucket is empty every request of it that carries a key is answered 429, good keys included
 * (otherwise the answer would tell a right guess from a wrong one); other addresses are not affected.
 * In memory and per node, with bounded memory: at most `maxAddresses` buckets. IPv6 addresses count per /64.
 *
 * @example
 * const limiter = new FailureLimiter({ perMinute: 10 });
 * if (limiter.retryAfter(ip) > 0) reply 429; else if (badKey) limiter.fail(ip);
 */
export class FailureLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly enabled: boolean;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(options: FailureLimiterOptions = {}) {
    const perMinute = options.perMinute ?? 10;
    this.enabled = perMinute > 0;
    this.burst = Math.max(1, perMinute);
    this.refillMs = 60_000 / this.burst;
    this.maxAddresses = options.maxAddresses ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds until this address may try a key again; 0 when it may now. */
  retryAfter(address: string): number {
    if (!this.enabled) return 0;
    const bucket = this.buckets.get(addressKey(address));
    if (!bucket) return 0;
    const tokens = this.refill(bucket);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil(((1 - tokens) * this.refillMs) / 1000));
  }

  /** Counts one refused key from this address. */
  fail(address: string): void {
    if (!this.enabled) return;
    const key = addressKey(address);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updated: this.now() };
    bucket.tokens = Math.max(0, this.refill(bucket) - 1);
    // Re-inserting keeps the map in least-recently-failed order, so the oldest goes first when it is full.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    while (this.buckets.size > this.maxAddresses) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }

  /** Addresses currently remembered (for tests and diagnostics). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(bucket: Bucket): number {
    const now = this.now();
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updated) / this.refillMs);
    bucket.updated = now;
    return bucket.tokens;
  }
}

/** The bucket an address counts against: itself, or its /64 for IPv6 (one host usually has a whole /64). */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const parts = address.includes('::')
    ? [...headParts, ...Array<string>(Math.max(0, 8 - headParts.length - tailParts.length)).fill('0'), ...tailParts]
    : headParts;
  return parts
    .slice(0, 4)
    .map((p) => p.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':') + '::/64';
}
