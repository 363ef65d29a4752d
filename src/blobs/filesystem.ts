import { randomUUID } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { access, copyFile, link, mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { BlobContent, BlobListing, BlobMeta, BlobStore } from './blob-store.js';

/**
 * Files up to this size are read in one synchronous call: most packages are a few KiB and sit in the page cache, where
 * one read on the main thread costs microseconds, while a stream costs five thread-pool round trips and a 64 KiB buffer.
 */
const SMALL_FILE_BYTES = 256 * 1024;
const TOO_LARGE = Symbol('too large');

/** The whole file if it is small, TOO_LARGE if not, null if it does not exist. */
function readSmallFile(path: string): Buffer | null | typeof TOO_LARGE {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const { size } = fstatSync(fd);
    if (size > SMALL_FILE_BYTES) return TOO_LARGE;
    const bytes = Buffer.allocUnsafe(size);
    let offset = 0;
    while (offset < size) {
      const read = readSync(fd, bytes, offset, size - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return offset === size ? bytes : bytes.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
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

  async putBytes(key: string, bytes: Buffer, _meta: BlobMeta): Promise<void> {
    await this.replace(key, (partial) => writeFile(partial, bytes));
  }

  async copy(from: string, to: string, _meta: BlobMeta): Promise<boolean> {
    const source = this.path(from);
    try {
      // A hard link costs no space and no copying; another filesystem (or one without links) gets a copy.
      await this.replace(to, (partial) => link(source, partial).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? Promise.reject(e) : copyFile(source, partial))));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  /** Writes beside the target and renames into place: a reader never sees a partial file. */
  private async replace(key: string, write: (partial: string) => Promise<void>): Promise<void> {
    const target = this.path(key);
    const partial = `${target}.${randomUUID()}.partial`;
    try {
      await write(partial);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await mkdir(dirname(target), { recursive: true });
      await write(partial);
    }
    try {
      await rename(partial, target);
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
  }

  async open(key: string): Promise<BlobContent | null> {
    const path = this.path(key);
    const small = readSmallFile(path);
    if (small === null) return null;
    if (small !== TOO_LARGE) {
      return {
        size: small.length,
        bytes: small,
        get stream() {
          return Readable.from([small]);
        },
      };
    }
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const { size } = await handle.stat();
    // The stream owns the handle and closes it, also when the client goes away mid-download.
    return { stream: handle.createReadStream({ autoClose: true }), size };
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

  async *list(prefix = ''): AsyncIterable<BlobListing> {
    let entries;
    try {
      entries = await readdir(prefix ? this.path(prefix.replace(/\/$/, '')) : this.root, { recursive: true, withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      let mtime: Date;
      try {
        ({ mtime } = await stat(path));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed since the listing
        throw e;
      }
      yield { key: relative(this.root, path).split(sep).join('/'), modified: mtime };
    }
  }
}
