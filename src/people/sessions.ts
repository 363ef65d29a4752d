import { createHash, randomBytes } from 'node:crypto';
import type { PeopleDatabase, SessionRecord } from '../db/people-database.js';

/** A session's cookie value: 256 random bits. The database keeps only its hash. */
const TOKEN_BYTES = 32;
/** last_seen is written at most this often per session (ms), not on every page view; a tenth of the idle timeout at most. */
const TOUCH_INTERVAL_MS = 60_000;
/** A sign-in request may wait this long for its callback (ms). */
export const SIGN_IN_REQUEST_TTL_MS = 10 * 60_000;

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
export const randomToken = () => randomBytes(TOKEN_BYTES).toString('base64url');

/** Who a session is: a user, or an API key signed in with (a key id, or a configured key's digest). */
export type SessionSubject = { readonly userId: number; readonly keyRef?: undefined } | { readonly userId?: undefined; readonly keyRef: string };

export interface ActiveSession {
  readonly record: SessionRecord;
  /** The token for forms of this session (CSRF). */
  readonly csrf: string;
}

/**
 * Server-side sessions in the database, so any node answers any request of a session, and sign-out ends it on every
 * node at once. A new session (and token) at every sign-in: a token known before sign-in is never signed in (fixation).
 */
export class SessionStore {
  private readonly touched = new Map<string, number>();
  private readonly touchInterval: number;

  constructor(
    private readonly db: PeopleDatabase,
    private readonly limits: { readonly idleTimeoutMs: number; readonly maxAgeMs: number },
    private readonly now: () => number = Date.now,
  ) {
    this.touchInterval = Math.min(TOUCH_INTERVAL_MS, limits.idleTimeoutMs / 10);
  }

  /** Starts a session; returns the cookie's value. */
  async start(subject: SessionSubject, address: string | null): Promise<{ token: string; session: ActiveSession }> {
    const token = randomToken();
    const at = new Date(this.now());
    const record: SessionRecord = {
      hash: hashToken(token),
      userId: subject.userId ?? null,
      keyId: subject.keyRef ?? null,
      csrf: randomToken(),
      created: at.toISOString(),
      lastSeen: at.toISOString(),
      expires: new Date(at.getTime() + this.limits.maxAgeMs).toISOString(),
      address,
    };
    await this.db.insertSession(record);
    return { token, session: { record, csrf: record.csrf } };
  }

  /** The live session of a cookie's value, or null (unknown, ended, idle or too old: then it is removed). */
  async resume(token: string | undefined): Promise<ActiveSession | null> {
    if (!token || token.length > 100) return null;
    const hash = hashToken(token);
    const record = await this.db.findSession(hash);
    if (!record) return null;
    const now = this.now();
    if (Date.parse(record.expires) <= now || Date.parse(record.lastSeen) + this.limits.idleTimeoutMs <= now) {
      await this.db.deleteSession(hash);
      return null;
    }
    const last = this.touched.get(hash) ?? Date.parse(record.lastSeen);
    if (now - last >= this.touchInterval) {
      if (this.touched.size >= 10_000) this.touched.clear();
      this.touched.set(hash, now);
      await this.db.touchSession(hash, new Date(now).toISOString());
    }
    return { record, csrf: record.csrf };
  }

  /** Ends one session (sign-out). */
  async end(token: string): Promise<void> {
    const hash = hashToken(token);
    this.touched.delete(hash);
    await this.db.deleteSession(hash);
  }

  /** Ends every session of a user (sign out everywhere; a disabled user). */
  endAllOf(userId: number): Promise<number> {
    return this.db.deleteUserSessions(userId);
  }

  /** Removes ended sessions and sign-in requests nobody came back for. */
  async prune(): Promise<void> {
    const now = this.now();
    await this.db.prune(
      new Date(now).toISOString(),
      new Date(now - this.limits.idleTimeoutMs).toISOString(),
      new Date(now - SIGN_IN_REQUEST_TTL_MS).toISOString(),
    );
  }
}
