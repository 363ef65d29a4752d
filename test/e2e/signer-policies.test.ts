/**
 * Trusted-signer policies with real signatures: `dotnet nuget sign` signs, `dotnet nuget push` pushes to a real Pawket
 * server whose feed has a policy (made through the admin API) requiring `Contoso.*` to be author-signed by one
 * certificate. A package signed by another certificate and an unsigned one are refused with a 403 naming the policy;
 * the right one is accepted, and its page and registration say who signed it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWithDotnet, writeTestPackage } from '../support/signed-packages.js';
import { dotnetTrustingTestRoot, testPki, type TestPki } from '../support/test-pki.js';
import { createNuGetSandbox, describeRun, hasDotnet, requireClients, run, writePawketOnlyConfig, type NuGetSandbox } from './support/dotnet.js';
import { startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('signer policy end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);
const KEY = 'key1';

describe.skipIf(clients.skip)('a trusted-signer policy on push', () => {
  let work: string;
  let pki: TestPki;
  let server: PawketServer | undefined;
  let sandbox: NuGetSandbox;
  let configFile: string;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-signers-'));
    pki = await testPki();
    const signer = await dotnetTrustingTestRoot(pki);
    files.ours = await writeTestPackage(work, 'Contoso.Signed');
    files.theirs = await writeTestPackage(join(work, 'other'), 'Contoso.Forged');
    files.unsigned = await writeTestPackage(work, 'Contoso.Unsigned');
    await signWithDotnet(signer, files.ours, pki.author);
    await signWithDotnet(signer, files.theirs, pki.otherAuthor);
    sandbox = await createNuGetSandbox(join(work, 'nuget'));
    server = await startPawket({ env: { PAWKET_API_KEY: KEY, PAWKET_SIGNATURE_TRUSTED_ROOTS: pki.root.certPem } });
    const res = await fetch(`${server.baseUrl}/api/admin/signers`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'contoso-release', pattern: 'Contoso.*', mode: 'require', fingerprints: [pki.author.sha256] }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    configFile = await writePawketOnlyConfig(work, server.feedUrl);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const push = (file: string) =>
    run('dotnet', ['nuget', 'push', file, '--source', server!.feedUrl, '--api-key', KEY, '--configfile', configFile, '--force-english-output'], { env: sandbox.env, timeoutMs: 120_000 });

  it('refuses packages the policy does not allow with a 403 naming it, takes the right one and shows who signed it', async () => {
    for (const file of [files.theirs!, files.unsigned!]) {
      const refused = await push(file);
      expect(refused.code, describeRun(refused)).not.toBe(0);
      expect(refused.output).toContain('403');
      expect(refused.output).toContain("signature policy 'contoso-release'");
    }
    const accepted = await push(files.ours!);
    expect(accepted.code, `${describeRun(accepted)}\n${server!.output().slice(-3000)}`).toBe(0);

    const page = await (await fetch(`${server!.baseUrl}/packages/Contoso.Signed/1.0.0`)).text();
    expect(page).toContain('Author signature');
    expect(page).toContain('Pawket Test Author');
    expect(page).toContain(pki.author.sha256);
    const index = (await (await fetch(`${server!.baseUrl}/v3/registration/contoso.signed/index.json`)).json()) as {
      items: Array<{ items: Array<{ catalogEntry: { signature?: { author?: { sha256: string } } } }> }>;
    };
    expect(index.items[0]!.items[0]!.catalogEntry.signature?.author?.sha256).toBe(pki.author.sha256);
    // Nothing of the refused ones was stored.
    expect((await fetch(`${server!.baseUrl}/v3/flatcontainer/contoso.forged/index.json`)).status).toBe(404);
  }, 300_000);
});
