import { randomUUID } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { access, copyFile, link, mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { BlobContent, BlobListing, BlobMeta, BlobStore, OpenOptions } from './blob-store.js';
import { OpenFiles } from './open-files.js';

/** One for the process: the number of files kept open is bounded however many feeds (stores) it serves. */
const openFiles = new OpenFiles();

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

  async open(key: string, options?: OpenOptions): Promise<BlobContent | null> {
    const path = this.path(key);
    const opened = await openFiles.read(path, options?.immutable === true);
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
