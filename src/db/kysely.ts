import { createRequire } from 'node:module';
import type * as KyselyModule from 'kysely';

/**
 * Kysely's values (classes and `sql`) from its CommonJS build. Node 20 loads the ESM build, some 260 small files, in
 * about twice the time of the CommonJS one, on every start of every command. Every module of Pawket takes kysely's
 * values from here, so one build is loaded (one set of classes); types still come from `import type ... 'kysely'`.
 */
const kysely = createRequire(import.meta.url)('kysely') as typeof KyselyModule;

export const { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } = kysely;
