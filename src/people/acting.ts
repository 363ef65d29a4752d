import type { Actor, Principal } from '../feed/auth.js';
import type { PersonRoles } from './roles.js';

/**
 * Who asks a people use case (organisations, feed roles) to change something: the actor the audit log records, whether
 * they are a server admin, the person behind them (if any) and that person's roles.
 */
export interface Acting {
  readonly actor: Actor;
  /** A server admin: an admin person, or an admin key valid on every feed, or the command line. */
  readonly admin: boolean;
  /** The person acting (signed in, or through a key they made); null for admin keys and the command line. */
  readonly userId: number | null;
  /** The person's roles per feed (absent for admins). */
  readonly roles?: PersonRoles | undefined;
}

/** A principal as a people use case sees it; `admin` as the viewer says (or: the admin scope on every feed). */
export function actingOf(principal: Principal, admin = principal.scopes.has('admin') && principal.feeds === null): Acting {
  return { actor: principal, admin, userId: principal.userId ?? null, roles: principal.roles };
}

/** The command line: every right, audited under its name. */
export function operatorActing(actor: Actor): Acting {
  return { actor, admin: true, userId: null };
}
