/**
 * Differential: Pawket's signature verdict (valid or not) equals `dotnet nuget verify --all`'s for the same packages
 * and the same trusted roots (the SDK's bundles plus the test root): packages signed here with the test PKI (valid,
 * untimestamped, another author, an untrusted root, tampered, a signature on other content, a compressed signature
 * entry, garbage) and the real signed packages in this machine's NuGet global packages folder.
 */
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PawketError } from '../../src/errors.js';
import { parsePemBundle, type TrustedRoots } from '../../src/signing/trusted-roots.js';
import { verifyPackageSignature } from '../../src/signing/verify.js';
import { buildNupkg } from '../support/nupkg.js';
import { addSignatureEntry, dotnetTrustingUntrustedRoot, flipByte, signatureOf, signWithDotnet, writeTestPackage } from '../support/signed-packages.js';
import { dotnetTrustingTestRoot, startTimestampAuthority, testPki, trustingDotnetEnv } from '../support/test-pki.js';
import { describeRun, hasDotnet, requireClients, run } from './support/dotnet.js';

const clients = requireClients('signature differential test (Pawket against dotnet nuget verify)', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

describe.skipIf(clients.skip)('signature verdicts: Pawket and dotnet nuget verify agree', () => {
  let work: string;
  let dotnet: string;
  let roots: TrustedRoots;
  const packages: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-signature-differential-'));
    const pki = await testPki();
    dotnet = await dotnetTrustingTestRoot(pki);
    const dir = join(work, 'pkgs');
    const tsa = await startTimestampAuthority(pki);
    try {
      const signed = await writeTestPackage(dir, 'Diff.Valid');
      const original = await readFile(signed);
      await signWithDotnet(dotnet, signed, pki.author, tsa.url);
      const noTimestamp = await writeTestPackage(dir, 'Diff.NoTimestamp');
      await signWithDotnet(dotnet, noTimestamp, pki.author);
      const other = await writeTestPackage(dir, 'Diff.OtherAuthor');
      await signWithDotnet(dotnet, other, pki.otherAuthor, tsa.url);
      const untrusted = await writeTestPackage(dir, 'Diff.UntrustedRoot');
      await signWithDotnet(await dotnetTrustingUntrustedRoot(pki), untrusted, pki.untrusted, tsa.url);
      const p7s = signatureOf(await readFile(signed));
      const moved = join(dir, 'Diff.Moved.1.0.0.nupkg');
      await writeFile(moved, addSignatureEntry(await buildNupkg({ id: 'Diff.Moved', version: '1.0.0' }), p7s));
      const compressed = join(dir, 'Diff.Compressed.1.0.0.nupkg');
      await writeFile(compressed, addSignatureEntry(original, p7s, { method: 8 }));
      const garbage = join(dir, 'Diff.Garbage.1.0.0.nupkg');
      await writeFile(garbage, addSignatureEntry(original, randomBytes(1500)));
      packages.push(signed, noTimestamp, other, untrusted, await flipByte(signed, join(dir, 'Diff.Tampered.1.0.0.nupkg')), moved, compressed, garbage);
    } finally {
      await tsa.close();
    }

    const global = (await run('dotnet', ['nuget', 'locals', 'global-packages', '--list', '--force-english-output'])).stdout.match(/global-packages:\s*(.+)/)?.[1]?.trim();
    const real = global && existsSync(global) ? (await readdir(global, { recursive: true })).filter((f) => f.endsWith('.nupkg')).map((f) => join(global, f)) : [];
    if (!real.length) console.warn('\n!!! signature differential: no packages in the NuGet global packages folder; only the test PKI packages are compared\n');
    for (const file of real.slice(0, 40)) {
      const copy = join(work, 'real', basename(file));
      await run('mkdir', ['-p', dirname(copy)]);
      await copyFile(file, copy);
      packages.push(copy);
    }
    if (real.length) {
      // A real signed package changed in one byte of its first entry's data.
      const bytes = await readFile(packages.at(-1)!);
      const at = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28) + 4;
      bytes[at] = bytes[at]! ^ 0xff;
      packages.push(join(work, 'real', 'tampered.nupkg'));
      await writeFile(packages.at(-1)!, bytes);
    }

    // The roots the trusting dotnet's NuGet uses: its SDK's bundles, which hold the test root too.
    const sdks = join(dirname(dotnet), 'sdk');
    const newest = (await readdir(sdks)).filter((v) => existsSync(join(sdks, v, 'trustedroots', 'codesignctl.pem'))).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1)!;
    const bundle = async (name: string) => parsePemBundle(await readFile(join(sdks, newest, 'trustedroots', name), 'utf8'), name);
    roots = { codeSigning: await bundle('codesignctl.pem'), timestamping: await bundle('timestampctl.pem'), source: 'sdk', enforced: true };
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** dotnet nuget verify's verdict per package: one run over all of them, its output read block by block. */
  async function dotnetVerdicts(files: readonly string[]): Promise<boolean[]> {
    const r = await run(dotnet, ['nuget', 'verify', '--all', ...files], { env: trustingDotnetEnv(dotnet), timeoutMs: 300_000 });
    const blocks = r.stdout.split(/^Verifying /m).slice(1);
    if (blocks.length === files.length) return blocks.map((b) => !/Package signature validation failed|^error: /m.test(b));
    // Not one block per package: ask once per package.
    const each: boolean[] = [];
    for (const file of files) each.push((await run(dotnet, ['nuget', 'verify', '--all', file], { env: trustingDotnetEnv(dotnet), timeoutMs: 120_000 })).code === 0);
    expect(each.length, describeRun(r)).toBe(files.length);
    return each;
  }

  async function pawketVerdict(file: string): Promise<boolean | string> {
    try {
      return (await verifyPackageSignature(file, basename(file), { roots })).status === 'valid';
    } catch (e) {
      if (e instanceof PawketError && e.status === 400) return false;
      return `crashed: ${(e as Error).stack}`;
    }
  }

  it('gives the same verdict for every package', async () => {
    const expected = await dotnetVerdicts(packages);
    const got = await Promise.all(packages.map(pawketVerdict));
    const table = packages.map((f, i) => ({ package: basename(f), dotnet: expected[i], pawket: got[i] }));
    expect(table).toEqual(packages.map((f, i) => ({ package: basename(f), dotnet: expected[i], pawket: expected[i] })));
    // The set is not trivial: both verdicts occur among the test PKI packages.
    expect(expected.slice(0, 8)).toEqual([true, true, true, false, false, false, false, false]);
    if (packages.length > 8) expect(expected.at(-1)).toBe(false);
  }, 600_000);
});
