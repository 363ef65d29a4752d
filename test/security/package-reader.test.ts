/**
 * Hostile packages: XML attacks on the nuspec, zip bombs, path traversal and oversized archives. Each must be a
 * 400 that names the problem, decided quickly and without allocating what the attacker asks for.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PawketError } from '../../src/errors.js';
import { parseNuspec } from '../../src/nuget/nuspec.js';
import { openPackageArchive, openPackageArchiveFrom, readPackageFile } from '../../src/package/read.js';
import { buildNupkg, buildZip, nuspecXml } from '../support/nupkg.js';
import { badRequestMessageOf as rejection, badRequestMessage as syncRejection } from '../support/bad-request.js';

const MiB = 1024 * 1024;
let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pawket-hostile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tempFile(bytes: Buffer): Promise<string> {
  const path = join(dir, `h${counter++}.nupkg`);
  await writeFile(path, bytes);
  return path;
}



/** A package whose nuspec is `xml`, read through the whole reader. */
async function packageWithNuspec(xml: string | Buffer): Promise<string> {
  return tempFile(await buildZip([{ name: 'Evil.nuspec', data: xml }]));
}

/** Renames an entry in a built zip (local header and central directory); names must have the same byte length. */
function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  const a = Buffer.from(from, 'utf8');
  const b = Buffer.from(to, 'utf8');
  if (a.length !== b.length) throw new Error('names must have the same byte length');
  const out = Buffer.from(zip);
  let found = 0;
  for (let at = out.indexOf(a); at !== -1; at = out.indexOf(a, at + 1)) {
    b.copy(out, at);
    found++;
  }
  if (found < 2) throw new Error(`entry ${from} not found`);
  return out;
}

/** Overwrites an entry's uncompressed size in the central directory: a zip that lies about its sizes. */
function forgeUncompressedSize(zip: Buffer, name: string, size: number): Buffer {
  const CENTRAL_HEADER = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  const out = Buffer.from(zip);
  for (let at = out.indexOf(CENTRAL_HEADER); at !== -1; at = out.indexOf(CENTRAL_HEADER, at + 46)) {
    const nameLength = out.readUInt16LE(at + 28);
    if (out.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      out.writeUInt32LE(size, at + 24);
      return out;
    }
  }
  throw new Error(`entry ${name} not in the central directory`);
}

/** Peak growth of heap plus buffers while `run` runs, sampled every few milliseconds. */
async function peakMemoryGrowth(run: () => Promise<unknown>): Promise<number> {
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = used();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, used());
  }, 2);
  try {
    await run();
  } finally {
    clearInterval(timer);
    peak = Math.max(peak, used());
  }
  return peak - base;
}

describe('nuspec XML attacks', () => {
  const head = '<?xml version="1.0" encoding="utf-8"?>';
  const body = (description: string) =>
    `<package><metadata><id>Evil</id><version>1.0.0</version><authors>x</authors><description>${description}</description></metadata></package>`;

  const attacks: Record<string, string> = {
    'XXE with a SYSTEM entity': `${head}<!DOCTYPE package [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${body('&xxe;')}`,
    'XXE with a parameter entity': `${head}<!DOCTYPE package [<!ENTITY % p SYSTEM "http://169.254.169.254/"> %p;]>${body('x')}`,
    'billion laughs': `${head}<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>${body('&lol9;')}`,
    'a lower-case doctype': `${head}<!doctype package>${body('x')}`,
    'an external DTD': `${head}<!DOCTYPE package SYSTEM "http://attacker.example/evil.dtd">${body('x')}`,
    'an ENTITY declaration without DOCTYPE': `${head}<!ENTITY x "y">${body('x')}`,
    'a DOCTYPE inside the document': body('<!DOCTYPE x>'),
  };

  it.each(Object.entries(attacks))('refuses %s before parsing', async (_name, xml) => {
    expect(syncRejection(() => parseNuspec(Buffer.from(xml)))).toMatch(/contains a DTD/);
    expect(await rejection(readPackageFile(await packageWithNuspec(xml), {}))).toMatch(/contains a DTD/);
  });

  it('refuses a DTD hidden in UTF-16', () => {
    const xml = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(attacks['XXE with a SYSTEM entity'] ?? '', 'utf16le')]);
    expect(syncRejection(() => parseNuspec(xml))).toMatch(/contains a DTD/);
  });

  it('never expands an entity it was not told about', () => {
    expect(syncRejection(() => parseNuspec(Buffer.from(body('&xxe;'))))).toMatch(/undefined entity '&xxe;'/);
    expect(syncRejection(() => parseNuspec(Buffer.from(body('&nbsp;'))))).toMatch(/undefined entity '&nbsp;'/);
    expect(syncRejection(() => parseNuspec(Buffer.from(body('&#0;'))))).toMatch(/<description> contains the character reference '&#0;' \(U\+0000\), which XML does not allow/);
  });

  it('refuses deep nesting', () => {
    const deep = `${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}`;
    expect(syncRejection(() => parseNuspec(Buffer.from(body(deep))))).toMatch(/not well-formed XML|nested/i);
  });
});

