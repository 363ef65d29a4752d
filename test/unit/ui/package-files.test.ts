/**
 * Files the pages read from inside packages: a page's images load in parallel, and reads of one package that
 * overlap share one temporary copy instead of copying the package from storage once per image.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FeedEvents } from '../../../src/feed/events.js';
import type { PackageFile, PackageReader } from '../../../src/feed/package-reader.js';
import { PackageFiles } from '../../../src/http/ui/package-files.js';
import { buildNupkg } from '../../support/nupkg.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A reader serving one package's bytes as a stream (as object storage does), counting the opens. */
function fakeReader(bytes: Buffer): { reader: PackageReader; opens: () => number } {
  let opens = 0;
  const reader = {
    async open() {
      opens++;
      return { stream: Readable.from([bytes]), size: bytes.length };
    },
  } as unknown as PackageReader;
  return { reader, opens: () => opens };
}

const FILE = { lowerId: 'contoso.lib', lowerVersion: '1.0.0', blobKey: 'packages/contoso.lib/1.0.0/abc.nupkg' } as PackageFile;

describe('package files', () => {
  it('shares one copy between overlapping reads, removes it after, and caches what it read', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pawket-files-'));
    const names = ['a.png', 'b.png', 'c.png', 'd.png', 'e.png'];
    const pkg = await buildNupkg({ id: 'Contoso.Lib', version: '1.0.0', files: names.map((name) => ({ name, data: `image ${name}` })) });
    const { reader, opens } = fakeReader(pkg);
    const files = new PackageFiles(reader, dir, new FeedEvents());

    const results = await Promise.all(names.map((name) => files.read(FILE, [{ name, maxBytes: 1024 }])));
    expect(results.map((r, i) => r.get(names[i]!)?.toString())).toEqual(names.map((n) => `image ${n}`));
    expect(opens()).toBe(1);
    expect(await readdir(dir)).toEqual([]);

    // Cached: no copy at all; a name not read yet needs a new one.
    expect((await files.read(FILE, [{ name: 'a.png', maxBytes: 1024 }])).get('a.png')?.toString()).toBe('image a.png');
    expect(opens()).toBe(1);
    expect((await files.read(FILE, [{ name: 'missing.png', maxBytes: 1024 }])).get('missing.png')).toBeNull();
    expect(opens()).toBe(2);
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports entries over their cap as absent', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pawket-files-'));
    const pkg = await buildNupkg({ id: 'Contoso.Lib', version: '1.0.0', files: [{ name: 'big.png', data: Buffer.alloc(2048, 1) }] });
    const files = new PackageFiles(fakeReader(pkg).reader, dir, new FeedEvents());
    expect((await files.read(FILE, [{ name: 'big.png', maxBytes: 1024 }])).get('big.png')).toBeNull();
  });
});
