/**
 * The debug directory of real assemblies (PE32 and PE32+), read by hand and compared with what .NET's own
 * System.Reflection.Metadata reads (test/fixtures/symbols/expected.json); then truncated, lying and randomly damaged
 * images, which must be 400s, never crashes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PawketError } from '../../../src/errors.js';
import { pdbFileName, readDebugDirectory } from '../../../src/package/pe-debug-directory.js';
import { BUILDS, dll, expected } from './fixtures.js';
import { badRequestMessage as refusal } from '../../support/bad-request.js';


function readOrRefuse(bytes: Buffer): void {
  try {
    readDebugDirectory(bytes, 'x.dll');
  } catch (error) {
    if (!(error instanceof PawketError) || error.status !== 400) throw error;
  }
}

/** Offsets of the real anycpu image (PE32), found the way a reader would. */
function layout(image: Buffer) {
  const pe = image.readUInt32LE(0x3c);
  const optional = pe + 24;
  const optionalSize = image.readUInt16LE(pe + 4 + 16);
  const debugDirectory = optional + 96 + 6 * 8;
  const sections = optional + optionalSize;
  const rva = image.readUInt32LE(debugDirectory);
  // Map the debug directory RVA with the section table.
  for (let i = 0; i < image.readUInt16LE(pe + 6); i++) {
    const at = sections + i * 40;
    const va = image.readUInt32LE(at + 12);
    if (rva >= va && rva < va + image.readUInt32LE(at + 8)) {
      return { pe, optional, debugDirectory, sections, entries: image.readUInt32LE(at + 20) + rva - va };
    }
  }
  throw new Error('debug directory not found');
}

describe('PE debug directory', () => {
  it.each(BUILDS)('reads the CodeView and PDB checksum entries of the %s build as System.Reflection.Metadata does', (build) => {
    const e = expected(build);
    const directory = readDebugDirectory(dll(build), 'Pawket.E2e.Core.dll');
    expect(directory.codeView).toEqual(e.codeView);
    expect(directory.checksums.map((c) => ({ algorithm: c.algorithm, checksum: c.checksum.toString('hex') }))).toEqual(e.checksums);
    expect(directory.hasEmbeddedPdb).toBe(false);
  });

  it('reads both PE32 and PE32+ images', () => {
    expect(expected('anycpu').pe32Plus).toBe(false);
    expect(expected('x64').pe32Plus).toBe(true);
  });

  it('takes the PDB file name from Windows and Unix paths', () => {
    expect(pdbFileName('/_/obj/Release/net10.0/Pawket.E2e.Core.pdb')).toBe('Pawket.E2e.Core.pdb');
    expect(pdbFileName('C:\\src\\obj\\Release\\Foo.pdb')).toBe('Foo.pdb');
    expect(pdbFileName('Foo.pdb')).toBe('Foo.pdb');
  });

  it('refuses files that are no PE image', () => {
    expect(refusal(() => readDebugDirectory(Buffer.alloc(0), 'lib/a.dll'))).toMatch(/'lib\/a\.dll' is not a valid PE image: it does not start with 'MZ'/);
    const noPe = Buffer.alloc(256);
    noPe.write('MZ', 0, 'latin1');
    noPe.writeUInt32LE(0x80, 0x3c);
    expect(refusal(() => readDebugDirectory(noPe, 'a.dll'))).toMatch(/there is no 'PE' signature at offset 128/);
    const farPe = Buffer.from(noPe);
    farPe.writeUInt32LE(0xfffffff0, 0x3c);
    expect(refusal(() => readDebugDirectory(farPe, 'a.dll'))).toMatch(/the PE signature \(4 bytes at offset 4294967280\) lies outside the file/);
  });

  it('refuses lying headers and directories, naming what is wrong', () => {
    const good = dll('anycpu');
    const { pe, optional, debugDirectory, entries } = layout(good);

    const badMagic = Buffer.from(good);
    badMagic.writeUInt16LE(0x999, optional);
    expect(refusal(() => readDebugDirectory(badMagic, 'a.dll'))).toMatch(/optional header magic is 0x999/);

    const manySections = Buffer.from(good);
    manySections.writeUInt16LE(5000, pe + 6);
    expect(refusal(() => readDebugDirectory(manySections, 'a.dll'))).toMatch(/5000 sections/);

    const oddSize = Buffer.from(good);
    oddSize.writeUInt32LE(30, debugDirectory + 4);
    expect(refusal(() => readDebugDirectory(oddSize, 'a.dll'))).toMatch(/debug directory is 30 bytes, not a whole number of 28-byte entries/);

    const nowhere = Buffer.from(good);
    nowhere.writeUInt32LE(0x7ff00000, debugDirectory);
    expect(refusal(() => readDebugDirectory(nowhere, 'a.dll'))).toMatch(/the debug directory at RVA 0x7ff00000 lies in no section/);

    const huge = Buffer.from(good);
    huge.writeUInt32LE(28 * 100_000, debugDirectory + 4);
    expect(refusal(() => readDebugDirectory(huge, 'a.dll'))).toMatch(/claims 100000 entries/);

    // The first entry is the CodeView one: make its data point past the end, then cut its path's NUL.
    expect(good.readUInt32LE(entries + 12)).toBe(2);
    const dataFar = Buffer.from(good);
    dataFar.writeUInt32LE(good.length - 4, entries + 24);
    expect(refusal(() => readDebugDirectory(dataFar, 'a.dll'))).toMatch(/a CodeView entry \(\d+ bytes at offset \d+\) lies outside the file/);
    const noNul = Buffer.from(good);
    const dataAt = good.readUInt32LE(entries + 24);
    const dataSize = good.readUInt32LE(entries + 16);
    noNul.fill(0x41, dataAt + 24, dataAt + dataSize);
    expect(refusal(() => readDebugDirectory(noNul, 'a.dll'))).toMatch(/the PDB path in its CodeView entry is not NUL-terminated/);
  });

  it('has no entries when the image has no debug directory', () => {
    const good = dll('anycpu');
    const { debugDirectory } = layout(good);
    const none = Buffer.from(good);
    none.writeUInt32LE(0, debugDirectory);
    none.writeUInt32LE(0, debugDirectory + 4);
    expect(readDebugDirectory(none, 'a.dll')).toEqual({ codeView: [], checksums: [], hasEmbeddedPdb: false });
  });

  it('answers every truncation of a real assembly with a result or a 400', () => {
    for (const build of ['anycpu', 'x64'] as const) {
      const good = dll(build);
      for (let length = 0; length <= good.length; length++) readOrRefuse(good.subarray(0, length));
    }
  });

  it('never crashes on randomly damaged assemblies', () => {
    const good = dll('anycpu');
    const { entries } = layout(good);
    // Damage the headers and the debug directory with its data, where the parser looks.
    const hot = fc.oneof(fc.nat(0x200), fc.integer({ min: entries, max: Math.min(good.length - 1, entries + 0x100) }));
    fc.assert(
      fc.property(fc.array(fc.tuple(hot, fc.nat(255)), { minLength: 1, maxLength: 8 }), (edits) => {
        const damaged = Buffer.from(good);
        for (const [at, value] of edits) damaged[at] = value;
        readOrRefuse(damaged);
      }),
      { seed: 7, numRuns: 3000 },
    );
  });
});
