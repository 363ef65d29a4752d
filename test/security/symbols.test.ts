/**
 * Hostile symbols packages and hostile assemblies to match them with: each must be a 400 that names the problem,
 * decided without inflating more than the bounds allow.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PawketError } from '../../src/errors.js';
import { openSymbolPackage, type SymbolPackageLimits } from '../../src/package/read-symbols.js';
import { buildZip } from '../support/nupkg.js';
import { corePackage, ID, LIB, pdb, symbolsNuspec, symbolsPackage } from '../unit/symbols/fixtures.js';

const MiB = 1024 * 1024;
let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pawket-hostile-symbols-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tempFile(bytes: Buffer): Promise<string> {
  const path = join(dir, `s${counter++}.zip`);
  await writeFile(path, bytes);
  return path;
}

/** Opens the symbols package and matches every PDB with `nupkg`; returns the 400's message. */
async function refusal(snupkg: Buffer, nupkg: Buffer, limits: SymbolPackageLimits = { maxFileBytes: 64 * MiB }): Promise<string> {
  const error = await (async () => {
    const symbols = await openSymbolPackage(await tempFile(snupkg), limits);
    try {
      for await (const _ of symbols.matchPdbs(await tempFile(nupkg))) {
        // matched
      }
    } finally {
      symbols.close();
    }
  })().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PawketError);
  expect((error as PawketError).status).toBe(400);
  return (error as PawketError).message;
}

describe('hostile symbols packages', () => {
  it('a PDB bigger than the bound is refused before it is inflated', async () => {
    const message = await refusal(await symbolsPackage(), await corePackage(), { maxFileBytes: 1024 });
    expect(message).toMatch(/The entry 'lib\/net10\.0\/Pawket\.E2e\.Core\.pdb' is \d+ bytes uncompressed; at most 1024 are allowed/);
  });

  it('a PDB that is a zip bomb is refused by its compression ratio', async () => {
    const bomb = await symbolsPackage({ files: [{ name: `${LIB}/${ID}.pdb`, data: Buffer.alloc(32 * MiB) }] });
    expect(bomb.length).toBeLessThan(MiB);
    expect(await refusal(bomb, await corePackage())).toMatch(/compression ratio of \d+:1; at most 100:1/);
  });

  it('an assembly that is a zip bomb is refused the same way', async () => {
    const nupkg = await corePackage('1.0.0', Buffer.alloc(32 * MiB));
    expect(await refusal(await symbolsPackage(), nupkg)).toMatch(/The entry 'lib\/net10\.0\/Pawket\.E2e\.Core\.dll' has a compression ratio/);
  });

  it('an assembly that is no PE image is a 400 naming it', async () => {
    const nupkg = await corePackage('1.0.0', Buffer.from('MZ but nothing else'));
    expect(await refusal(await symbolsPackage(), nupkg)).toMatch(/'lib\/net10\.0\/Pawket\.E2e\.Core\.dll' is not a valid PE image: the DOS header/);
  });

  it('a nuspec with a DTD is refused as in packages', async () => {
    const snupkg = await buildZip([
      { name: `${ID}.nuspec`, data: `<?xml version="1.0"?><!DOCTYPE package [<!ENTITY x "y">]>${symbolsNuspec(ID, '1.0.0').replace(/^<\?xml[^>]*>/, '')}` },
      { name: `${LIB}/${ID}.pdb`, data: pdb('anycpu') },
    ]);
    const error = await openSymbolPackage(await tempFile(snupkg), { maxFileBytes: MiB }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PawketError);
    expect((error as PawketError).message).toMatch(/The nuspec contains a DTD/);
  });

  it('many PDBs are matched one at a time and stop at the first without an assembly', async () => {
    const files = Array.from({ length: 500 }, (_, i) => ({ name: `lib/net10.0/Extra${i}.pdb`, data: pdb('anycpu') }));
    const snupkg = await symbolsPackage({ files: [{ name: `${LIB}/${ID}.pdb`, data: pdb('anycpu') }, ...files] });
    expect(await refusal(snupkg, await corePackage())).toMatch(/'lib\/net10\.0\/Extra0\.pdb' has no assembly in package/);
  });
});
