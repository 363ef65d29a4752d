import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export const TEST_BUCKET = 'pawket-test';
/** s3rver's fixed credentials. */
export const S3RVER_KEY = 'S3RVER';

export interface TempS3 {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** An S3-compatible server (s3rver) on loopback with one bucket, driven by the real AWS SDK. */
export async function startTempS3(): Promise<TempS3> {
  const directory = await mkdtemp(join(tmpdir(), 'pawket-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: [{ name: TEST_BUCKET, configs: [] }],
  });
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
