import type { Readable } from 'node:stream';

export interface BlobContent {
  readonly stream: Readable;
  readonly size: number;
  /** The whole content, when the store read it in one go (small local files): send it without a stream. */
  readonly bytes?: Buffer;
}

/**
 * Where package files live (local filesystem by default, S3-compatible for scale-out).
 * Keys are '/'-separated relative paths built only from validated, lower-cased ids and normalized versions.
 */
export interface BlobListing {
  readonly key: string;
  readonly modified: Date;
}

/** Headers an object store keeps with a blob and answers it with (materialized documents, docs/DEPLOYMENT.md). */
export interface BlobMeta {
  readonly contentType: string;
  readonly cacheControl: string;
  readonly contentEncoding?: 'gzip';
  readonly contentDisposition?: string;
}

export interface BlobStore {
  /** Takes ownership of a finished temporary file and stores it under `key` (replacing any previous content). */
  putFile(key: string, tempFile: string): Promise<void>;
  /** Opens a blob for streaming, or null when it does not exist. */
  open(key: string): Promise<BlobContent | null>;
  /**
   * The bytes of `[start, start + length)` of a blob, fewer where the blob ends, or null when it does not exist: parts
   * of a package (its entry list, one file in it) without fetching or copying the rest.
   */
  readRange(key: string, start: number, length: number): Promise<Buffer | null>;
  /** Stores small content under `key`, replacing any previous content at once: readers see the old or the new bytes. */
  putBytes(key: string, bytes: Buffer, meta: BlobMeta): Promise<void>;
  /**
   * Stores a copy of blob `from` under `to` (replacing it at once) without passing its bytes through this process where
   * the store allows (a hard link on disk, a server-side copy in object storage); false when `from` does not exist.
   */
  copy(from: string, to: string, meta: BlobMeta): Promise<boolean>;
  /** Removes a blob; removing a missing blob is not an error. */
  delete(key: string): Promise<void>;
  /** Every blob in the store (or under a key prefix ending in `/`) with its last write time. */
  list(prefix?: string): AsyncIterable<BlobListing>;
  /** A URL the client may fetch the blob from directly instead of through this node, when the store offers one. */
  redirectUrl?(key: string): Promise<string | null>;
  /** Throws when the store cannot be reached (readiness checks). */
  ping(): Promise<void>;
  close?(): void;
}
