/**
 * Symbols packages over HTTP on a loopback server (both backends): push next to the package, the symbol server, the
 * .snupkg download, and every refusal a NuGet client prints (400 with the reason, 409, 401), leaving nothing stored.
 */
import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { corePackage, dll, expected, ID, LIB, pdb, symbolsPackage, windowsPdb } from './fixtures.js';

let server: TestServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
});

const SYMBOLS = '/api/v2/symbolpackage';

/** The status of a GET, its body read to the end (no response left half-read when a server closes). */
async function statusOf(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

function pushSymbols(s: TestServer, body: Buffer, opts: { key?: string | null; multipart?: boolean } = {}): Promise<Response> {
  const key = opts.key === undefined ? TEST_KEY : opts.key;
  const headers: Record<string, string> = key ? { 'x-nuget-apikey': key } : {};
  if (opts.multipart) {
    const form = new FormData();
    form.append('package', new Blob([new Uint8Array(body)]), 'package.snupkg');
    return fetch(`${s.url}${SYMBOLS}`, { method: 'PUT', body: form, headers });
  }
  return fetch(`${s.url}${SYMBOLS}`, { method: 'PUT', body: new Uint8Array(body), headers: { ...headers, 'content-type': 'application/octet-stream' } });
}

async function storedFiles(s: TestServer): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of s.feed.blobs.list()) keys.push(blob.key);
  return keys.sort();
}

const symbolFiles = async (s: TestServer) => (await storedFiles(s)).filter((k) => k.startsWith('symbols/'));

/** The symbol server URL of a PDB, as a debugger builds it. */
const symbolUrl = (s: TestServer, key: string) => `${s.url}/download/symbols/${key}`;

async function withPackage(settings: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(settings);
  expect((await pushRaw(s.url, await corePackage())).status).toBe(201);
  return s;
}

/** A push refused with 400: the reason in the status line and body, and no symbols file left behind. */
async function expectRefused(s: TestServer, body: Buffer, reason: RegExp): Promise<void> {
  const res = await pushSymbols(s, body);
  const text = await res.text();
  expect(res.status, text).toBe(400);
  expect(res.statusText).toMatch(reason);
  expect(text).toMatch(reason);
  expect(await symbolFiles(s)).toEqual([]);
  expect(await readdir(s.feed.tempDir)).toEqual([]);
}

