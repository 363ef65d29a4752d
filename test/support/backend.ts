import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ConfigInput } from '../../src/config/schema.js';
import { S3RVER_KEY, TEST_BUCKET } from './s3.js';

/**
 * Which storage the test suite runs on: `sqlite` (embedded default: SQLite + filesystem) or `postgres-s3`
 * (PostgreSQL + S3-compatible storage, started by test/support/global-setup.ts).
 */
export const backend = process.env.PAWKET_TEST_BACKEND === 'postgres-s3' ? 'postgres-s3' : 'sqlite';

/**
 * Settings for a fresh, empty feed on the selected backend: a new database and a new key prefix per call, so tests
 * never see each other's packages. Empty for the embedded backend (the data dir is fresh already).
 */
export async function freshBackendSettings(): Promise<Partial<ConfigInput>> {
  if (backend === 'sqlite') return {};
  const adminUrl = process.env.PAWKET_TEST_PG_URL;
  const endpoint = process.env.PAWKET_TEST_S3_ENDPOINT;
  if (!adminUrl || !endpoint) throw new Error('postgres-s3 backend selected but global setup did not start the servers');
  const name = `pawket_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    database: url.toString(),
    storage: 's3',
    s3Bucket: TEST_BUCKET,
    s3Prefix: name,
    s3Endpoint: endpoint,
    s3ForcePathStyle: true,
    s3AccessKeyId: S3RVER_KEY,
    s3SecretAccessKey: S3RVER_KEY,
  };
}

/** The same settings as PAWKET_* environment variables, for server processes the tests spawn. */
export async function freshBackendEnv(): Promise<Record<string, string>> {
  const settings = await freshBackendSettings();
  return Object.fromEntries(
    Object.entries(settings).map(([k, v]) => [`PAWKET_${k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}`, String(v)]),
  );
}
