import type { AccessDatabase, AuditEntry, AuditQuery } from '../db/access-database.js';
import type { Actor } from './auth.js';

/** What the audit log records; `*.denied` are refusals (403) of authenticated keys. */
export type AuditAction =
  | 'push'
  | 'unlist'
  | 'relist'
  | 'delete'
  | 'push.denied'
  | 'unlist.denied'
  | 'key.create'
  | 'key.revoke'
  | 'key.rotate'
  | 'owner.add'
  | 'owner.remove'
  /** Someone who may not manage an id's owners tried to. */
  | 'owner.denied'
  | 'prefix.reserve'
  | 'prefix.release'
  | 'deprecate'
  | 'undeprecate'
  | 'advisory.file'
  | 'advisory.withdraw'
  | 'advisory.denied'
  /** A key used on a feed it is not valid on, for anything not counted above (the admin API of a feed). */
  | 'access.denied'
  | (string & {});

/**
 * The audit log: who (key and owner), what, when, from which address. Rows are written after the change they record
 * commits, so a crash in between can lose a row but never records something that did not happen.
 *
 * @example await audit.record(principal, 'push', 'Contoso.Core 1.0.0')
 */
export class AuditLog {
  constructor(
    private readonly store: AccessDatabase,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(actor: Actor, action: AuditAction, target: string, detail: string | null = null): Promise<void> {
    await this.store.appendAudit({
      at: this.now().toISOString(),
      keyId: actor.keyId,
      actor: actor.name,
      owner: actor.owner,
      action,
      target,
      detail,
      address: actor.address,
    });
  }

  /** Newest first. */
  list(query: AuditQuery): Promise<AuditEntry[]> {
    return this.store.listAudit(query);
  }
}
