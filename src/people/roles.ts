import type { KeyScope } from '../db/access-database.js';
import { FEED_ROLES, type FeedRole } from '../db/people-database.js';

/** Key scopes a role on a feed allows; a person's key or session has at most these there. */
const ROLE_SCOPES: Record<FeedRole, readonly KeyScope[]> = {
  reader: ['read'],
  // Contributors push and unlist their own ids (ownership decides which ids are theirs).
  contributor: ['read', 'push-new', 'push', 'unlist', 'stage'],
  // Owners manage the feed (settings, roles, owners, prefixes) as well.
  owner: ['read', 'push-new', 'push', 'unlist', 'stage'],
};

export function scopesOfRole(role: FeedRole): readonly KeyScope[] {
  return ROLE_SCOPES[role];
}

/** Whether `role` includes `needed`. */
export function roleAtLeast(role: FeedRole | null | undefined, needed: FeedRole): boolean {
  return role != null && FEED_ROLES.indexOf(role) >= FEED_ROLES.indexOf(needed);
}

/** The stronger of two roles (null: none). */
export function strongerRole(a: FeedRole | null | undefined, b: FeedRole | null | undefined): FeedRole | null {
  if (a == null) return b ?? null;
  if (b == null) return a;
  return FEED_ROLES.indexOf(a) >= FEED_ROLES.indexOf(b) ? a : b;
}

/**
 * A person's roles: what was granted on each feed (to them, their organisations or their groups), and the role every
 * signed-in person has on feeds that are not private (`signIn.defaultRole`).
 */
export interface PersonRoles {
  readonly granted: ReadonlyMap<number, FeedRole>;
  readonly everyPublicFeed: FeedRole | null;
}

/** A person's role on one feed. */
export function roleOn(roles: PersonRoles, feedId: number, feedIsPrivate: boolean): FeedRole | null {
  return strongerRole(roles.granted.get(feedId), feedIsPrivate ? null : roles.everyPublicFeed);
}
