import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Bytes spooled to a temporary file, with their size and base64 SHA-512. */
export interface SpooledFile {
  readonly file: string;
  readonly size: number;
  readonly sha512: string;
}

/** The source had more bytes than allowed; the temporary file is already gone. */
export class SpoolLimitError extends Error {
  constructor(readonly maxBytes: number) {
    super(`more than ${maxBytes} bytes`);
  }
}

/**
 * Streams bytes into a new file under `tempDir` while counting and hashing them, never holding them in memory; stops
 * as soon as `maxBytes` is passed. On any failure the partial file is removed and the error rethrown.
 * @example const { file, sha512 } = await spoolToTempFile(request.raw, '/data/tmp', 250 * 1024 * 1024)
 */
export async function spoolToTempFile(source: Readable, tempDir: string, maxBytes = Number.POSITIVE_INFINITY): Promise<SpooledFile> {
  const file = join(tempDir, `${randomUUID()}.spool`);
  const hash = createHash('sha512');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) return done(new SpoolLimitError(maxBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, meter, createWriteStream(file, { flags: 'wx' }));
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  }
  return { file, size, sha512: hash.digest('base64') };
}
