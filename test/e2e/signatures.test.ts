/**
 * Signed packages through the real clients: `dotnet nuget sign` then `dotnet nuget push` is accepted; a tampered copy
 * is refused with a 400 the client shows, and nothing is stored; staging checks signatures as a push does; on a feed
 * whose `signatures` setting is `require`, an unsigned package is refused with a 403 naming the policy; a package with a
 * broken signature on an upstream is not mirrored.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNuGetSandbox, describeRun, hasDotnet, requireClients, run, writePawketOnlyConfig, type NuGetSandbox, type RunResult } from './support/dotnet.js';
import { pushPackageFile, startPawket, type PawketServer } from './support/server.js';
import { flipByte, signWithDotnet, writeTestPackage } from '../support/signed-packages.js';
import { dotnetTrustingTestRoot, startTimestampAuthority, testPki } from '../support/test-pki.js';

const clients = requireClients('signed package end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);
const KEY = 'signatures-e2e-key';

describe.skipIf(clients.skip)('signed packages pushed with dotnet', () => {
  let work: string;
  let server: PawketServer;
  /** An upstream that accepts anything: it holds a tampered signed package. */
  let origin: PawketServer;
  let sandbox: NuGetSandbox;
  const files = { signed: '', tampered: '', unsigned: '', strictSigned: '' };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-signatures-'));
    const pki = await testPki();
    const dotnet = await dotnetTrustingTestRoot(pki);
    const tsa = await startTimestampAuthority(pki);
    try {
      files.signed = await writeTestPackage(join(work, 'pkgs'), 'Contoso.Signed');
      await signWithDotnet(dotnet, files.signed, pki.author, tsa.url);
      files.strictSigned = await writeTestPackage(join(work, 'pkgs'), 'Contoso.Strict');
      await signWithDotnet(dotnet, files.strictSigned, pki.author, tsa.url);
    } finally {
      await tsa.close();
    }
    files.tampered = await flipByte(files.signed, join(work, 'pkgs', 'Contoso.Tampered.1.0.0.nupkg'));
    files.unsigned = await writeTestPackage(join(work, 'pkgs'), 'Contoso.Unsigned');
    server = await startPawket({ env: { PAWKET_API_KEY: KEY, PAWKET_SIGNATURE_TRUSTED_ROOTS: pki.root.certPem } });
    const created = await fetch(`${server.baseUrl}/api/admin/feeds`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'strict', settings: { signatures: 'require' } }),
    });
    expect(created.status).toBe(201);
    origin = await startPawket({ env: { PAWKET_API_KEY: KEY, PAWKET_SIGNATURES: 'accept' } });
    await pushPackageFile(origin, files.tampered, KEY);
    const mirror = await fetch(`${server.baseUrl}/api/admin/feeds`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'mirror', settings: { upstreams: [{ url: origin.feedUrl }] } }),
    });
    expect(mirror.status).toBe(201);
    sandbox = await createNuGetSandbox(join(work, 'nuget'));
  });

  afterAll(async () => {
    await Promise.all([server?.stop(), origin?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function push(file: string, feedUrl = server.feedUrl): Promise<RunResult> {
    const config = await writePawketOnlyConfig(join(work, 'client'), feedUrl);
    return run('dotnet', ['nuget', 'push', file, '--source', feedUrl, '--api-key', KEY, '--configfile', config, '--force-english-output'], {
      env: { ...sandbox.env, NUGET_API_KEY: '' },
      timeoutMs: 120_000,
    });
  }

  function statusLine(r: RunResult, status: number): string {
    const line = r.output.split('\n').find((l) => l.includes(`status code does not indicate success: ${status}`));
    expect(line, `expected HTTP ${status}\n${describeRun(r)}\n${server.output().slice(-3000)}`).toBeDefined();
    return line!;
  }

  it('refuses a tampered signed package with a 400 the client shows, and stores nothing', async () => {
    const r = await push(files.tampered);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(statusLine(r, 400)).toContain('is not valid: the package content does not match its signature');
    // The tampered copy has the signed package's identity (the changed byte is in a file): nothing of it is stored.
    expect((await fetch(`${server.baseUrl}/v3/flatcontainer/contoso.signed/index.json`)).status).toBe(404);
  }, 180_000);

  it('accepts a package signed with dotnet nuget sign and serves its bytes unchanged', async () => {
    const r = await push(files.signed);
    expect(r.code, describeRun(r)).toBe(0);
    const served = await fetch(`${server.baseUrl}/v3/flatcontainer/contoso.signed/1.0.0/contoso.signed.1.0.0.nupkg`);
    expect(Buffer.from(await served.arrayBuffer()).equals(await readFile(files.signed))).toBe(true);
  }, 180_000);

  it('checks a staged package as a push: tampered is a 400 and nothing is staged', async () => {
    const form = new FormData();
    form.append('package', new Blob([new Uint8Array(await readFile(files.tampered))]), 'package.nupkg');
    const res = await fetch(`${server.baseUrl}/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': KEY } });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/InvalidSignature[\s\S]*the package content does not match its signature|the package content does not match its signature[\s\S]*InvalidSignature/);
    expect((await fetch(`${server.baseUrl}/v3/staging/package`, { headers: { 'x-nuget-apikey': KEY } }).then((x) => x.text()))).not.toContain('Contoso.Signed');
  });

  it("under the feed's require policy refuses an unsigned package with a 403 naming the policy, and takes a signed one", async () => {
    const strict = `${server.baseUrl}/f/strict/v3/index.json`;
    const refused = await push(files.unsigned, strict);
    expect(refused.code, describeRun(refused)).not.toBe(0);
    expect(statusLine(refused, 403)).toContain("Package Contoso.Unsigned 1.0.0 is not signed; signature policy 'feed default' requires packages of Contoso.Unsigned to be author-signed.");
    expect((await fetch(`${server.baseUrl}/f/strict/v3/flatcontainer/contoso.unsigned/index.json`)).status).toBe(404);
    const accepted = await push(files.strictSigned, strict);
    expect(accepted.code, describeRun(accepted)).toBe(0);
  }, 240_000);

  it('does not mirror an upstream package whose signature is broken, and says why', async () => {
    const url = `${server.baseUrl}/f/mirror/v3/flatcontainer/contoso.signed/1.0.0/contoso.signed.1.0.0.nupkg`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await fetch(url);
      expect(res.status).toBe(502);
      expect(await res.text()).toMatch(/Could not fetch Contoso.Signed 1.0.0 from .*: The signature of Contoso.Signed 1.0.0 is not valid: the package content does not match its signature.*Nothing was cached/);
    }
    expect(server.output()).toMatch(/not caching Contoso.Signed 1.0.0 from/);
  });
});