describe('symbols push', () => {
  it('advertises SymbolPackagePublish/4.9.0 in the service index', async () => {
    server = await startTestServer();
    const index = (await (await fetch(`${server.url}/v3/index.json`)).json()) as { resources: Array<{ '@id': string; '@type': string }> };
    expect(index.resources.filter((r) => r['@type'] === 'SymbolPackagePublish/4.9.0').map((r) => r['@id'])).toEqual([`${server.url}${SYMBOLS}`]);
  });

  it('takes a .snupkg next to its package and serves the PDB by its symbol server key, byte for byte', async () => {
    server = await withPackage();
    const res = await pushSymbols(server, await symbolsPackage(), { multipart: true });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe(`Symbols package ${ID} 1.0.0 was pushed (1 PDB).`);

    const key = expected('anycpu').ssqpKey;
    const found = await fetch(symbolUrl(server, key));
    expect(found.status).toBe(200);
    expect(found.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await found.arrayBuffer()).equals(pdb('anycpu'))).toBe(true);
    // Keys compare case-insensitively, whatever case the debugger sends.
    const guid = expected('anycpu').pdb.guid;
    expect(await statusOf(symbolUrl(server, `Pawket.E2e.Core.pdb/${guid}FFFFFFFF/Pawket.E2e.Core.pdb`))).toBe(200);
    expect(await statusOf(symbolUrl(server, key.toUpperCase()))).toBe(200);
  });

  it('takes a raw body and POST as well', async () => {
    server = await withPackage();
    const res = await fetch(`${server.url}${SYMBOLS}`, {
      method: 'POST',
      body: new Uint8Array(await symbolsPackage()),
      headers: { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(201);
  });

  it('honours the SymbolChecksum header debuggers send', async () => {
    server = await withPackage();
    expect((await pushSymbols(server, await symbolsPackage())).status).toBe(201);
    const key = expected('anycpu').ssqpKey;
    const [checksum] = expected('anycpu').checksums;
    const ask = (header: string) => fetch(symbolUrl(server!, key), { headers: { SymbolChecksum: header } });
    expect(await statusOf(symbolUrl(server, key), { headers: { SymbolChecksum: `SHA256:${checksum!.checksum.toUpperCase()}` } })).toBe(200);
    expect(await statusOf(symbolUrl(server, key), { headers: { SymbolChecksum: `SHA384:00;sha256:${checksum!.checksum}` } })).toBe(200);
    const wrong = await ask(`SHA256:${'00'.repeat(32)}`);
    expect(wrong.status).toBe(404);
    expect(await wrong.text()).toMatch(/not with the checksum the debugger asked for/);
  });

  it('answers 404 for unknown keys and mismatched file names', async () => {
    server = await withPackage();
    expect((await pushSymbols(server, await symbolsPackage())).status).toBe(201);
    const guid = expected('anycpu').pdb.guid;
    const unknown = await fetch(symbolUrl(server, `pawket.e2e.core.pdb/${expected('other-build').pdb.guid}FFFFFFFF/pawket.e2e.core.pdb`));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/This feed has no symbols for pawket\.e2e\.core\.pdb\//);
    expect(await statusOf(symbolUrl(server, `other.pdb/${guid}FFFFFFFF/pawket.e2e.core.pdb`))).toBe(404);
    // A Windows-PDB style key (age 1) is not the key of a portable PDB.
    expect(await statusOf(symbolUrl(server, `pawket.e2e.core.pdb/${guid}1/pawket.e2e.core.pdb`))).toBe(404);
  });

  it('serves the .snupkg again from the flat container and from nuget.org\'s path', async () => {
    server = await withPackage();
    const snupkg = await symbolsPackage();
    expect((await pushSymbols(server, snupkg)).status).toBe(201);
    for (const url of [`${server.url}/v3/flatcontainer/pawket.e2e.core/1.0.0/pawket.e2e.core.1.0.0.snupkg`, `${server.url}${SYMBOLS}/Pawket.E2e.Core/1.0`]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(snupkg)).toBe(true);
      const etag = res.headers.get('etag')!;
      expect(await statusOf(url, { headers: { 'if-none-match': etag } })).toBe(304);
    }
  });

  it('answers 404 for the .snupkg of a package without symbols', async () => {
    server = await withPackage();
    const res = await fetch(`${server.url}/v3/flatcontainer/pawket.e2e.core/1.0.0/pawket.e2e.core.1.0.0.snupkg`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/Package Pawket\.E2e\.Core 1\.0\.0 has no symbols package on this feed/);
  });

  it('answers 409 for a second push of the symbols, and replaces them when overwrite is on', async () => {
    server = await withPackage();
    expect((await pushSymbols(server, await symbolsPackage())).status).toBe(201);
    const again = await pushSymbols(server, await symbolsPackage());
    expect(again.status).toBe(409);
    expect(again.statusText).toMatch(/Symbols for package Pawket\.E2e\.Core 1\.0\.0 already exist/);
    await server.close();

    server = await withPackage({ allowOverwrite: true });
    expect((await pushSymbols(server, await symbolsPackage())).status).toBe(201);
    const before = await symbolFiles(server);
    // Other bytes (a later entry order), same PDB: replaced, and the old files are gone.
    const other = await symbolsPackage({ files: [{ name: `${LIB}/${ID}.pdb`, data: pdb('anycpu'), compress: false }] });
    const replaced = await pushSymbols(server, other);
    expect(replaced.status).toBe(201);
    expect(await replaced.text()).toMatch(/was replaced \(1 PDB\)/);
    const after = await symbolFiles(server);
    expect(after).toHaveLength(2);
    expect(after.some((k) => before.includes(k))).toBe(false);
    expect(await statusOf(symbolUrl(server, expected('anycpu').ssqpKey))).toBe(200);
  });

  it('drops the symbols of a replaced package from the .snupkg download, and takes new ones', async () => {
    server = await withPackage({ allowOverwrite: true });
    expect((await pushSymbols(server, await symbolsPackage())).status).toBe(201);
    expect((await pushRaw(server.url, await corePackage('1.0.0', dll('other-build')))).status).toBe(201);
    const snupkgUrl = `${server.url}/v3/flatcontainer/pawket.e2e.core/1.0.0/pawket.e2e.core.1.0.0.snupkg`;
    expect(await statusOf(snupkgUrl)).toBe(404);
    // The old build's PDB does not match the new assembly; the new build's does.
    await expectRefusedKeepingOthers(server, await symbolsPackage(), /does not belong to/);
    expect((await pushSymbols(server, await symbolsPackage({ files: [{ name: `${LIB}/${ID}.pdb`, data: pdb('other-build') }] }))).status).toBe(201);
    expect(await statusOf(snupkgUrl)).toBe(200);
  });

  it('refuses a missing or wrong key with 401 before reading the body', async () => {
    server = await withPackage();
    const missing = await pushSymbols(server, await symbolsPackage(), { key: null });
    expect(missing.status).toBe(401);
    expect(missing.statusText).toMatch(/API key is required/);
    expect((await pushSymbols(server, await symbolsPackage(), { key: 'wrong' })).status).toBe(401);
    expect(await symbolFiles(server)).toEqual([]);
  });

  it('removes the symbols with their package on hard delete, and keeps them on unlist', async () => {
    server = await withPackage();
    expect((await pushSymbols(server, await symbolsPackage())).status).toBe(201);
    const del = () => fetch(`${server!.url}/api/v2/package/${ID}/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect((await del()).status).toBe(200);
    expect(await statusOf(symbolUrl(server, expected('anycpu').ssqpKey))).toBe(200);
    await server.close();

    server = await withPackage({ deleteMode: 'delete' });
    expect((await pushSymbols(server, await symbolsPackage())).status).toBe(201);
    expect(await symbolFiles(server)).toHaveLength(2);
    expect((await del()).status).toBe(200);
    expect(await statusOf(symbolUrl(server, expected('anycpu').ssqpKey))).toBe(404);
    expect(await storedFiles(server)).toEqual([]);
    // Pushed again, the package takes symbols again.
    expect((await pushRaw(server.url, await corePackage())).status).toBe(201);
    expect((await pushSymbols(server, await symbolsPackage())).status).toBe(201);
  });

  it('keeps symbols files out of the orphan sweep', async () => {
    server = await withPackage();
    expect((await pushSymbols(server, await symbolsPackage())).status).toBe(201);
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 24 * 3600_000);
    expect(await server.feed.sweepOrphans()).toEqual([]);
    expect(await symbolFiles(server)).toHaveLength(2);
  });
});

/** A 400 that leaves the symbols already stored alone. */
async function expectRefusedKeepingOthers(s: TestServer, body: Buffer, reason: RegExp): Promise<void> {
  const before = await symbolFiles(s);
  const res = await pushSymbols(s, body);
  expect(res.status, await res.clone().text()).toBe(400);
  expect(res.statusText).toMatch(reason);
  expect(await symbolFiles(s)).toEqual(before);
}

describe('bad symbols packages are 400s with the reason', () => {
  it('a Windows PDB', async () => {
    server = await withPackage();
    await expectRefused(
      server,
      await symbolsPackage({ files: [{ name: `${LIB}/${ID}.pdb`, data: windowsPdb() }] }),
      /'lib\/net10\.0\/Pawket\.E2e\.Core\.pdb' is a Windows PDB; this feed takes portable PDBs only/,
    );
  });

  it('a PDB from another build', async () => {
    server = await withPackage();
    const other = expected('other-build').pdb;
    const built = expected('anycpu').pdb;
    await expectRefused(
      server,
      await symbolsPackage({ files: [{ name: `${LIB}/${ID}.pdb`, data: pdb('other-build') }] }),
      new RegExp(
        `'lib/net10\\.0/Pawket\\.E2e\\.Core\\.pdb' does not belong to 'lib/net10\\.0/Pawket\\.E2e\\.Core\\.dll': the PDB's id is ${other.guid}-${other.stamp.toString(16).padStart(8, '0')} but the assembly was built with the PDB ${built.guid}-${built.stamp.toString(16).padStart(8, '0')}`,
      ),
    );
  });

  it('a PDB changed after the build (its id kept, its checksum broken)', async () => {
    server = await withPackage();
    const changed = Buffer.from(pdb('anycpu'));
    changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 0xff, changed.length - 1);
    await expectRefused(
      server,
      await symbolsPackage({ files: [{ name: `${LIB}/${ID}.pdb`, data: changed }] }),
      /does not match the SHA256 checksum 'lib\/net10\.0\/Pawket\.E2e\.Core\.dll' records for its PDB: the PDB was changed after the build/,
    );
  });

  it('extra files', async () => {
    server = await withPackage();
    for (const extra of [`${LIB}/${ID}.dll`, `${LIB}/${ID}.xml`, 'readme.txt', `src/Greeter.cs`]) {
      await expectRefused(
        server,
        await symbolsPackage({ files: [{ name: `${LIB}/${ID}.pdb`, data: pdb('anycpu') }, { name: extra, data: 'x' }] }),
        new RegExp(`The symbols package contains '${extra.replace(/\./g, '\\.')}': a \\.snupkg may hold only portable PDBs`),
      );
    }
  });

  it('no matching package on the feed', async () => {
    server = await startTestServer();
    await expectRefused(server, await symbolsPackage(), /Package Pawket\.E2e\.Core 1\.0\.0 is not on this feed: push its \.nupkg before its symbols package \(\.snupkg\)/);
  });

  it('an id or version that is not the package\'s', async () => {
    server = await withPackage();
    await expectRefused(server, await symbolsPackage({ version: '1.0.1' }), /Package Pawket\.E2e\.Core 1\.0\.1 is not on this feed/);
    await expectRefused(server, await symbolsPackage({ id: 'Pawket.E2e.Other' }), /Package Pawket\.E2e\.Other 1\.0\.0 is not on this feed/);
  });

  it('a PDB without its assembly beside it', async () => {
    server = await withPackage();
    await expectRefused(
      server,
      await symbolsPackage({ files: [{ name: `lib/net8.0/${ID}.pdb`, data: pdb('anycpu') }] }),
      /'lib\/net8\.0\/Pawket\.E2e\.Core\.pdb' has no assembly in package Pawket\.E2e\.Core 1\.0\.0: a PDB must sit beside the assembly built with it/,
    );
  });

  it('a package that is no symbols package, or has no PDB', async () => {
    server = await withPackage();
    await expectRefused(server, await symbolsPackage({ packageType: null }), /Pawket\.E2e\.Core 1\.0\.0 is not a symbols package: its nuspec does not declare the package type SymbolsPackage/);
    await expectRefused(server, await symbolsPackage({ files: [] }), /The symbols package Pawket\.E2e\.Core 1\.0\.0 contains no \.pdb files/);
    await expectRefused(server, Buffer.from('not a zip at all'), /not a valid zip/);
  });

  it('a truncated PDB', async () => {
    server = await withPackage();
    await expectRefused(
      server,
      await symbolsPackage({ files: [{ name: `${LIB}/${ID}.pdb`, data: pdb('anycpu').subarray(0, 100) }] }),
      /'lib\/net10\.0\/Pawket\.E2e\.Core\.pdb' is not a valid portable PDB: .* lies outside the file/,
    );
  });

  it('a package whose assembly has no debug information', async () => {
    server = await startTestServer();
    const image = Buffer.from(dll('anycpu'));
    // Zero the debug data directory (PE32: optional header + 96 + 6 * 8).
    const directory = image.readUInt32LE(0x3c) + 24 + 96 + 48;
    image.fill(0, directory, directory + 8);
    expect((await pushRaw(server.url, await corePackage('1.0.0', image))).status).toBe(201);
    await expectRefused(server, await symbolsPackage(), /the assembly names no PDB in its debug directory \(it was built without debug information\)/);
  });
});
