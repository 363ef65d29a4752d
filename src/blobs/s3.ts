import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobContent, BlobListing, BlobMeta, BlobStore } from './blob-store.js';

export interface S3BlobStoreOptions {
  readonly bucket: string;
  /** Key prefix inside the bucket, e.g. `pawket/`; lets several feeds share a bucket. */
  readonly prefix: string;
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** Send downloads to presigned URLs (the object store serves the bytes). */
  readonly redirectDownloads: boolean;
}

/** Blobs in an S3-compatible bucket; uploads and downloads stream, never buffering a whole package. */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: S3BlobStoreOptions) {
    const config: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      // Without explicit keys the SDK's default chain applies (environment, profile, instance role).
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
    };
    this.client = new S3Client(config);
    this.prefix = options.prefix && !options.prefix.endsWith('/') ? `${options.prefix}/` : options.prefix;
  }

  private key(key: string): string {
    return this.prefix + key;
  }

  async putFile(key: string, tempFile: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: this.key(key), Body: createReadStream(tempFile) },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
    });
    await upload.done();
    await unlink(tempFile);
  }

  async putBytes(key: string, bytes: Buffer, meta: BlobMeta): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.key(key), Body: bytes, ...headers(meta) }));
  }

  async copy(from: string, to: string, meta: BlobMeta): Promise<boolean> {
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(to),
          CopySource: `${this.options.bucket}/${this.key(from)}`.split('/').map(encodeURIComponent).join('/'),
          MetadataDirective: 'REPLACE',
          ...headers(meta),
        }),
      );
      return true;
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (e instanceof NoSuchKey || name === 'NoSuchKey' || name === 'NotFound') return false;
      throw e;
    }
  }

  async open(key: string): Promise<BlobContent | null> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
      return { stream: result.Body as Readable, size: Number(result.ContentLength ?? 0) };
    } catch (e) {
      if (e instanceof NoSuchKey || (e as { name?: string }).name === 'NoSuchKey') return null;
      throw e;
    }
  }

  async readRange(key: string, start: number, length: number): Promise<Buffer | null> {
    // At least two bytes, kept as many as asked for: an empty range cannot be asked for (the answer still says whether
    // the blob exists), and some S3-compatible servers take `bytes=0-0` for the whole object.
    const last = start + Math.max(length, 2) - 1;
    try {
      const result = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key), Range: `bytes=${start}-${last}` }),
      );
      if (Number(result.ContentLength ?? 0) > last - start + 1) {
        // A store that ignores ranges would send the whole object: never read that into memory.
        (result.Body as Readable | undefined)?.destroy();
        throw new Error(`The object store answered ${result.ContentLength} bytes for a range of ${last - start + 1}.`);
      }
      const bytes = Buffer.from(await result.Body!.transformToByteArray());
      return bytes.subarray(0, Math.min(length, bytes.length));
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (e instanceof NoSuchKey || name === 'NoSuchKey') return null;
      // A range that starts at or past the end: the blob exists and has nothing there.
      if (name === 'InvalidRange') return Buffer.alloc(0);
      throw e;
    }
  }

  /** A presigned URL valid for five minutes, when downloads are configured to redirect. */
  async redirectUrl(key: string): Promise<string | null> {
    if (!this.options.redirectDownloads) return null;
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }), {
      expiresIn: 300,
    });
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
  }

  async *list(prefix = ''): AsyncIterable<BlobListing> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        yield { key: object.Key.slice(this.prefix.length), modified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  close(): void {
    this.client.destroy();
  }
}

/** A blob's headers as S3 object metadata: what a bucket or a CDN in front of it answers with. */
function headers(meta: BlobMeta) {
  return {
    ContentType: meta.contentType,
    CacheControl: meta.cacheControl,
    ...(meta.contentEncoding ? { ContentEncoding: meta.contentEncoding } : {}),
    ...(meta.contentDisposition ? { ContentDisposition: meta.contentDisposition } : {}),
  };
}
