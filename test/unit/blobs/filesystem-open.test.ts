/**
 * Opening package files on the filesystem store: small files come whole as bytes, larger ones as a stream, a missing
 * one as null; many downloads at once (more than the reads it runs at a time) all get their own bytes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer, text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemBlobStore } from '../../../src/blobs/filesystem.js';
import { OpenFiles } from '../../../src/blobs/open-files.js';

let dir: string;
let blobs: FilesystemBlobStore;
const small = Array.from({ length: 100 }, (_, i) => randomBytes(1000 + i * 37));
const large = randomBytes(600 * 1024 + 3);

async function put(key: string, bytes: Buffer) {
  const file = join(dir, `upload-${Math.random()}.tmp`);
  await writeFile(file, bytes);
  await blobs.putFile(key, file);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pawket-blob-open-'));
  blobs = new FilesystemBlobStore(join(dir, 'blobs'));
  await Promise.all(small.map((bytes, i) => put(`packages/p${i}/1.0.0/p${i}.1.0.0.nupkg`, bytes)));
  await put('packages/large/1.0.0/large.1.0.0.nupkg', large);
  await put('packages/empty/1.0.0/empty.1.0.0.nupkg', Buffer.alloc(0));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('filesystem blob store: open', () => {
  it('reads small files whole, each its own bytes, also when many are asked for at once', async () => {
    const opened = await Promise.all(small.map((_, i) => blobs.open(`packages/p${i}/1.0.0/p${i}.1.0.0.nupkg`)));
    opened.forEach((content, i) => {
      expect(content!.size).toBe(small[i]!.length);
      expect(content!.bytes!.equals(small[i]!)).toBe(true);
    });
    // The stream form of the same bytes, for callers that pipe.
    expect((await buffer(opened[3]!.stream)).equals(small[3]!)).toBe(true);
    const empty = await blobs.open('packages/empty/1.0.0/empty.1.0.0.nupkg');
    expect(empty!.size).toBe(0);
    expect(await text(empty!.stream)).toBe('');
  });

  it('streams a large file, and answers null for a missing one', async () => {
    const content = await blobs.open('packages/large/1.0.0/large.1.0.0.nupkg');
    expect(content!.bytes).toBeUndefined();
    expect(content!.size).toBe(large.length);
    expect((await buffer(content!.stream)).equals(large)).toBe(true);
    expect(await blobs.open('packages/missing/1.0.0/missing.1.0.0.nupkg')).toBeNull();
  });
});

describe('small files kept open', () => {
  const path = (i: number) => join(dir, 'blobs', `packages/p${i}/1.0.0/p${i}.1.0.0.nupkg`);
  const bytesOf = (opened: Awaited<ReturnType<OpenFiles['read']>>) => (opened && 'bytes' in opened ? opened.bytes : null);

  it('keeps files that name their content open, within a number, and reads them right', async () => {
    const files = new OpenFiles(2, 60_000);
    for (const i of [0, 1, 0, 2, 0, 3]) expect(bytesOf(await files.read(path(i), true))!.equals(small[i]!)).toBe(true);
    expect(files.openCount).toBe(2);
    files.close();
    expect(files.openCount).toBe(0);
  });

  it('reads a path that may change fresh every time, and closes kept files left unused', async () => {
    const files = new OpenFiles(10, 50);
    const mutable = join(dir, 'mutable.json');
    await writeFile(mutable, 'first');
    expect(bytesOf(await files.read(mutable, false))!.toString()).toBe('first');
    await writeFile(`${mutable}.new`, 'second');
    await rename(`${mutable}.new`, mutable);
    expect(bytesOf(await files.read(mutable, false))!.toString()).toBe('second');
    expect(files.openCount).toBe(0);
    await files.read(path(5), true);
    expect(files.openCount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(files.openCount).toBe(0);
    files.close();
  });
});
