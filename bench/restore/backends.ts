/**
 * Starts the shared backend of the `postgres-s3` mode: a throw-away PostgreSQL cluster and an s3rver (the test
 * suite's helpers), creates the feed's database, writes the Pawket settings as shell `export` lines to the file
 * given as argument (written last, so its presence means "ready"), then stays alive until killed (SIGTERM/SIGINT),
 * when it stops both and removes their files.
 *
 * The file also exports BENCH_BACKEND_PIDS: this process (s3rver runs in it) and the PostgreSQL postmaster, whose
 * children are the per-connection backends; measure.ts counts their CPU as "backend CPU".
 *
 *   npx tsx bench/restore/backends.ts ENV_FILE
 */
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import { startTempPostgres } from '../../test/support/postgres.js';
import { S3RVER_KEY, startTempS3, TEST_BUCKET } from '../../test/support/s3.js';

const envFile = process.argv[2];
if (!envFile) throw new Error('usage: backends.ts ENV_FILE');

const postgres = await startTempPostgres();
const s3 = await startTempS3().catch(async (error: unknown) => {
  await postgres.stop();
  throw error;
});

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled([postgres.stop(), s3.stop()]);
  process.exit(code);
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

try {
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE pawket_bench');
  await admin.end();

  /** The postmaster: a `postgres` process whose command line holds this cluster's port. */
  const port = new URL(postgres.url).port;
  const postmaster = readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .find((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return /\/postgres$/.test(args[0] ?? '') && args.some((a, i) => (a === '-p' && args[i + 1] === port) || a === `-p ${port}`);
      } catch {
        return false;
      }
    });

  const database = new URL(postgres.url);
  database.pathname = '/pawket_bench';
  const env: Record<string, string> = {
    PAWKET_DATABASE: database.toString(),
    PAWKET_STORAGE: 's3',
    PAWKET_S3_BUCKET: TEST_BUCKET,
    PAWKET_S3_PREFIX: 'bench',
    PAWKET_S3_ENDPOINT: s3.endpoint,
    PAWKET_S3_FORCE_PATH_STYLE: 'true',
    PAWKET_S3_ACCESS_KEY_ID: S3RVER_KEY,
    PAWKET_S3_SECRET_ACCESS_KEY: S3RVER_KEY,
    // Downloads stream from s3rver through Pawket: with redirects the load generator (which does not follow them)
    // would measure 302 answers, not downloads.
    PAWKET_S3_REDIRECT_DOWNLOADS: 'false',
    BENCH_BACKEND_PIDS: [process.pid, ...(postmaster ? [postmaster] : [])].join(','),
  };
  await writeFile(envFile, Object.entries(env).map(([k, v]) => `export ${k}='${v}'`).join('\n') + '\n');
  process.stdout.write(`PostgreSQL at ${postgres.url}, s3rver at ${s3.endpoint} (bucket ${TEST_BUCKET}).\n`);
} catch (error) {
  process.stderr.write(`${String(error)}\n`);
  await stop(1);
}

// Stay alive until killed.
setInterval(() => {}, 1 << 30);
