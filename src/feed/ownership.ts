import { ACCESS_CHANGE_MARKER, type AccessDatabase, type PrefixReservation } from '../db/access-database.js';
import { PawketError, badRequest, notFound } from '../errors.js';
import { isValidPackageId, lowerId as toLowerId, toLowerInvariant } from '../nuget/id.js';
import type { AuditLog } from './audit.js';
import type { Actor } from './auth.js';
import type { FeedEvents } from './events.js';

/** Owner names: a user or team, case-insensitive (stored lower case). */
const OWNER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Validates and lower-cases an owner name. */
export function ownerName(name: string): string {
  const lower = name.trim().toLowerCase();
  if (!OWNER_NAME.test(lower)) {
    throw badRequest(`'${name.slice(0, 80)}' is not an owner name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.`);
  }
  return lower;
}

/**
 * Validates a prefix reservation pattern and returns it lower case: `Contoso.*` (every id starting with `Contoso.`),
 * `Contoso*`, or one exact id.
 */
export function reservationPattern(pattern: string): string {
  const p = pattern.trim();
  const prefix = p.endsWith('*') ? p.slice(0, -1) : p;
  const ok = p.endsWith('*') ? /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(prefix) && prefix.length <= 100 : isValidPackageId(p);
  if (!ok) {
    throw badRequest(`'${pattern.slice(0, 120)}' is not a prefix to reserve: give an id prefix ending in '*' (Contoso.*) or one package id.`);
  }
  return toLowerInvariant(p);
}

/** Whether a lower-case id falls under a reservation pattern. */
export function reservationCovers(pattern: string, lowerId: string): boolean {
  return pattern.endsWith('*') ? lowerId.startsWith(pattern.slice(0, -1)) : lowerId === pattern;
}

/** The reservation that decides an id: the most specific (longest) matching pattern. */
export function governingReservation(reservations: readonly PrefixReservation[], lowerId: string): PrefixReservation | null {
  let best: PrefixReservation | null = null;
  for (const r of reservations) {
    if (reservationCovers(r.pattern, lowerId) && (!best || r.pattern.length > best.pattern.length)) best = r;
  }
  return best;
}

/**
 * Owners of package ids and id prefix reservations: managed here (by admins, through the CLI or the admin API), and
 * the `verified` flag of search results, cached in memory and reloaded when any node changes owners or prefixes.
 */
export class Ownership {
  private reservations: PrefixReservation[] = [];
  private verified = new Set<string>();
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;

  constructor(
    private readonly store: AccessDatabase,
    private readonly audit: AuditLog,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Loads the verified-id cache and keeps it current from feed events (local changes and the change feed). */
  async start(events: FeedEvents): Promise<void> {
    events.onPackageChanged((lowerId) => {
      if (lowerId === ACCESS_CHANGE_MARKER) void this.reload();
      // An id under a reservation changed: perhaps just claimed by its first push.
      else if (governingReservation(this.reservations, lowerId)) void this.recheck(lowerId);
    });
    await this.reload();
  }

  /**
   * Whether search shows an id as verified: it falls under a reserved prefix and the prefix's owner owns it.
   * Synchronous, from memory.
   */
  isVerifiedId(lowerId: string): boolean {
    return this.verified.has(lowerId);
  }

  /** Reloads reservations and the verified ids; concurrent calls share one load (and run once more after it). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          const reservations = await this.store.listPrefixes();
          const owners = [...new Set(reservations.map((r) => r.owner))];
          const verified = new Set<string>();
          for (const { lowerId, owner } of await this.store.ownershipsOf(owners)) {
            if (governingReservation(reservations, lowerId)?.owner === owner) verified.add(lowerId);
          }
          this.reservations = reservations;
          this.verified = verified;
        } catch (err) {
          this.onError(err);
        }
      } while (this.reloadAgain);
    })().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /** Re-decides one id (after any full reload in flight, which might otherwise overwrite the answer). */
  private async recheck(lowerId: string): Promise<void> {
    try {
      if (this.reloading) await this.reloading;
      const { owners } = await this.store.registration(lowerId);
      const owner = governingReservation(this.reservations, lowerId)?.owner;
      if (owner !== undefined && owners.includes(owner)) this.verified.add(lowerId);
      else this.verified.delete(lowerId);
    } catch (err) {
      this.onError(err);
    }
  }

  async owners(id: string): Promise<string[]> {
    return [...(await this.store.registration(checkedId(id))).owners];
  }

  idsOwnedBy(owner: string): Promise<string[]> {
    return this.store.idsOwnedBy(ownerName(owner));
  }

  async addOwner(actor: Actor, id: string, owner: string): Promise<boolean> {
    const lid = checkedId(id);
    const name = ownerName(owner);
    const added = await this.store.addOwner(lid, name, new Date().toISOString());
    if (added) await this.audit.record(actor, 'owner.add', id, name);
    await this.reload();
    return added;
  }

  /** Refuses to remove the last owner (only admins could change the id then). */
  async removeOwner(actor: Actor, id: string, owner: string): Promise<void> {
    const lid = checkedId(id);
    const name = ownerName(owner);
    const { owners } = await this.store.registration(lid);
    if (!owners.includes(name)) throw notFound(`${name} is not an owner of ${id}.`);
    if (owners.length === 1) throw new PawketError(409, `${name} is the last owner of ${id}: add another owner first.`);
    if (await this.store.removeOwner(lid, name)) await this.audit.record(actor, 'owner.remove', id, name);
    await this.reload();
  }

  listPrefixes(): Promise<PrefixReservation[]> {
    return this.store.listPrefixes();
  }

  /** Current reservations, fresh from the database (what pushes are decided by). */
  async governing(lowerId: string): Promise<PrefixReservation | null> {
    return governingReservation(await this.store.listPrefixes(), lowerId);
  }

  async reservePrefix(actor: Actor, pattern: string, owner: string): Promise<PrefixReservation> {
    const reservation = { pattern: reservationPattern(pattern), owner: ownerName(owner), created: new Date().toISOString() };
    if (!(await this.store.reservePrefix(reservation))) {
      const existing = (await this.store.listPrefixes()).find((r) => r.pattern === reservation.pattern);
      throw new PawketError(409, `${pattern} is reserved already${existing ? ` for ${existing.owner}` : ''}: release it first.`);
    }
    await this.audit.record(actor, 'prefix.reserve', reservation.pattern, reservation.owner);
    await this.reload();
    return reservation;
  }

  async releasePrefix(actor: Actor, pattern: string): Promise<void> {
    const p = reservationPattern(pattern);
    if (!(await this.store.releasePrefix(p))) throw notFound(`${pattern} is not reserved.`);
    await this.audit.record(actor, 'prefix.release', p);
    await this.reload();
  }
}

function checkedId(id: string): string {
  if (!isValidPackageId(id)) throw badRequest(`'${id.slice(0, 120)}' is not a valid package id.`);
  return toLowerId(id);
}
