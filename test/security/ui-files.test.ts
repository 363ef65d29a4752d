/**
 * Files from inside a package through the web UI (`/packages/{id}/{version}/files/...`, icons, readmes) cost what
 * the answer needs, not what the package weighs: names the package does not have are answered from its entry list
 * in memory, and nothing copies the package to disk. Measured on the server process itself (/proc/PID/io), with a
 * package of incompressible bytes far bigger than anything the requests ask for.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPawket, type PawketServer } from '../e2e/support/server.js';
import { nuspecXml } from '../support/nupkg.js';

const MiB = 1024 * 1024;
/** Random bytes do not compress: the package weighs this much however it is stored. */
const PAYLOAD_BYTES = 32 * MiB;
const MISSES = 20;
const KEY = 'ui-files-key';
const ID = 'Contoso.Heavy';
const VERSION = '1.0.0';
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)]);

/** What the process has read and written through system calls so far (files, pipes and sockets alike). */
async function ioOf(pid: number): Promise<{ read: number; written: number }> {
  const text = await readFile(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1]);
  return { read: field('rchar'), written: field('wchar') };
}

/** Random bytes as a stream, a chunk at a time, so the test never holds the payload in memory. */
function randomStream(size: number): Readable {
  let left = size;
  return new Readable({
    read() {
      const n = Math.min(left, MiB);
      left -= n;
      this.push(n > 0 ? randomBytes(n) : null);
    },
  });
}

/** A package with an icon, a readme showing an image, and a big incompressible payload, written to `file`. */
async function writeHeavyPackage(file: string): Promise<void> {
  const zip = new yazl.ZipFile();
  const add = (name: string, data: string | Buffer) => zip.addBuffer(Buffer.from(data), name, { mtime: new Date(2024, 0, 1) });
  add(`${ID}.nuspec`, nuspecXml({ id: ID, version: VERSION, extraMetadata: '<icon>img/icon.png</icon><readme>README.md</readme>' }));
  add('README.md', '# Heavy\n\n![logo](img/logo.png)\n');
  add('img/icon.png', PNG);
  add('img/logo.png', PNG);
  zip.addReadStream(randomStream(PAYLOAD_BYTES), 'content/payload.bin', { compress: false, size: PAYLOAD_BYTES, mtime: new Date(2024, 0, 1) });
  add('lib/netstandard2.0/_._', '');
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(file));
}

const files = `/packages/${ID}/${VERSION}/files/`;
let server: PawketServer;
let work: string;
let packageBytes: number;

describe.skipIf(!existsSync('/proc/self/io'))('UI files from a big package', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-ui-files-'));
    const nupkg = join(work, 'heavy.nupkg');
    await writeHeavyPackage(nupkg);
    packageBytes = (await stat(nupkg)).size;
    server = await startPawket({ env: { PAWKET_API_KEY: KEY } });
    const push = await fetch(`${server.baseUrl}/api/v2/package`, {
      method: 'PUT',
      body: Readable.toWeb(createReadStream(nupkg)) as ReadableStream,
      headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': KEY, 'content-length': String(packageBytes) },
      duplex: 'half',
    } as RequestInit);
    expect(push.status, await push.text()).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('answers missing names with 404 without copying or reading the package', async () => {
    const before = await ioOf(server.pid);
    for (let i = 0; i < MISSES; i++) {
      const res = await fetch(`${server.baseUrl}${files}img/missing-${i}.png`);
      expect(res.status).toBe(404);
      await res.arrayBuffer();
    }
    const after = await ioOf(server.pid);
    // Before the fix every new name copied the whole package to the temp folder: MISSES times its size written.
    // Now the first request reads the package's tail (its entry list) and the others nothing.
    expect(after.written - before.written).toBeLessThan(MiB);
    expect(after.read - before.read).toBeLessThan(MiB);
    // Each process's temporary area is a folder under tmp/: no file may be left in any of them.
    const left = await readdir(join(server.dataDir, 'tmp'), { recursive: true, withFileTypes: true });
    expect(left.filter((e) => e.isFile()).map((e) => e.name)).toEqual([]);
  }, 120_000);

  it('still serves the images, the icon and the readme the package has', async () => {
    const before = await ioOf(server.pid);
    const logo = await fetch(`${server.baseUrl}${files}img/logo.png`);
    expect(logo.status).toBe(200);
    expect(Buffer.from(await logo.arrayBuffer()).equals(PNG)).toBe(true);
    const icon = await fetch(`${server.baseUrl}/packages/${ID}/${VERSION}/icon`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await icon.arrayBuffer()).equals(PNG)).toBe(true);
    const page = await fetch(`${server.baseUrl}/packages/${ID}/${VERSION}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`${files}img/logo.png`);
    const after = await ioOf(server.pid);
    expect(after.written - before.written).toBeLessThan(MiB);
    expect(after.read - before.read).toBeLessThan(MiB);
  }, 60_000);

  it('never reads the payload, however many names are asked for at once', async () => {
    const before = await ioOf(server.pid);
    const answers = await Promise.all(
      Array.from({ length: MISSES }, async (_, i) => {
        const res = await fetch(`${server.baseUrl}${files}deep/${i}/missing.png`);
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(answers).toEqual(Array(MISSES).fill(404));
    const after = await ioOf(server.pid);
    expect(after.written - before.written).toBeLessThan(MiB);
    expect(after.read - before.read).toBeLessThan(MiB);
  }, 120_000);
});
