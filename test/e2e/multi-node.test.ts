import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../support/backend.js';
import { nginxBinary, type TempNginx } from '../support/nginx.js';
import { buildNupkg } from '../support/nupkg.js';
import { startCluster, type PawketCluster } from './support/cluster.js';
import { createNuGetSandbox, hasDotnet, requireClients, runOk, writePawketOnlyConfig } from './support/dotnet.js';
import type { PawketServer } from './support/server.js';

const KEY = 'multi-node-key';
// Nodes share a database and a bucket: this suite belongs to the PostgreSQL + S3 pass of `npm test`.
const onSharedBackend = backend === 'postgres-s3';
const missing = [...(nginxBinary ? [] : ['nginx']), ...(hasDotnet ? [] : ['dotnet'])];
const { skip } = onSharedBackend ? requireClients('multi-node (3 Pawket nodes on PostgreSQL + S3 behind nginx)', missing) : { skip: true };

const push = (base: string, body: Buffer) =>
  fetch(`${base}/api/v2/package`, { method: 'PUT', body: new Uint8Array(body), headers: { 'x-nuget-apikey': KEY } }).then(
    (r) => r.status,
    () => 0,
  );
const download = async (base: string, id: string, v: string) => {
  const lower = id.toLowerCase();
  const res = await fetch(`${base}/v3/flatcontainer/${lower}/${v}/${lower}.${v}.nupkg`);
  return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : null;
};

describe.skipIf(skip)('several stateless nodes behind a load balancer', () => {
  let cluster: PawketCluster | undefined;
  let nodes: readonly PawketServer[] = [];
  let lb: TempNginx;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-multi-'));
    // One database and one bucket prefix, shared by every node.
    cluster = await startCluster(3, { PAWKET_API_KEY: KEY });
    ({ nodes, lb } = cluster);
  });
  afterAll(async () => {
    await cluster?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('lets exactly one of simultaneous pushes of one id+version through different nodes win', async () => {
    const variants = await Promise.all(
      Array.from({ length: 9 }, (_, i) => buildNupkg({ id: 'Contoso.Contended', version: '1.0.0', description: `variant ${i}` })),
    );
    const statuses = await Promise.all(variants.map((v, i) => push(nodes[i % 3]!.baseUrl, v)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(8);
    const winner = variants[statuses.indexOf(201)]!;
    for (const node of nodes) expect((await download(node.baseUrl, 'Contoso.Contended', '1.0.0'))?.equals(winner)).toBe(true);
  });

  it('shows a push through one node on another within a second, even where that node had cached the id', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    expect(await push(a.baseUrl, await buildNupkg({ id: 'Contoso.Visible', version: '1.0.0' }))).toBe(201);
    const listed = async () =>
      ((await (await fetch(`${b.baseUrl}/v3/flatcontainer/contoso.visible/index.json`)).json()) as { versions: string[] }).versions;
    expect(await listed()).toEqual(['1.0.0']);
    expect(await push(a.baseUrl, await buildNupkg({ id: 'Contoso.Visible', version: '1.1.0' }))).toBe(201);
    const pushedAt = Date.now();
    while (!(await listed()).includes('1.1.0')) {
      expect(Date.now() - pushedAt).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('serves a feed created on one node from another within seconds, with a package pushed to it there', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    const created = await fetch(`${a.baseUrl}/api/admin/feeds`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'team' }),
    });
    expect(created.status, await created.text()).toBe(201);
    // B learns of the feed from the change feed; until then the name is unknown there (404)
    const createdAt = Date.now();
    let index: Response;
    while ((index = await fetch(`${b.baseUrl}/f/team/v3/index.json`)).status !== 200) {
      expect(index.status).toBe(404);
      expect(Date.now() - createdAt, 'node B should serve the new feed within 3 s').toBeLessThan(3_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const { resources } = (await index.json()) as { resources: Array<{ '@id': string; '@type': string }> };
    const flat = resources.find((r) => r['@type'] === 'PackageBaseAddress/3.0.0')?.['@id'];
    expect(flat).toBe(`${b.baseUrl}/f/team/v3/flatcontainer/`);

    const pkg = await buildNupkg({ id: 'Contoso.TeamOnly', version: '1.0.0' });
    const pushed = await fetch(`${a.baseUrl}/f/team/api/v2/package`, { method: 'PUT', body: new Uint8Array(pkg), headers: { 'x-nuget-apikey': KEY } });
    expect(pushed.status, await pushed.text()).toBe(201);
    const fromB = await fetch(`${flat}contoso.teamonly/1.0.0/contoso.teamonly.1.0.0.nupkg`);
    expect(fromB.status).toBe(200);
    expect(Buffer.from(await fromB.arrayBuffer()).equals(pkg)).toBe(true);
    // the feed's packages are its own: B's default feed does not have it
    expect(await download(b.baseUrl, 'Contoso.TeamOnly', '1.0.0')).toBeNull();
  });

  it('restores with dotnet through the load balancer every package pushed across the nodes', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `Contoso.Spread${i}`);
    for (const id of ids) expect(await push(lb.url, await buildNupkg({ id, version: '1.2.3' }))).toBe(201);
    const sandbox = await createNuGetSandbox(join(work, 'nuget'));
    const project = join(work, 'consumer');
    await writePawketOnlyConfig(project, `${lb.url}/v3/index.json`);
    const refs = ids.map((id) => `<PackageReference Include="${id}" Version="1.2.3" />`).join('\n    ');
    await writeFile(
      join(project, 'Consumer.csproj'),
      `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><NuGetAudit>false</NuGetAudit></PropertyGroup>
  <ItemGroup>
    ${refs}
  </ItemGroup>
</Project>`,
    );
    await runOk('dotnet', ['restore', project], { env: sandbox.env, timeoutMs: 300_000 });
    const assets = JSON.parse(await readFile(join(project, 'obj', 'project.assets.json'), 'utf8'));
    for (const id of ids) expect(Object.keys(assets.libraries)).toContain(`${id}/1.2.3`);
  });

  it('loses no pushed package when a node is killed during a burst, and the others keep serving', async () => {
    const packages = await Promise.all(
      Array.from({ length: 60 }, (_, i) => buildNupkg({ id: `Contoso.Burst${i % 12}`, version: `1.0.${Math.floor(i / 12)}` })),
    );
    const results: number[] = new Array(packages.length).fill(-1);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < packages.length; i = next++) {
        if (i === 20) nodes[2]!.kill();
        results[i] = await push(lb.url, packages[i]!);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    // A push cut off by the crash failed visibly (502 or a reset); the client retries it, as dotnet users would.
    for (let i = 0; i < packages.length; i++) {
      if (results[i] !== 201) results[i] = await push(lb.url, packages[i]!);
      // 409 on retry means the first attempt had committed before the node died.
      expect([201, 409]).toContain(results[i]);
    }
    for (let i = 0; i < packages.length; i++) {
      const bytes = await download(lb.url, `Contoso.Burst${i % 12}`, `1.0.${Math.floor(i / 12)}`);
      expect(bytes?.equals(packages[i]!)).toBe(true);
    }
    const index = await fetch(`${lb.url}/v3/registration/contoso.burst0/index.json`);
    expect(index.status).toBe(200);
  });
});
