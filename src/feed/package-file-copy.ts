import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../blobs/blob-store.js';
import { PawketError } from '../errors.js';

/**
 * A stored package file copied to a new temporary file (zip reading needs a file); the caller removes it. A file
 * missing from storage is a 500 naming the package (`what`, e.g. `package Contoso.Lib 1.0.0`).
 */
export async function copyPackageToTemp(blobs: BlobStore, blobKey: string, tempDir: string, what: string): Promise<string> {
  const content = await blobs.open(blobKey);
  if (!content) throw new PawketError(500, `The file of ${what} is missing from storage.`);
  const file = join(tempDir, `${randomUUID()}.nupkg`);
  try {
    await pipeline(content.stream, createWriteStream(file, { flags: 'wx' }));
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  return file;
}
