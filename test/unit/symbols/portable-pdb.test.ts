/**
 * Portable PDB ids, checksums and symbol server keys, read by hand and compared with what .NET's own
 * System.Reflection.Metadata reads from the same real build outputs (test/fixtures/symbols/expected.json); then
 * truncated, lying and randomly damaged files, which must be 400s, never crashes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PawketError } from '../../../src/errors.js';
import { guidToString } from '../../../src/package/binary.js';
import { isWindowsPdb, pdbChecksum, readPortablePdbId, ssqpKey } from '../../../src/package/portable-pdb.js';
import { BUILDS, expected, pdb, windowsPdb } from './fixtures.js';
import { badRequestMessage as refusal } from '../../support/bad-request.js';


/** Reads the id or fails with a 400; anything else (a crash, a RangeError) fails the test. */
function readOrRefuse(bytes: Buffer): void {
  try {
    readPortablePdbId(bytes, 'x.pdb');
  } catch (error) {
    if (!(error instanceof PawketError) || error.status !== 400) throw error;
  }
}

describe('portable PDB id', () => {
  it.each(BUILDS)('reads the id of the %s build as System.Reflection.Metadata does', (build) => {
    const e = expected(build);
    expect(readPortablePdbId(pdb(build), 'Pawket.E2e.Core.pdb')).toEqual({ guid: e.pdb.guid, stamp: e.pdb.stamp, idOffset: e.pdb.idOffset });
  });

  it.each(BUILDS)('computes the %s build PDB checksum its assembly records', (build) => {
    const e = expected(build);
    const bytes = pdb(build);
    const { idOffset } = readPortablePdbId(bytes, 'x.pdb');
    for (const { algorithm, checksum } of e.checksums) {
      expect(pdbChecksum(bytes, idOffset, algorithm)?.toString('hex')).toBe(checksum);
    }
    expect(pdbChecksum(bytes, idOffset, 'MD5')).toBeNull();
  });

  it.each(BUILDS)('makes the symbol server key of the %s build that dotnet-symbol asks for (compared case-insensitively)', (build) => {
    const e = expected(build);
    expect(ssqpKey('Pawket.E2e.Core.pdb', e.pdb.guid)).toBe(e.ssqpKey.toLowerCase());
  });

  it("prints GUIDs as .NET's Guid.ToString(\"N\") does (mixed-endian)", () => {
    // { 0x497B72F6, 0x390A, 0x44FC, { 0x87, 0x8E, 0x5A, 0x2D, 0x63, 0xB6, 0xCC, 0x4B } } from the SSQP key conventions
    const bytes = Buffer.from([0xf6, 0x72, 0x7b, 0x49, 0x0a, 0x39, 0xfc, 0x44, 0x87, 0x8e, 0x5a, 0x2d, 0x63, 0xb6, 0xcc, 0x4b]);
    expect(guidToString(bytes)).toBe('497b72f6390a44fc878e5a2d63b6cc4b');
    expect(ssqpKey('Foo.pdb', guidToString(bytes))).toBe('foo.pdb/497b72f6390a44fc878e5a2d63b6cc4bffffffff/foo.pdb');
  });

  it('refuses a Windows PDB with the reason and what to do', () => {
    expect(isWindowsPdb(windowsPdb())).toBe(true);
    expect(refusal(() => readPortablePdbId(windowsPdb(), 'lib/net48/Foo.pdb'))).toMatch(
      /'lib\/net48\/Foo\.pdb' is a Windows PDB; this feed takes portable PDBs only \(build with <DebugType>portable<\/DebugType>/,
    );
  });

  it('refuses files that are no portable PDB', () => {
    expect(refusal(() => readPortablePdbId(Buffer.alloc(0), 'a.pdb'))).toMatch(/'a\.pdb' is not a portable PDB: it does not start with the metadata signature 'BSJB'/);
    expect(refusal(() => readPortablePdbId(Buffer.from('MZ this is a dll'), 'a.pdb'))).toMatch(/not a portable PDB/);
  });

  it('refuses lying headers, naming what is wrong', () => {
    const good = pdb('anycpu');
    const versionLength = good.readUInt32LE(12);
    const streamCountAt = 16 + versionLength + 2;
    const firstStream = streamCountAt + 2;

    const hugeVersion = Buffer.from(good);
    hugeVersion.writeUInt32LE(0x7fffffff, 12);
    expect(refusal(() => readPortablePdbId(hugeVersion, 'a.pdb'))).toMatch(/version string claims 2147483647 bytes/);

    const manyStreams = Buffer.from(good);
    manyStreams.writeUInt16LE(60000, streamCountAt);
    expect(refusal(() => readPortablePdbId(manyStreams, 'a.pdb'))).toMatch(/60000 metadata streams/);

    // The first stream is #Pdb in compiler output; point it past the end, then make it too small.
    expect(good.toString('latin1', firstStream + 8, firstStream + 12)).toBe('#Pdb');
    const farAway = Buffer.from(good);
    farAway.writeUInt32LE(good.length + 100, firstStream);
    expect(refusal(() => readPortablePdbId(farAway, 'a.pdb'))).toMatch(/the #Pdb stream \(\d+ bytes at offset \d+\) lies outside the file/);
    const tiny = Buffer.from(good);
    tiny.writeUInt32LE(12, firstStream + 4);
    expect(refusal(() => readPortablePdbId(tiny, 'a.pdb'))).toMatch(/#Pdb stream is 12 bytes, too small/);

    const renamed = Buffer.from(good);
    renamed.write('#Pdx', firstStream + 8, 'latin1');
    expect(refusal(() => readPortablePdbId(renamed, 'a.pdb'))).toMatch(/it has no #Pdb stream/);

    const unterminated = Buffer.from(good.subarray(0, firstStream + 8 + 3));
    expect(refusal(() => readPortablePdbId(unterminated, 'a.pdb'))).toMatch(/not a valid portable PDB/);
  });

  it('answers every truncation of a real PDB with an id or a 400', () => {
    const good = pdb('anycpu');
    for (let length = 0; length <= good.length; length++) readOrRefuse(good.subarray(0, length));
  });

  it('never crashes on randomly damaged PDBs', () => {
    const good = pdb('x64');
    // The header and stream table are where the parser looks; damage concentrates there.
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(255), fc.nat(255)), { minLength: 1, maxLength: 8 }), (edits) => {
        const damaged = Buffer.from(good);
        for (const [at, value] of edits) damaged[at] = value;
        readOrRefuse(damaged);
      }),
      { seed: 9, numRuns: 2000 },
    );
  });
});
