import type { Kysely } from 'kysely';
import type { PendingBlob, PendingBlobDatabase } from './pending-blob-database.js';
import type { Tables } from './schema.js';

/** Table shape of pending-blob-migrations.ts. */
export type PendingBlobTables = {
  pending_blobs: { blob_key: string; written_at: string };
};

export class KyselyPendingBlobDatabase implements PendingBlobDatabase {
  private readonly k: Kysely<Tables & PendingBlobTables>;

  constructor(db: Kysely<Tables>) {
    this.k = db as unknown as Kysely<Tables & PendingBlobTables>;
  }

  async record(blobKey: string, writtenAt: string): Promise<void> {
    await this.k
      .insertInto('pending_blobs')
      .values({ blob_key: blobKey, written_at: writtenAt })
      .onConflict((oc) => oc.column('blob_key').doUpdateSet({ written_at: writtenAt }))
      .execute();
  }

  async olderThan(before: string, limit: number): Promise<PendingBlob[]> {
    const rows = await this.k
      .selectFrom('pending_blobs')
      .select(['blob_key', 'written_at'])
      .where('written_at', '<', before)
      .orderBy('written_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ blobKey: r.blob_key, writtenAt: r.written_at }));
  }

  async forget(entry: PendingBlob): Promise<boolean> {
    const result = await this.k
      .deleteFrom('pending_blobs')
      .where('blob_key', '=', entry.blobKey)
      .where('written_at', '=', entry.writtenAt)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async count(): Promise<number> {
    const row = await this.k.selectFrom('pending_blobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
