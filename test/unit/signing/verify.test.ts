/**
 * Package signature verification against packages signed by the real `dotnet nuget sign` (the test PKI, a timestamp
 * authority on loopback), and hostile signatures: tampered content, a signature moved onto other content, misplaced,
 * compressed and oversized signature entries, garbage. Each bad one is a 400 that says what is wrong.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PawketError } from '../../../src/errors.js';
import { FeedSignaturePolicies, PackageSignatureCheck } from '../../../src/signing/package-signatures.js';
import type { SignaturePolicies } from '../../../src/signing/signature-info.js';
import { hashSignedContent, readSignedLayout } from '../../../src/signing/signed-content.js';
import { loadTrustedRoots, type TrustedRoots } from '../../../src/signing/trusted-roots.js';
import { verifyPackageSignature } from '../../../src/signing/verify.js';
import { hasDotnet, requireClients } from '../../e2e/support/dotnet.js';
import { badRequestMessageOf } from '../../support/bad-request.js';
import { buildNupkg } from '../../support/nupkg.js';
import { addSignatureEntry, dotnetTrustingUntrustedRoot, flipByte, signatureOf, signWithDotnet, writeTestPackage } from '../../support/signed-packages.js';
import { dotnetTrustingTestRoot, startTimestampAuthority, testPki, type TestPki } from '../../support/test-pki.js';

const clients = requireClients('package signature verification tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK), for `dotnet nuget sign`']);

describe.skipIf(clients.skip)('package signatures', () => {
  let dir: string;
  let pki: TestPki;
  let roots: TrustedRoots;
  const files = { unsignedOriginal: '', signed: '', noTimestamp: '', other: '', untrusted: '', unsigned: '' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pawket-signatures-'));
    pki = await testPki();
    const dotnet = await dotnetTrustingTestRoot(pki);
    const tsa = await startTimestampAuthority(pki);
    try {
      files.signed = await writeTestPackage(dir, 'Contoso.Signed');
      files.unsignedOriginal = join(dir, 'original.nupkg');
      await copyFile(files.signed, files.unsignedOriginal);
      await signWithDotnet(dotnet, files.signed, pki.author, tsa.url);
      files.noTimestamp = await writeTestPackage(dir, 'Contoso.NoTimestamp');
      await signWithDotnet(dotnet, files.noTimestamp, pki.author);
      files.other = await writeTestPackage(dir, 'Contoso.Other');
      await signWithDotnet(dotnet, files.other, pki.otherAuthor, tsa.url);
      files.untrusted = await writeTestPackage(dir, 'Contoso.Untrusted');
      await signWithDotnet(await dotnetTrustingUntrustedRoot(pki), files.untrusted, pki.untrusted, tsa.url);
      files.unsigned = await writeTestPackage(dir, 'Contoso.Unsigned');
    } finally {
      await tsa.close();
    }
    roots = await loadTrustedRoots([pki.root.certPem]);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const verify = (file: string) => verifyPackageSignature(file, 'Contoso.Test 1.0.0', { roots });
  let n = 0;
  async function write(bytes: Buffer): Promise<string> {
    const file = join(dir, `crafted-${++n}.nupkg`);
    await writeFile(file, bytes);
    return file;
  }

  it('hashes the signed content as the package was before signing', async () => {
    const layout = await readSignedLayout(files.signed);
    expect(layout).not.toBeNull();
    const original = await readFile(files.unsignedOriginal);
    for (const algorithm of ['sha256', 'sha512'] as const) {
      expect((await hashSignedContent(files.signed, layout!, algorithm)).toString('hex')).toBe(createHash(algorithm).update(original).digest('hex'));
    }
    expect(await readSignedLayout(files.unsigned)).toBeNull();
  });

  it('accepts a timestamped author signature and says who signed, and when', async () => {
    const verdict = await verify(files.signed);
    expect(verdict.status).toBe('valid');
    const author = verdict.status === 'valid' ? verdict.signature.author : undefined;
    expect(author).toMatchObject({ sha256: pki.author.sha256, subject: 'O=Contoso, CN=Pawket Test Author', issuer: 'O=Pawket Tests, CN=Pawket Test Root' });
    expect(Math.abs(Date.parse(author!.timestamp!) - Date.now())).toBeLessThan(15 * 60_000);
    expect(verdict.status === 'valid' && verdict.signature.repository).toBeFalsy();
  });

  it('accepts an untimestamped signature while its certificate is valid, and an unsigned package as unsigned', async () => {
    const verdict = await verify(files.noTimestamp);
    expect(verdict.status === 'valid' && verdict.signature.author?.timestamp).toBeUndefined();
    expect(verdict.status === 'valid' && verdict.signature.author?.sha256).toBe(pki.author.sha256);
    expect(await verify(files.unsigned)).toEqual({ status: 'unsigned' });
  });

  it('refuses a signature whose certificate chains to a root the server does not trust', async () => {
    expect(await badRequestMessageOf(verify(files.untrusted))).toMatch(/chains to a root this server does not trust \(.*Pawket Untrusted Root/);
    // Without any trust store, the chain is checked up to its own root and accepted (logged at start-up).
    const none: TrustedRoots = { codeSigning: [], timestamping: [], source: 'none', enforced: false };
    expect((await verifyPackageSignature(files.untrusted, 'x', { roots: none })).status).toBe('valid');
    // A mirrored package: the upstream decides whom to trust; its signature must still be intact.
    expect((await verifyPackageSignature(files.untrusted, 'x', { roots, allowUntrustedRoot: true })).status).toBe('valid');
  });

  it("trusts, by default, the roots NuGet uses on this machine (the newest SDK's bundles here)", async () => {
    const machine = await loadTrustedRoots([]);
    expect(machine.enforced).toBe(true);
    expect(machine.source).toMatch(/objsign-ca-bundle\.pem$|trustedroots$/);
    expect(machine.codeSigning.length).toBeGreaterThan(10);
    await expect(loadTrustedRoots([join(dir, 'missing.pem')])).rejects.toThrow(/Cannot read the trusted root bundle .*missing\.pem \(signatureTrustedRoots\)/);
  });

  it('refuses a package changed after signing (one byte)', async () => {
    const tampered = await flipByte(files.signed, join(dir, 'tampered.nupkg'));
    expect(await badRequestMessageOf(verify(tampered))).toMatch(/^The signature of Contoso.Test 1.0.0 is not valid: the package content does not match its signature/);
  });

  it('refuses a signature moved onto other content', async () => {
    const other = await buildNupkg({ id: 'Contoso.Signed', version: '1.0.0', description: 'other content' });
    const moved = await write(addSignatureEntry(other, signatureOf(await readFile(files.signed))));
    expect(await badRequestMessageOf(verify(moved))).toMatch(/the package content does not match its signature/);
    // The same signature added back to its own content is valid again: the entry is written as NuGet writes it.
    const back = await write(addSignatureEntry(await readFile(files.unsignedOriginal), signatureOf(await readFile(files.signed))));
    expect((await verify(back)).status).toBe('valid');
  });

  it('refuses signature entries that break NuGet placement rules', async () => {
    const original = await readFile(files.unsignedOriginal);
    const p7s = signatureOf(await readFile(files.signed));
    expect(await badRequestMessageOf(verify(await write(addSignatureEntry(original, p7s, { method: 8 }))))).toMatch(/must be stored uncompressed/);
    expect(await badRequestMessageOf(verify(await write(addSignatureEntry(original, p7s, { centralFirst: true }))))).toMatch(/must be the last entry of the central directory/);
    const twice = addSignatureEntry(addSignatureEntry(original, p7s), p7s);
    expect(await badRequestMessageOf(verify(await write(twice)))).toMatch(/more than one signature entry/);
  });

  it('refuses a huge signature entry without reading it, and garbage', async () => {
    const original = await readFile(files.unsignedOriginal);
    const huge = await write(addSignatureEntry(original, Buffer.alloc(3 * 1024 * 1024, 0x30)));
    expect(await badRequestMessageOf(verify(huge))).toMatch(/it is 3145728 bytes; at most 1048576 are accepted/);
    const garbage = await write(addSignatureEntry(original, randomBytes(2000)));
    expect(await badRequestMessageOf(verify(garbage))).toMatch(/^The signature of Contoso.Test 1.0.0 is not valid: /);
    const notSignedData = await write(addSignatureEntry(original, Buffer.from('3003020101', 'hex')));
    expect(await badRequestMessageOf(verify(notSignedData))).toMatch(/not a CMS/);
  });

  describe('policies', () => {
    const check = (mode: 'accept' | 'verify' | 'require', fingerprints: string[] = []) => {
      const policies: SignaturePolicies = { policyFor: () => Promise.resolve({ name: fingerprints.length ? 'Contoso packages' : 'feed default', mode, fingerprints }) };
      return new PackageSignatureCheck(policies, () => Promise.resolve(roots));
    };
    const subject = { id: 'Contoso.Signed', display: 'Contoso.Signed 1.0.0', owner: 'contoso' };
    const refusal = async (p: Promise<unknown>) => {
      const e = await p.then(() => null, (err: unknown) => err);
      expect(e).toBeInstanceOf(PawketError);
      expect((e as PawketError).status).toBe(403);
      return (e as PawketError).message;
    };

    it('accept looks at nothing; verify keeps who signed and lets unsigned packages in', async () => {
      const garbage = await write(addSignatureEntry(await readFile(files.unsignedOriginal), randomBytes(100)));
      expect(await check('accept').check(garbage, subject)).toBeUndefined();
      expect(await check('verify').check(files.unsigned, subject)).toBeUndefined();
      expect((await check('verify').check(files.signed, subject))?.author?.sha256).toBe(pki.author.sha256);
      expect((await new FeedSignaturePolicies('verify').policyFor()).name).toBe('feed default');
    });

    it('require refuses unsigned packages and, with fingerprints, other signers (403 naming the policy)', async () => {
      expect(await refusal(check('require').check(files.unsigned, subject))).toBe(
        "Package Contoso.Signed 1.0.0 is not signed; signature policy 'feed default' requires packages of Contoso.Signed to be author-signed.",
      );
      expect((await check('require', [pki.author.sha256.toLowerCase()]).check(files.signed, subject))?.author?.sha256).toBe(pki.author.sha256);
      expect(await refusal(check('require', [pki.author.sha256]).check(files.other, subject))).toBe(
        `Package Contoso.Signed 1.0.0 is signed by O=Fabrikam, CN=Pawket Other Author (SHA-256 ${pki.otherAuthor.sha256}); signature policy 'Contoso packages' requires packages of Contoso.Signed to be author-signed by a certificate with SHA-256 fingerprint ${pki.author.sha256}.`,
      );
      // A broken signature stays a 400 whatever the policy.
      const tampered = await flipByte(files.signed, join(dir, 'tampered-require.nupkg'));
      await badRequestMessageOf(check('require').check(tampered, subject));
    });
  });
});
