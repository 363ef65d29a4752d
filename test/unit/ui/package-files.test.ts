/**
 * Files the pages read from inside packages: read from the stored package in pieces (its entry list, then one
 * entry), never copied; a name the package does not have is answered from the cached entry list; and both caches
 * evict, by count as well as by bytes.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FeedEvents } from '../../../src/feed/events.js';
import type { PackageFile, PackageReader } from '../../../src/feed/package-reader.js';
import { PACKAGE_FILES_CACHE, PackageFiles } from '../../../src/http/ui/package-files.js';
import { buildNupkg } from '../../support/nupkg.js';

/** A reader serving one package's bytes in pieces (as ranged reads from storage do), counting what it fetched. */
function fakeReader(bytes: Buffer, fail = false) {
  const stats = { reads: 0, bytes: 0 };
  const reader = {
    randomAccess: () => ({
      size: bytes.length,
      async read(start: number, length: number) {
        if (fail) throw new Error('storage is down');
        stats.reads++;
        const slice = bytes.subarray(start, start + length);
        stats.bytes += slice.length;
        return slice;
      },
    }),
  } as unknown as PackageReader;
  return { reader, stats };
}

const fileOf = (blobKey = 'packages/contoso.lib/1.0.0/abc.nupkg') =>
  ({ id: 'Contoso.Lib', version: '1.0.0', lowerId: 'contoso.lib', lowerVersion: '1.0.0', blobKey }) as PackageFile;
const FILE = fileOf();

describe('package files', () => {
  it('reads the entry list once for overlapping reads, then only the entries asked for', async () => {
    const names = ['a.png', 'b.png', 'c.png', 'd.png', 'e.png'];
    const payload = randomBytes(2 * 1024 * 1024);
    const pkg = await buildNupkg({
      id: 'Contoso.Lib',
      version: '1.0.0',
      files: [...names.map((name) => ({ name, data: `image ${name}` })), { name: 'content/payload.bin', data: payload, compress: false }],
    });
    const { reader, stats } = fakeReader(pkg);
    const files = new PackageFiles(reader, new FeedEvents());

    const results = await Promise.all(names.map((name) => files.read(FILE, [{ name, maxBytes: 1024 }])));
    expect(results.map((r, i) => r.get(names[i]!)?.toString())).toEqual(names.map((n) => `image ${n}`));
    // The tail with the entry list and the five small entries: nothing near the payload.
    expect(stats.bytes).toBeLessThan(pkg.length / 10);

    // Cached entries, and names the package does not have: no storage read at all.
    const before = { ...stats };
    expect((await files.read(FILE, [{ name: 'a.png', maxBytes: 1024 }])).get('a.png')?.toString()).toBe('image a.png');
    for (let i = 0; i < 100; i++) {
      expect((await files.read(FILE, [{ name: `img/missing-${i}.png`, maxBytes: 1024 }])).get(`img/missing-${i}.png`)).toBeNull();
    }
    expect(stats).toEqual(before);
  });

  it('reports entries over their cap as absent', async () => {
    const pkg = await buildNupkg({ id: 'Contoso.Lib', version: '1.0.0', files: [{ name: 'big.png', data: Buffer.alloc(2048, 1) }] });
    const files = new PackageFiles(fakeReader(pkg).reader, new FeedEvents());
    expect((await files.read(FILE, [{ name: 'big.png', maxBytes: 1024 }])).get('big.png')).toBeNull();
  });

  it('keeps at most its count of files, however small', async () => {
    const count = PACKAGE_FILES_CACHE.entries + 10;
    const names = Array.from({ length: count }, (_, i) => `img/${i}.png`);
    const pkg = await buildNupkg({ id: 'Contoso.Lib', version: '1.0.0', files: names.map((name) => ({ name, data: 'x', compress: false })) });
    const { reader, stats } = fakeReader(pkg);
    const files = new PackageFiles(reader, new FeedEvents());
    for (const name of names) await files.read(FILE, [{ name, maxBytes: 1024 }]);
    const reads = stats.reads;
    // The most recent are still cached; the first were evicted and are read again.
    await files.read(FILE, [{ name: names.at(-1)!, maxBytes: 1024 }]);
    expect(stats.reads).toBe(reads);
    expect((await files.read(FILE, [{ name: names[0]!, maxBytes: 1024 }])).get(names[0]!)?.toString()).toBe('x');
    expect(stats.reads).toBeGreaterThan(reads);
  });

  it('keeps the entry lists of at most its count of packages', async () => {
    const pkg = await buildNupkg({ id: 'Contoso.Lib', version: '1.0.0' });
    const { reader, stats } = fakeReader(pkg);
    const files = new PackageFiles(reader, new FeedEvents());
    const keys = Array.from({ length: PACKAGE_FILES_CACHE.directories + 1 }, (_, i) => `packages/contoso.lib/1.0.0/${i}.nupkg`);
    for (const key of keys) await files.read(fileOf(key), [{ name: 'missing.png', maxBytes: 1024 }]);
    const reads = stats.reads;
    await files.read(fileOf(keys.at(-1)), [{ name: 'missing.png', maxBytes: 1024 }]);
    expect(stats.reads).toBe(reads);
    await files.read(fileOf(keys[0]), [{ name: 'missing.png', maxBytes: 1024 }]);
    expect(stats.reads).toBeGreaterThan(reads);
  });

  it('passes storage failures on (a server error), and remembers nothing of them', async () => {
    const pkg = await buildNupkg({ id: 'Contoso.Lib', version: '1.0.0', files: [{ name: 'a.png', data: 'image' }] });
    const files = new PackageFiles(fakeReader(pkg, true).reader, new FeedEvents());
    await expect(files.read(FILE, [{ name: 'a.png', maxBytes: 1024 }])).rejects.toThrow('storage is down');
    await expect(files.read(FILE, [{ name: 'a.png', maxBytes: 1024 }])).rejects.toThrow('storage is down');
  });

  it('drops what it keeps of an id when the id changes', async () => {
    const pkg = await buildNupkg({ id: 'Contoso.Lib', version: '1.0.0', files: [{ name: 'a.png', data: 'image' }] });
    const { reader, stats } = fakeReader(pkg);
    const events = new FeedEvents();
    const files = new PackageFiles(reader, events);
    await files.read(FILE, [{ name: 'a.png', maxBytes: 1024 }]);
    const reads = stats.reads;
    events.packageChanged('contoso.lib');
    await files.read(FILE, [{ name: 'missing.png', maxBytes: 1024 }]);
    expect(stats.reads).toBeGreaterThan(reads);
  });
});
