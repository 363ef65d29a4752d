/**
 * Ranged reads from blob storage, on the suite's backend (a folder, or S3-compatible storage in the PostgreSQL + S3
 * pass): the bytes asked for and no others, short where the blob ends, empty past its end, null for a missing blob.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../../src/blobs/blob-store.js';
import { openBlobStore } from '../../../src/blobs/open.js';
import { configSchema } from '../../../src/config/schema.js';
import { backend, freshBackendSettings } from '../../support/backend.js';

const KEY = 'packages/contoso.lib/1.0.0/contoso.lib.1.0.0.nupkg';
/** Bigger than what the filesystem store reads in one call, so both of its paths are the same here. */
const content = randomBytes(300 * 1024 + 7);
let dir: string;
let blobs: BlobStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pawket-blob-range-'));
  const config = configSchema.parse({ dataDir: dir, logLevel: 'silent', ...(await freshBackendSettings()) });
  blobs = await openBlobStore(config, dir);
  const file = join(dir, 'upload.tmp');
  await writeFile(file, content);
  await blobs.putFile(KEY, file);
});

afterAll(async () => {
  blobs?.close?.();
  await rm(dir, { recursive: true, force: true });
});

describe(`ranged blob reads (${backend})`, () => {
  it('answers exactly the bytes of the range', async () => {
    for (const [start, length] of [
      [0, 1],
      [0, 22],
      [1000, 4096],
      [123_457, 65_536],
      [0, content.length],
    ] as const) {
      const bytes = await blobs.readRange(KEY, start, length);
      expect(bytes?.equals(content.subarray(start, start + length)), `${start}+${length}`).toBe(true);
    }
  });

  it('stops where the blob ends', async () => {
    const tail = await blobs.readRange(KEY, content.length - 10, 64 * 1024);
    expect(tail?.equals(content.subarray(content.length - 10))).toBe(true);
    expect((await blobs.readRange(KEY, content.length, 100))?.length).toBe(0);
    expect((await blobs.readRange(KEY, content.length + 1000, 100))?.length).toBe(0);
    expect((await blobs.readRange(KEY, 10, 0))?.length).toBe(0);
  });

  it('answers null for a blob that does not exist', async () => {
    expect(await blobs.readRange('packages/contoso.lib/9.9.9/none.nupkg', 0, 100)).toBeNull();
    expect(await blobs.readRange('packages/contoso.lib/9.9.9/none.nupkg', 0, 0)).toBeNull();
  });
});
