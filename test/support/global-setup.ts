import type { TestProject } from 'vitest/node';
import { backend } from './backend.js';
import { startTempPostgres, type TempPostgres } from './postgres.js';
import { startTempS3, type TempS3 } from './s3.js';

/** For the postgres-s3 run: one PostgreSQL cluster and one S3 server for the whole suite (each test gets its own database and prefix). */
export default async function setup(_project: TestProject) {
  if (backend !== 'postgres-s3') return;
  let pg: TempPostgres | undefined;
  let s3: TempS3 | undefined;
  try {
    pg = await startTempPostgres();
    s3 = await startTempS3();
  } catch (e) {
    await pg?.stop();
    throw e;
  }
  // Workers and the server processes tests spawn inherit these.
  process.env.PAWKET_TEST_PG_URL = pg.url;
  process.env.PAWKET_TEST_S3_ENDPOINT = s3.endpoint;
  return async () => {
    await s3?.stop();
    await pg?.stop();
  };
}