describe('nuspec fuzzing', () => {
  /** Any outcome but a PawketError 400 (a crash, a TypeError, a hang) is a bug. */
  const parsesOrRefuses = (bytes: Buffer) => {
    try {
      parseNuspec(bytes);
    } catch (error) {
      expect(error).toBeInstanceOf(PawketError);
      expect((error as PawketError).status).toBe(400);
    }
  };
  const valid = nuspecXml({ id: 'Fuzz', version: '1.0.0', dependencies: { net48: [['A', '1.0']] } });

  it('answers arbitrary bytes with a result or a 400', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => parsesOrRefuses(Buffer.from(bytes))));
  });

  it('answers mutated nuspecs with a result or a 400', () => {
    const piece = fc.constantFrom('<', '>', '&', '&amp;', '&#0;', '"', "'", '/', '<!--', ']]>', '<![CDATA[', '<x>', '</x>', ':', '~', '\0');
    fc.assert(
      fc.property(fc.nat({ max: valid.length }), fc.array(piece, { minLength: 1, maxLength: 4 }), (at, inserts) => {
        parsesOrRefuses(Buffer.from(valid.slice(0, at) + inserts.join('') + valid.slice(at)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('zip fuzzing', () => {
  it('answers a package with corrupted bytes with a result or a 400', async () => {
    await fuzzCorruptedPackage(async (bytes) => readPackageFile(await tempFile(bytes), {}));
  });
});

describe('zip bombs', () => {
  /** Builds a zip whose nuspec inflates to `size` bytes of spaces, compressed on the fly (about 1 KiB per MiB). */
  async function nuspecBomb(size: number): Promise<Buffer> {
    const prefix = Buffer.from(nuspecXml({ id: 'Bomb', version: '1.0.0' }).replace('</package>', ''));
    const chunk = Buffer.alloc(MiB, 0x20);
    async function* content() {
      yield prefix;
      for (let sent = prefix.length; sent < size; sent += MiB) yield chunk.subarray(0, Math.min(MiB, size - sent));
    }
    const zip = new yazl.ZipFile();
    zip.addReadStream(Readable.from(content()), 'Bomb.nuspec', { compress: true, mtime: new Date(2024, 0, 1) });
    zip.end();
    const parts: Buffer[] = [];
    for await (const part of zip.outputStream) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  let honest: Buffer;
  beforeAll(async () => {
    honest = await nuspecBomb(300 * MiB);
  }, 60_000);

  it('refuses a nuspec that inflates to 300 MiB from its declared size, without inflating it', async () => {
    expect(honest.length).toBeLessThan(2 * MiB);
    const path = await tempFile(honest);
    const started = Date.now();
    let message = '';
    const growth = await peakMemoryGrowth(async () => {
      message = await rejection(readPackageFile(path, {}));
    });
    expect(message).toMatch(/The nuspec 'Bomb\.nuspec' is 314572800 bytes uncompressed; at most 1048576 are allowed/);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(growth).toBeLessThan(32 * MiB);
  });

  it.each([
    ['a tiny size', 1000],
    ['a size just under the cap', MiB - 1],
  ])('stops inflating a nuspec that lies about its size (%s)', async (_name, declared) => {
    const path = await tempFile(forgeUncompressedSize(honest, 'Bomb.nuspec', declared));
    const started = Date.now();
    let message = '';
    const growth = await peakMemoryGrowth(async () => {
      message = await rejection(readPackageFile(path, {}));
    });
    expect(message).toMatch(/The nuspec 'Bomb\.nuspec' (is corrupt: too many bytes|inflates to more than)/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(growth).toBeLessThan(64 * MiB);
  });

  it('refuses a nuspec with an extreme compression ratio even under the size cap', async () => {
    const path = await tempFile(await nuspecBomb(900 * 1024));
    expect(await rejection(readPackageFile(path, {}))).toMatch(
      /The nuspec 'Bomb\.nuspec' has a compression ratio of \d+:1; at most 100:1 is allowed/,
    );
  });
});

describe('entry names', () => {
  const traversal = [
    ['../evil.txt', /unsafe name '\.\.\/evil\.txt' \(invalid relative path\)/],
    ['../../../../etc/cron.d/x', /unsafe name .*invalid relative path/],
    ['lib/../../evil.txt', /unsafe name 'lib\/\.\.\/\.\.\/evil\.txt'/],
    ['lib/net8.0/..', /unsafe name .*invalid relative path/],
    ['/etc/passwd', /unsafe name '\/etc\/passwd' \(absolute path\)/],
    ['..\\evil.txt', /unsafe name '\.\.\/evil\.txt' \(invalid relative path\)/],
    ['lib\\..\\..\\evil.txt', /unsafe name .*invalid relative path/],
    ['\\\\server\\share\\x', /unsafe name .*absolute path/],
    ['C:evil.txt', /unsafe name 'C:evil\.txt' \(absolute path\)/],
    ['C:\\Windows\\x.dll', /unsafe name .*absolute path/],
    ['evil\u0000.txt', /unsafe name 'evil\\u0000\.txt' \(control character\)/],
    ['a\nb.txt', /unsafe name 'a\\u000ab\.txt' \(control character\)/],
  ] as const;

  it.each(traversal)('refuses the entry name %j', async (name, expected) => {
    const placeholder = 'Q'.repeat(Buffer.byteLength(name));
    const zip = await buildNupkg({ id: 'Pkg', version: '1.0.0', files: [{ name: placeholder, data: 'pwned' }] });
    const path = await tempFile(renameEntry(zip, placeholder, name));
    expect(await rejection(readPackageFile(path, {}))).toMatch(expected);
  });

  it('refuses an entry name over 1024 characters', async () => {
    const zip = await buildNupkg({ id: 'Pkg', version: '1.0.0', files: [{ name: `lib/${'a'.repeat(1100)}`, data: '' }] });
    expect(await rejection(readPackageFile(await tempFile(zip), {}))).toMatch(
      /an entry name of 1104 characters; at most 1024 are allowed/,
    );
  });

  it('refuses two entries with the same name', async () => {
    const zip = await buildNupkg({
      id: 'Pkg',
      version: '1.0.0',
      files: [
        { name: 'lib/net8.0/A.dll', data: 'good' },
        { name: 'lib/net8.0/B.dll', data: 'evil' },
      ],
    });
    const path = await tempFile(renameEntry(zip, 'lib/net8.0/B.dll', 'lib/net8.0/A.dll'));
    expect(await rejection(readPackageFile(path, {}))).toBe("The package contains the entry 'lib/net8.0/A.dll' twice.");
  });

});

describe('entry count', () => {
  const files = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `content/f${i}.txt`, data: '' }));

  it('refuses more entries than configured, before reading them', async () => {
    const path = await tempFile(await buildNupkg({ id: 'Pkg', version: '1.0.0', files: files(20) }));
    expect(await rejection(readPackageFile(path, { maxEntries: 10 }))).toBe(
      'The package has 24 entries; at most 10 are allowed.',
    );
    expect((await readPackageFile(path, { maxEntries: 24 })).entries).toHaveLength(24);
  });

  it('refuses a zip claiming more than 20,000 entries by default, without reading any', async () => {
    // The count lives in the end-of-central-directory record; forge it rather than build 20,001 entries.
    const zip = Buffer.from(await buildNupkg({ id: 'Pkg', version: '1.0.0' }));
    const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    zip.writeUInt16LE(20_001, eocd + 8);
    zip.writeUInt16LE(20_001, eocd + 10);
    expect(await rejection(readPackageFile(await tempFile(zip), {}))).toBe(
      'The package has 20001 entries; at most 20000 are allowed.',
    );
  });
});

describe('a package read in pieces (the web UI reading stored packages)', () => {
  /** The package as a source of ranged reads, as blob storage serves it, counting the bytes fetched. */
  function pieces(bytes: Buffer) {
    const fetched = { bytes: 0 };
    return {
      fetched,
      source: {
        size: bytes.length,
        async read(start: number, length: number) {
          const slice = bytes.subarray(start, start + length);
          fetched.bytes += slice.length;
          return slice;
        },
      },
    };
  }

  it('refuses what a file on disk is refused for, with the same message', async () => {
    const placeholder = 'Q'.repeat('../evil.txt'.length);
    const traversal = renameEntry(await buildNupkg({ id: 'Pkg', version: '1.0.0', files: [{ name: placeholder, data: 'x' }] }), placeholder, '../evil.txt');
    const many = Buffer.from(await buildNupkg({ id: 'Pkg', version: '1.0.0' }));
    const eocd = many.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    many.writeUInt16LE(20_001, eocd + 8);
    many.writeUInt16LE(20_001, eocd + 10);
    for (const zip of [traversal, many, Buffer.from('not a zip at all'), traversal.subarray(0, traversal.length - 10)]) {
      const fromDisk = await rejection(openPackageArchive(await tempFile(zip)));
      expect(await rejection(openPackageArchiveFrom(pieces(zip).source))).toBe(fromDisk);
    }
  });

  it('checks an entry before inflating it and stops at its cap', async () => {
    const bomb = Buffer.alloc(900 * 1024, 0x20);
    const zip = await buildNupkg({
      id: 'Pkg',
      version: '1.0.0',
      files: [
        { name: 'img/bomb.png', data: bomb },
        { name: 'img/big.png', data: randomBytes(64 * 1024) },
        { name: 'img/text.svg', data: '<svg></svg>'.repeat(5000) },
      ],
    });
    const archive = await openPackageArchiveFrom(pieces(zip).source);
    expect(await rejection(archive.read('img/bomb.png', MiB))).toMatch(/compression ratio of \d+:1; at most 100:1/);
    expect(await rejection(archive.read('img/big.png', 1024))).toMatch(/'img\/big\.png' is 65536 bytes uncompressed; at most 1024/);
    const lying = await openPackageArchiveFrom(pieces(forgeUncompressedSize(zip, 'img/text.svg', 1000)).source);
    expect(await rejection(lying.read('img/text.svg', 1024))).toMatch(/'img\/text\.svg' (is corrupt: too many bytes|inflates to more than)/);
  });

  it('fetches the entry list and the entries read, not the rest', async () => {
    const zip = await buildNupkg({
      id: 'Pkg',
      version: '1.0.0',
      files: [{ name: 'img/Logo.png', data: 'logo' }, { name: 'content/payload.bin', data: randomBytes(4 * MiB), compress: false }],
    });
    const { source, fetched } = pieces(zip);
    const archive = await openPackageArchiveFrom(source);
    expect(archive.has('IMG/logo.PNG')).toBe(true);
    expect(archive.has('img/missing.png')).toBe(false);
    expect((await archive.read('.\\img\\Logo.png', 1024))?.toString()).toBe('logo');
    expect(await archive.read('img/missing.png', 1024)).toBeNull();
    expect(fetched.bytes).toBeLessThan(128 * 1024);
  });

  it('lets the source’s own failures through as they are, never as a 400', async () => {
    const zip = await buildNupkg({ id: 'Pkg', version: '1.0.0', files: [{ name: 'a.png', data: 'x' }] });
    const down = new Error('storage is down');
    await expect(openPackageArchiveFrom({ size: zip.length, read: () => Promise.reject(down) })).rejects.toBe(down);
    let fail = false;
    const archive = await openPackageArchiveFrom({ size: zip.length, read: async (s, l) => (fail ? Promise.reject(down) : zip.subarray(s, s + l)) });
    fail = true;
    await expect(archive.read('a.png', 1024)).rejects.toBe(down);
  });

  it('answers corrupted bytes with a result or a 400', async () => {
    await fuzzCorruptedPackage((bytes) => openPackageArchiveFrom(pieces(bytes).source).then((archive) => archive.read('lib/net8.0/a.dll', MiB)));
  });
});

/** Reads 300 packages with up to 8 bytes changed at random, each through `read`: a result or a 400, never worse. */
async function fuzzCorruptedPackage(read: (bytes: Buffer) => Promise<unknown>): Promise<void> {
  const zip = await buildNupkg({ id: 'Fuzz', version: '1.0.0', files: [{ name: 'lib/net8.0/a.dll', data: 'MZ'.repeat(200) }] });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat({ max: zip.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      async (edits) => {
        const bytes = Buffer.from(zip);
        for (const [at, value] of edits) bytes[at] = value;
        await expectReadOrRefused(read(bytes));
      },
    ),
    { numRuns: 300 },
  );
}

/** Damaged bytes may still read, but a reader that fails says 400 (a bad package), never crashes or blames the server. */
async function expectReadOrRefused(reading: Promise<unknown>): Promise<void> {
  const error = await reading.then(
    () => null,
    (e: unknown) => e,
  );
  if (error === null) return;
  expect(error).toBeInstanceOf(PawketError);
  expect((error as PawketError).status).toBe(400);
}
