import { constants } from 'node:fs';
import { access, copyFile, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { BlobContent, BlobListing, BlobStore } from './blob-store.js';

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
      await copyFile(tempFile, target);
      await unlink(tempFile);
    }
  }

  async open(key: string): Promise<BlobContent | null> {
    let handle;
    try {
      handle = await open(this.path(key), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const { size } = await handle.stat();
    // The stream owns the handle and closes it, also when the client goes away mid-download.
    return { stream: handle.createReadStream({ autoClose: true }), size };
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
