/**
 * Repository signing with the real dotnet CLI: Pawket signs what it takes in (a primary signature on an unsigned
 * package, a countersignature on an author-signed one), `dotnet nuget verify --all` accepts both, and a restore with
 * `signatureValidationMode=require` that trusts the repository succeeds, until the feed serves an altered package.
 * The feed is reached over https (NuGet accepts repository signatures naming https service indexes only): a loopback
 * TLS front with a certificate under the test root.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNupkg } from '../support/nupkg.js';
import { dotnetTrustingTestRoot, startTimestampAuthority, testPki, trustingDotnetEnv, type TestPki, type TimestampAuthority } from '../support/test-pki.js';
import { startTlsProxy, type TlsProxy } from '../support/tls-proxy.js';
import { createNuGetSandbox, describeRun, hasDotnet, requireClients, run } from './support/dotnet.js';
import { pawketMain, pushPackageFile, startPawket, type PawketServer } from './support/server.js';
import { freshBackendEnv } from '../support/backend.js';

const clients = requireClients('repository signing end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);
const STEP_TIMEOUT = 240_000;
const PLAIN = 'Pawket.Signing.Plain';
const AUTHORED = 'Pawket.Signing.Authored';

describe.skipIf(clients.skip)('repository signing, checked by dotnet', () => {
  let pki: TestPki;
  let tsa: TimestampAuthority;
  let dotnet: string;
  let work: string;
  let proxy: TlsProxy;
  let server: PawketServer | undefined;
  let serviceIndex: string;
  /** The server's settings, kept for its restart with a rotated certificate and for `pawket resign`. */
  let env: Record<string, string>;
  let dataDir: string;

  beforeAll(async () => {
    pki = await testPki();
    tsa = await startTimestampAuthority(pki);
    dotnet = await dotnetTrustingTestRoot(pki);
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-repo-sign-'));
    proxy = await startTlsProxy(pki, work);
    serviceIndex = `${proxy.url}/v3/index.json`;
    const chain = join(work, 'repository-chain.pem');
    await writeFile(chain, (await readFile(pki.repository.certPem, 'utf8')) + (await readFile(pki.root.certPem, 'utf8')));
    dataDir = join(work, 'data');
    env = {
      ...(await freshBackendEnv()),
      PAWKET_API_KEY: 'key1',
      PAWKET_BASE_URL: proxy.url,
      PAWKET_REPOSITORY_SIGNING_CERTIFICATE: chain,
      PAWKET_REPOSITORY_SIGNING_KEY: pki.repository.keyPem,
      PAWKET_REPOSITORY_SIGNING_TIMESTAMP_URL: tsa.url,
    };
    server = await startPawket({ env, dataDir });
    proxy.target = server.baseUrl;

    const plain = join(work, `${PLAIN}.1.0.0.nupkg`);
    await writeFile(plain, await buildNupkg({ id: PLAIN, version: '1.0.0' }));
    const authored = join(work, `${AUTHORED}.1.0.0.nupkg`);
    await writeFile(authored, await buildNupkg({ id: AUTHORED, version: '1.0.0' }));
    const sign = await run(dotnet, ['nuget', 'sign', authored, '--certificate-path', pki.author.pfx, '--certificate-password', pki.author.password, '--timestamper', tsa.url], { env: trustingDotnetEnv(dotnet), timeoutMs: STEP_TIMEOUT });
    expect(sign.code, describeRun(sign)).toBe(0);
    await pushPackageFile(server, plain, 'key1');
    await pushPackageFile(server, authored, 'key1');
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await tsa?.close();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  const download = async (id: string) => {
    const lid = id.toLowerCase();
    const response = await fetch(`${server!.baseUrl}/v3/flatcontainer/${lid}/1.0.0/${lid}.1.0.0.nupkg`);
    expect(response.status).toBe(200);
    const file = join(work, `downloaded-${lid}.nupkg`);
    const bytes = Buffer.from(await response.arrayBuffer());
    await writeFile(file, bytes);
    return { file, bytes };
  };

  it('serves both packages repository-signed, and dotnet nuget verify --all accepts them', async () => {
    for (const id of [PLAIN, AUTHORED]) {
      const { file, bytes } = await download(id);
      const verify = await run(dotnet, ['nuget', 'verify', '--all', '-v', 'n', file], { env: trustingDotnetEnv(dotnet), timeoutMs: STEP_TIMEOUT });
      expect(verify.code, describeRun(verify)).toBe(0);
      expect(verify.output).toContain('Signature type: Repository');
      expect(verify.output).toContain(pki.repository.sha256);
      expect(verify.output).toContain(serviceIndex);
      if (id === AUTHORED) expect(verify.output).toContain(pki.author.sha256);
      // The registration's packageHash is the signed file's.
      const index = (await (await fetch(`${server!.baseUrl}/v3/registration/${id.toLowerCase()}/index.json`)).json()) as { items: Array<{ items: Array<{ catalogEntry: { packageHash?: string } }> }> };
      expect(index.items[0]!.items[0]!.catalogEntry.packageHash).toBe(createHash('sha512').update(bytes).digest('base64'));
    }
  }, STEP_TIMEOUT);

  it('lists its certificate in RepositorySignatures/5.0.0 and serves it', async () => {
    const index = (await (await fetch(`${server!.baseUrl}/v3/index.json`)).json()) as { resources: Array<{ '@id': string; '@type': string }> };
    expect(index.resources.find((r) => r['@type'] === 'RepositorySignatures/5.0.0')?.['@id']).toBe(`${proxy.url}/v3/repository-signatures/index.json`);
    const doc = (await (await fetch(`${server!.baseUrl}/v3/repository-signatures/index.json`)).json()) as {
      allRepositorySigned: boolean;
      signingCertificates: Array<{ fingerprints: Record<string, string>; subject: string; contentUrl: string; notBefore: string; notAfter: string }>;
    };
    expect(doc.allRepositorySigned).toBe(true);
    expect(doc.signingCertificates).toHaveLength(1);
    const [cert] = doc.signingCertificates;
    expect(cert!.fingerprints['2.16.840.1.101.3.4.2.1']).toBe(pki.repository.sha256.toLowerCase());
    expect(cert!.subject).toContain('Pawket Test Repository');
    const der = Buffer.from(await (await fetch(cert!.contentUrl.replace(proxy.url, server!.baseUrl))).arrayBuffer());
    expect(createHash('sha256').update(der).digest('hex')).toBe(pki.repository.sha256.toLowerCase());
  });

  /** A project referencing both packages, restored from the https front with only the repository trusted. */
  async function restore(name: string) {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'Consumer.csproj'),
      `<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup><ItemGroup><PackageReference Include="${PLAIN}" Version="1.0.0" /><PackageReference Include="${AUTHORED}" Version="1.0.0" /></ItemGroup></Project>`,
    );
    await writeFile(
      join(dir, 'nuget.config'),
      `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config><add key="signatureValidationMode" value="require" /></config>
  <packageSources><clear /><add key="Pawket" value="${serviceIndex}" protocolVersion="3" /></packageSources>
  <disabledPackageSources><clear /></disabledPackageSources>
  <fallbackPackageFolders><clear /></fallbackPackageFolders>
  <packageSourceMapping><clear /></packageSourceMapping>
  <trustedSigners>
    <repository name="Pawket" serviceIndex="${serviceIndex}">
      <certificate fingerprint="${pki.repository.sha256}" hashAlgorithm="SHA256" allowUntrustedRoot="true" />
    </repository>
  </trustedSigners>
</configuration>
`,
    );
    const sandbox = await createNuGetSandbox(join(dir, 'nuget'));
    return run(dotnet, ['restore', dir], { cwd: dir, env: { ...sandbox.env, ...trustingDotnetEnv(dotnet), SSL_CERT_FILE: proxy.caBundle }, timeoutMs: STEP_TIMEOUT });
  }

  it('restores with signatureValidationMode=require trusting the repository, and refuses an altered package', async () => {
    const good = await restore('consumer-good');
    expect(good.code, describeRun(good)).toBe(0);

    proxy.tamper = `/${PLAIN.toLowerCase()}.1.0.0.nupkg`;
    try {
      const altered = await restore('consumer-altered');
      expect(altered.code, describeRun(altered)).not.toBe(0);
      // NuGet's integrity check: the content no longer has the hash the repository signed.
      expect(altered.output).toMatch(/NU3008: Package 'Pawket\.Signing\.Plain 1\.0\.0'.*package integrity check failed/);
    } finally {
      proxy.tamper = null;
    }
  }, 2 * STEP_TIMEOUT);

  type Listing = { allRepositorySigned: boolean; signingCertificates: Array<{ fingerprints: Record<string, string> }> };
  const listing = async () => (await (await fetch(`${server!.baseUrl}/v3/repository-signatures/index.json`)).json()) as Listing;
  const listed = (l: Listing) => l.signingCertificates.map((c) => c.fingerprints['2.16.840.1.101.3.4.2.1']!.toUpperCase());
  const resign = () => run(process.execPath, [pawketMain, 'resign', '--data-dir', dataDir], { env, timeoutMs: STEP_TIMEOUT });

  it('rotates the certificate: the old one stays listed until `pawket resign` re-signed its packages', async () => {
    // The new certificate (another code-signing certificate under the test root); the old one listed as previous.
    const next = join(work, 'next-chain.pem');
    await writeFile(next, (await readFile(pki.otherAuthor.certPem, 'utf8')) + (await readFile(pki.root.certPem, 'utf8')));
    await server!.stop();
    env = { ...env, PAWKET_REPOSITORY_SIGNING_CERTIFICATE: next, PAWKET_REPOSITORY_SIGNING_KEY: pki.otherAuthor.keyPem, PAWKET_REPOSITORY_SIGNING_PREVIOUS_CERTIFICATES: pki.repository.certPem };
    server = await startPawket({ env, dataDir });
    proxy.target = server.baseUrl;

    const before = await listing();
    expect(listed(before)).toEqual([pki.otherAuthor.sha256, pki.repository.sha256]);
    expect(before.allRepositorySigned).toBe(true);

    const first = await resign();
    expect(first.code, describeRun(first)).toBe(0);
    expect(first.stdout).toContain('Re-signed 2 packages');
    // Resumable: a second run finds nothing left to do.
    const second = await resign();
    expect(second.code, describeRun(second)).toBe(0);
    expect(second.stdout).toContain('Re-signed 0 packages');
    expect(second.stdout).toContain('2 were signed with it already');

    // The server sees the re-signed rows through its change feed; the listing is recounted within seconds.
    let after = await listing();
    for (let i = 0; i < 40 && listed(after).length > 1; i++) {
      await new Promise((ok) => setTimeout(ok, 250));
      after = await listing();
    }
    expect(listed(after)).toEqual([pki.otherAuthor.sha256]);
    expect(after.allRepositorySigned).toBe(true);

    const { file } = await download(AUTHORED);
    const verify = await run(dotnet, ['nuget', 'verify', '--all', '-v', 'n', file], { env: trustingDotnetEnv(dotnet), timeoutMs: STEP_TIMEOUT });
    expect(verify.code, describeRun(verify)).toBe(0);
    expect(verify.output).toContain(pki.author.sha256);
    expect(verify.output).toContain(pki.otherAuthor.sha256);
    expect(verify.output).not.toContain(pki.repository.sha256);
  }, 2 * STEP_TIMEOUT);
});
