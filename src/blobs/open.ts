import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { BlobStore } from './blob-store.js';
import { FilesystemBlobStore } from './filesystem.js';

/**
 * The blob store the configuration names: a folder under the data dir (default) or an S3-compatible bucket.
 * The AWS SDK is loaded only when used: it weighs tens of MiB of memory an embedded feed does not need.
 */
export async function openBlobStore(config: Config, dataDir: string): Promise<BlobStore> {
  if (config.storage === 'filesystem') return new FilesystemBlobStore(join(dataDir, 'blobs'));
  const { S3BlobStore } = await import('./s3.js');
  return new S3BlobStore({
    bucket: config.s3Bucket!,
    prefix: config.s3Prefix,
    region: config.s3Region,
    forcePathStyle: config.s3ForcePathStyle,
    redirectDownloads: config.s3RedirectDownloads,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    ...(config.s3AccessKeyId ? { accessKeyId: config.s3AccessKeyId } : {}),
    ...(config.s3SecretAccessKey ? { secretAccessKey: config.s3SecretAccessKey } : {}),
  });
}
