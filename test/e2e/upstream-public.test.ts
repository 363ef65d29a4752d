/**
 * Opt-in (PAWKET_TEST_PUBLIC_UPSTREAM=1): Pawket in front of nuget.org. A real project with a few well-known packages
 * restores through Pawket alone, and the packages are then cached in Pawket. Skipped, loudly, when the variable is unset.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNuGetSandbox, describeRun, hasDotnet, requireClients, run, writePawketOnlyConfig, type NuGetSandbox } from './support/dotnet.js';
import { fixtureProjectsDir } from './support/packages.js';
import { startPawket, type PawketServer } from './support/server.js';

const NUGET_ORG = 'https://api.nuget.org/v3/index.json';
const enabled = process.env.PAWKET_TEST_PUBLIC_UPSTREAM === '1';
if (!enabled) {
  console.warn('\n!!! SKIPPING the public upstream test (restore from nuget.org through Pawket): set PAWKET_TEST_PUBLIC_UPSTREAM=1 to run it.\n');
}
const clients = requireClients('public upstream test', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);
const PACKAGES = { 'Newtonsoft.Json': '13.0.3', 'Serilog': '4.0.0', 'Humanizer.Core': '2.14.1' };

describe.skipIf(!enabled || clients.skip)('restoring well-known packages from nuget.org through Pawket', () => {
  let work: string;
  let sandbox: NuGetSandbox;
  let server: PawketServer | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-public-'));
    sandbox = await createNuGetSandbox(join(work, 'nuget'));
    server = await startPawket({ env: { PAWKET_UPSTREAMS: NUGET_ORG } });
  });
  afterAll(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('restores and caches them', { timeout: 600_000 }, async () => {
    const dir = join(work, 'Consumer');
    await cp(join(fixtureProjectsDir, 'Consumer'), dir, { recursive: true });
    const csproj = join(dir, 'Consumer.csproj');
    const refs = Object.entries(PACKAGES).map(([id, v]) => `    <PackageReference Include="${id}" Version="${v}" />`).join('\n');
    await writeFile(csproj, (await readFile(csproj, 'utf8')).replace('</Project>', `  <ItemGroup>\n${refs}\n  </ItemGroup>\n</Project>`));
    await writePawketOnlyConfig(dir, server!.feedUrl);
    const r = await run('dotnet', ['restore'], { cwd: dir, env: sandbox.env, timeoutMs: 540_000 });
    expect(r.code, `${describeRun(r)}\n--- pawket ---\n${server!.output().slice(-4000)}`).toBe(0);
    for (const [id, version] of Object.entries(PACKAGES)) {
      const lid = id.toLowerCase();
      const res = await fetch(`${server!.baseUrl}/v3/flatcontainer/${lid}/${version}/${lid}.${version}.nupkg`, { method: 'HEAD' });
      expect(res.status, `${id} ${version}`).toBe(200);
    }
  });
});
