import SQLite from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { cachingStatements } from '../../../src/db/statement-cache.js';

interface Tables {
  item: { id: number; name: string };
}

/** An in-memory database whose prepare calls are counted. */
function counted(capacity?: number) {
  const sqlite = new SQLite(':memory:');
  const prepared: string[] = [];
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((text: string) => {
    prepared.push(text);
    return prepare(text);
  }) as typeof sqlite.prepare;
  sqlite.exec('create table item (id integer primary key, name text not null)');
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite, capacity) }) });
  return { db, prepared, sqlite };
}

let open: Kysely<Tables>[] = [];
afterEach(async () => {
  await Promise.all(open.map((db) => db.destroy()));
  open = [];
});

describe('SQLite statements prepared once per SQL text', () => {
  it('prepares a query once however often it runs, with other parameters each time', async () => {
    const { db, prepared } = counted();
    open.push(db);
    for (let i = 1; i <= 5; i++) await db.insertInto('item').values({ id: i, name: `n${i}` }).execute();
    for (let i = 1; i <= 5; i++) {
      expect(await db.selectFrom('item').select('name').where('id', '=', i).executeTakeFirst()).toEqual({ name: `n${i}` });
    }
    expect(prepared.filter((s) => s.startsWith('insert'))).toHaveLength(1);
    expect(prepared.filter((s) => s.startsWith('select'))).toHaveLength(1);
  });

  it('keeps committed and rolled back transactions right, and its statements usable after them', async () => {
    const { db } = counted();
    open.push(db);
    const insert = (tx: Kysely<Tables>, id: number) => tx.insertInto('item').values({ id, name: 'x' }).execute();
    await db.transaction().execute((tx) => insert(tx, 1));
    await expect(
      db.transaction().execute(async (tx) => {
        await insert(tx, 2);
        await insert(tx, 1); // duplicate key: the whole transaction rolls back
      }),
    ).rejects.toThrow(/UNIQUE/);
    await db.transaction().execute((tx) => insert(tx, 3));
    const ids = await db.selectFrom('item').select('id').orderBy('id').execute();
    expect(ids.map((r) => r.id)).toEqual([1, 3]);
  });

  it('sees a schema change made after a statement was prepared', async () => {
    const { db } = counted();
    open.push(db);
    await db.insertInto('item').values({ id: 1, name: 'a' }).execute();
    expect(await db.selectFrom('item').selectAll().execute()).toEqual([{ id: 1, name: 'a' }]);
    await sql`alter table item add column extra text not null default 'e'`.execute(db);
    expect(await db.selectFrom('item').selectAll().execute()).toEqual([{ id: 1, name: 'a', extra: 'e' }]);
  });

  it('gives the same SQL a statement of its own while a streamed query still reads it', () => {
    const sqlite = new SQLite(':memory:');
    sqlite.exec("create table item (id integer primary key, name text not null); insert into item values (1, 'a'), (2, 'b')");
    const cache = cachingStatements(sqlite);
    const text = 'select name from item order by id';
    const outer = cache.prepare(text);
    const seen: unknown[] = [];
    for (const row of outer.iterate([])) {
      // Without a statement of its own, better-sqlite3 refuses: the statement is busy executing a query.
      seen.push(row, cache.prepare(text).all([]));
    }
    expect(seen).toEqual([{ name: 'a' }, [{ name: 'a' }, { name: 'b' }], { name: 'b' }, [{ name: 'a' }, { name: 'b' }]]);
    expect(cache.prepare(text)).toBe(outer);
    cache.close();
  });

  it('drops the least recently used statement beyond its capacity', async () => {
    const { db, prepared } = counted(2);
    open.push(db);
    const byId = () => db.selectFrom('item').select('name').where('id', '=', 1).execute();
    const byName = () => db.selectFrom('item').select('id').where('name', '=', 'a').execute();
    const all = () => db.selectFrom('item').selectAll().execute();
    await byId();
    await byName();
    await byId(); // byName is now the least recently used
    await all(); // drops byName
    await byId();
    await byName();
    expect(prepared.filter((s) => s.includes('"id" = ?'))).toHaveLength(1);
    expect(prepared.filter((s) => s.includes('"name" = ?'))).toHaveLength(2);
  });
});
