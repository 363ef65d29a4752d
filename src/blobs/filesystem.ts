import { randomUUID } from 'node:crypto';
import { close, constants, createReadStream, fstat, open as openFd, read } from 'node:fs';
import { Readable } from 'node:stream';
import { access, copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { BlobContent, BlobListing, BlobStore } from './blob-store.js';

/**
 * Files up to this size are read whole into one buffer: most packages are a few KiB, where a stream would cost more
 * thread-pool round trips and a 64 KiB buffer for nothing. Reads run on libuv's thread pool, never on the event loop:
 * a file not in the page cache must not stall every other request.
 */
const SMALL_FILE_BYTES = 256 * 1024;
/** Whole-file reads at once; more wait their turn. Bounds the memory they hold (this x SMALL_FILE_BYTES at most). */
const READS_IN_FLIGHT = 32;

/** A small file's bytes, or the open descriptor and size of a larger one (for a stream), or null if it does not exist. */
type Opened = { readonly bytes: Buffer } | { readonly fd: number; readonly size: number } | null;

let reading = 0;
const waiting: Array<() => void> = [];

/** Runs `work` within READS_IN_FLIGHT; a finished read hands its turn to the longest waiting one. */
async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (reading < READS_IN_FLIGHT) reading++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else reading--;
  }
}

/** Opens a file and reads it whole when it is small: open, fstat and read on the thread pool, the close left behind. */
function openFile(path: string): Promise<Opened> {
  return new Promise<Opened>((resolve, reject) => {
    openFd(path, 'r', (openError, fd) => {
      if (openError) return openError.code === 'ENOENT' ? resolve(null) : reject(openError);
      const fail = (error: Error) => {
        close(fd, () => {});
        reject(error);
      };
      fstat(fd, (statError, stats) => {
        if (statError) return fail(statError);
        if (stats.size > SMALL_FILE_BYTES) return resolve({ fd, size: stats.size });
        const bytes = Buffer.allocUnsafeSlow(stats.size);
        const fill = (offset: number) => {
          if (offset === bytes.length) {
            close(fd, () => {});
            return resolve({ bytes });
          }
          read(fd, bytes, offset, bytes.length - offset, offset, (readError, count) => {
            if (readError) return fail(readError);
            if (count === 0) {
              // Shorter than it was a moment ago: what is there.
              close(fd, () => {});
              return resolve({ bytes: bytes.subarray(0, offset) });
            }
            fill(offset + count);
          });
        };
        fill(0);
      });
    });
  });
}

/** Blobs as plain files under one root folder; keys map to relative paths. */
export class FilesystemBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private path(key: string): string {
    // Keys come from validated ids/versions; this guard keeps a future bug from escaping the root.
    if (key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new Error(`Invalid blob key: ${key}`);
    }
    return join(this.root, ...key.split('/'));
  }

  async putFile(key: string, tempFile: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(tempFile, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      // Another filesystem: copied beside the target and renamed into place. Copying onto the key itself would truncate
      // a file a row may already point to (the same bytes pushed again), which readers would see, and a failed copy
      // (a full disk) removes its target.
      const partial = `${target}.${randomUUID()}.partial`;
      try {
        await copyFile(tempFile, partial);
        await rename(partial, target);
      } catch (copyError) {
        await rm(partial, { force: true });
        throw copyError;
      }
      await unlink(tempFile);
    }
  }

  async open(key: string): Promise<BlobContent | null> {
    const path = this.path(key);
    const opened = await inTurn(() => openFile(path));
    if (!opened) return null;
    if ('bytes' in opened) {
      const { bytes } = opened;
      return {
        size: bytes.length,
        bytes,
        get stream() {
          return Readable.from([bytes]);
        },
      };
    }
    // The stream owns the descriptor and closes it, also when the client goes away mid-download.
    return { stream: createReadStream('', { fd: opened.fd, autoClose: true }), size: opened.size };
  }

  async readRange(key: string, start: number, length: number): Promise<Buffer | null> {
    let handle;
    try {
      handle = await open(this.path(key), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      const bytes = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(bytes, filled, length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? bytes : bytes.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.R_OK | constants.W_OK);
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async *list(): AsyncIterable<BlobListing> {
    let entries;
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const { mtime } = await stat(path);
      yield { key: relative(this.root, path).split(sep).join('/'), modified: mtime };
    }
  }
}
