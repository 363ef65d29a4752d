import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepositorySigningKeys, RepositorySigner } from '../../../src/signing/repository-signer.js';
import { readZipLayout } from '../../../src/signing/signed-zip.js';
import { buildNupkg } from '../../support/nupkg.js';
import { dotnetTrustingTestRoot, startTimestampAuthority, testPki, trustingDotnetEnv, type TestPki, type TimestampAuthority } from '../../support/test-pki.js';
import { hasDotnet, run } from '../../e2e/support/dotnet.js';

const claims = { serviceIndex: 'https://pawket.test/v3/index.json', owners: ['contoso', 'fabrikam'] };

describe.skipIf(!hasDotnet)('repository signatures, checked by dotnet nuget verify', () => {
  let pki: TestPki;
  let tsa: TimestampAuthority;
  let dotnet: string;
  let dir: string;
  let signer: RepositorySigner;

  beforeAll(async () => {
    pki = await testPki();
    tsa = await startTimestampAuthority(pki);
    dotnet = await dotnetTrustingTestRoot(pki);
    dir = await mkdtemp(join(tmpdir(), 'pawket-repo-sign-'));
    // The certificate file holds the chain after the certificate, as it would be deployed.
    const chain = join(dir, 'repository-chain.pem');
    await writeFile(chain, (await readFile(pki.repository.certPem, 'utf8')) + (await readFile(pki.root.certPem, 'utf8')));
    const keys = await loadRepositorySigningKeys({
      repositorySigningCertificate: chain,
      repositorySigningKey: pki.repository.keyPem,
      repositorySigningTimestampUrl: tsa.url,
      repositorySigningPreviousCertificates: [],
    });
    signer = new RepositorySigner(keys!);
  });
  afterAll(async () => {
    await tsa?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const verify = (file: string) => run(dotnet, ['nuget', 'verify', '--all', '-v', 'n', file], { env: trustingDotnetEnv(dotnet), timeoutMs: 120_000 });

  async function packageFile(id: string): Promise<string> {
    const file = join(dir, `${id}.1.0.0.nupkg`);
    await writeFile(file, await buildNupkg({ id, version: '1.0.0' }));
    return file;
  }

  it('adds a timestamped repository primary signature to an unsigned package', async () => {
    const file = await packageFile('Unsigned.Package');
    const { file: signed, signer: who } = await signer.sign({ file, size: 0, sha512: '' }, claims);
    expect(signed.size).toBe((await readFile(file)).length);
    expect(who.sha256).toBe(pki.repository.sha256);
    expect(who.timestamp).toBeTruthy();
    const layout = await readZipLayout(file);
    expect(layout.signature).toBeDefined();
    const r = await verify(file);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('Signature type: Repository');
    expect(r.output).toContain(pki.repository.sha256);
    expect(r.output).toContain(claims.serviceIndex);
  }, 180_000);

  it('countersigns an author-signed package, keeping the author signature valid, and re-signs it', async () => {
    const file = await packageFile('Author.Signed');
    const sign = await run(dotnet, ['nuget', 'sign', file, '--certificate-path', pki.author.pfx, '--certificate-password', pki.author.password, '--timestamper', tsa.url], { env: trustingDotnetEnv(dotnet), timeoutMs: 120_000 });
    expect(sign.code, sign.output).toBe(0);
    await signer.sign({ file, size: 0, sha512: '' }, claims);
    // Signing again replaces the repository countersignature instead of adding a second one.
    await signer.sign({ file, size: 0, sha512: '' }, { ...claims, owners: ['contoso'] });
    const r = await verify(file);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('Signature type: Author');
    expect(r.output).toContain(pki.author.sha256);
    expect(r.output).toContain(pki.repository.sha256);
    expect(r.output.match(/Signature type: Repository/g)?.length).toBe(1);
  }, 180_000);

  it('reads the certificate and key from a PKCS#12 file', async () => {
    const keys = await loadRepositorySigningKeys({ repositorySigningCertificate: pki.repository.pfx, repositorySigningPassword: pki.repository.password, repositorySigningPreviousCertificates: [] });
    expect(keys!.current.sha256).toBe(pki.repository.sha256);
    expect(keys!.current.chain.length).toBe(1);
    await expect(loadRepositorySigningKeys({ repositorySigningCertificate: pki.repository.pfx, repositorySigningPassword: 'wrong', repositorySigningPreviousCertificates: [] })).rejects.toThrow(/could not be opened as PKCS#12/);
  });
});
