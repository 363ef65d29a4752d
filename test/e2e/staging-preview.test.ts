/**
 * A staging group's preview feed with the real `dotnet` CLI: CI stages a release set (an app and the new version of
 * the library it needs) into a group through the staging API, then `dotnet add package` and `dotnet restore` against
 * the group's preview URL, with the owner's key in nuget.config, get exactly the staged bytes beside a published
 * package. Without a key, and with another owner's key, the restore fails. Once the group is promoted its preview is
 * gone, and the feed itself serves the same bytes.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBackendEnv } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import {
  createNuGetSandbox,
  describeRun,
  hasDotnet,
  requireClients,
  run,
  runOk,
  writePawketOnlyConfig,
  xmlAttr,
  type NuGetSandbox,
  type RunResult,
} from './support/dotnet.js';
import { copyFixtureProjects } from './support/packages.js';
import { repoRoot } from './support/paths.js';
import { pawketMain, startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('staging preview end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

const STEP_TIMEOUT = 240_000;
const ADMIN_KEY = 'staging-preview-bootstrap-admin-key';
const LIB = 'Preview.E2e.Lib';
const APP = 'Preview.E2e.App';
const UTIL = 'Preview.E2e.Util';
const GROUP = 'Release-2026.12';

describe.skipIf(clients.skip)("a staging group's preview feed with the dotnet CLI", () => {
  let work: string;
  let server: PawketServer | undefined;
  let sandbox: NuGetSandbox;
  let consumerDir: string;
  let env: Record<string, string>;
  let ownerKey: string;
  let otherKey: string;
  let pushKey: string;
  let previewUrl: string;
  /** The staged files, as CI uploaded them. */
  const stagedBytes = new Map<string, Buffer>();

  function pawket(args: readonly string[]): Promise<RunResult> {
    return run(process.execPath, [pawketMain, ...args, '--data-dir', server!.dataDir], { cwd: repoRoot, env, timeoutMs: 60_000 });
  }

  async function createKey(name: string, owner: string, scopes: string): Promise<string> {
    const r = await pawket(['keys', 'create', '--name', name, '--owner', owner, '--scopes', scopes, '--json']);
    expect(r.code, describeRun(r)).toBe(0);
    return (JSON.parse(r.stdout) as { key: string }).key;
  }

  /** Stages a package into the group as a CI script would: the staging API's multipart PUT with a `groupId` part. */
  async function stage(staging: string, bytes: Buffer, id: string): Promise<void> {
    const form = new FormData();
    form.append('package', new Blob([new Uint8Array(bytes)]), `${id}.nupkg`);
    form.append('groupId', GROUP);
    const res = await fetch(`${staging}/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': ownerKey } });
    expect(res.status, await res.clone().text()).toBe(201);
    stagedBytes.set(id.toLowerCase(), bytes);
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-preview-'));
    // Promotion by API, so the test can promote the group as a release manager's script would.
    env = { ...(await freshBackendEnv()), PAWKET_API_KEY: ADMIN_KEY, PAWKET_STAGING_API_PROMOTION: 'true' };
    server = await startPawket({ env });
    sandbox = await createNuGetSandbox(join(work, 'nuget'));
    consumerDir = join(await copyFixtureProjects(work), 'Consumer');
    ownerKey = await createKey('ci-stage', 'team-a', 'stage');
    otherKey = await createKey('other-team', 'team-b', 'push-new,push,stage');
    pushKey = await createKey('release-push', 'team-a', 'push-new,push');

    // Published: Util 1.0.0 and Lib 1.0.0. Staged in team-a's group: Lib 2.0.0, and App 1.0.0, which needs Lib 2.0.0.
    for (const [id, version, key] of [[UTIL, '1.0.0', ADMIN_KEY], [LIB, '1.0.0', pushKey]] as const) {
      const res = await fetch(`${server.baseUrl}/api/v2/package`, {
        method: 'PUT',
        body: new Uint8Array(await buildNupkg({ id, version })),
        headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': key },
      });
      expect(res.status, await res.text()).toBe(201);
    }
    const index = (await (await fetch(server.feedUrl)).json()) as { resources: Array<{ '@id': string; '@type': string }> };
    const staging = index.resources.find((r) => r['@type'] === 'PackageStaging/1.0.0')!['@id'];
    await stage(staging, await buildNupkg({ id: LIB, version: '2.0.0', description: 'the staged build' }), LIB);
    await stage(staging, await buildNupkg({ id: APP, version: '1.0.0', dependencies: { '': [[LIB, '2.0.0']] } }), APP);
    previewUrl = `${staging}/preview/team-a/${GROUP}/index.json`;
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  function dotnet(args: readonly string[]): Promise<RunResult> {
    return run('dotnet', args, { cwd: consumerDir, env: { ...sandbox.env, NUGET_API_KEY: '' }, timeoutMs: STEP_TIMEOUT - 10_000 });
  }

  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- end of the Pawket log ---\n${server?.output().slice(-4000) ?? ''}`;
  }

  /** nuget.config with the preview as the only source, with or without a key as the source's password. */
  async function writeConfig(password: string | null): Promise<void> {
    const file = await writePawketOnlyConfig(consumerDir, previewUrl, { sourceName: 'Preview' });
    if (password === null) return;
    const credentials = `  <packageSourceCredentials>
    <Preview>
      <add key="Username" value="ci" />
      <add key="ClearTextPassword" value="${xmlAttr(password)}" />
    </Preview>
  </packageSourceCredentials>
</configuration>`;
    await writeFile(file, (await readFile(file, 'utf8')).replace('</configuration>', credentials));
  }

  /** Nothing from an earlier step: NuGet's HTTP cache keeps answers for 30 minutes whatever the server says. */
  async function clearCaches(): Promise<void> {
    await runOk('dotnet', ['nuget', 'locals', 'all', '--clear'], { cwd: consumerDir, env: sandbox.env });
    await rm(join(consumerDir, 'obj'), { recursive: true, force: true });
  }

  async function resolved(): Promise<Record<string, unknown>> {
    const assets = JSON.parse(await readFile(join(consumerDir, 'obj', 'project.assets.json'), 'utf8')) as { libraries: Record<string, unknown> };
    return assets.libraries;
  }

  it("adds and restores the staged release set with the owner's key, getting the staged bytes", { timeout: STEP_TIMEOUT }, async () => {
    await writeConfig(ownerKey);
    await clearCaches();
    const add = await dotnet(['add', 'package', APP]);
    expect(add.code, explain(add)).toBe(0);
    const addUtil = await dotnet(['add', 'package', UTIL, '--version', '1.0.0']);
    expect(addUtil.code, explain(addUtil)).toBe(0);
    expect(await readFile(join(consumerDir, 'Consumer.csproj'), 'utf8')).toContain(`Include="${APP}" Version="1.0.0"`);

    await clearCaches();
    const r = await dotnet(['restore']);
    expect(r.code, explain(r)).toBe(0);
    expect(Object.keys(await resolved()).sort()).toEqual([`${APP}/1.0.0`, `${LIB}/2.0.0`, `${UTIL}/1.0.0`]);
    for (const [lower, version] of [[APP.toLowerCase(), '1.0.0'], [LIB.toLowerCase(), '2.0.0']] as const) {
      const restored = await readFile(join(sandbox.packagesDir, lower, version, `${lower}.${version}.nupkg`));
      expect(restored.equals(stagedBytes.get(lower)!), `${lower} ${version}`).toBe(true);
    }
    // The feed itself still has only the published version.
    const flat = (await (await fetch(`${server!.baseUrl}/v3/flatcontainer/${LIB.toLowerCase()}/index.json`)).json()) as { versions: string[] };
    expect(flat.versions).toEqual(['1.0.0']);
  });

  it('fails the restore without a key, showing the 401', { timeout: STEP_TIMEOUT }, async () => {
    await writeConfig(null);
    await clearCaches();
    const r = await dotnet(['restore']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/401 \(A staging group's preview feed needs an API key/);
  });

  it("fails the restore with another owner's key: the group does not exist for it", { timeout: STEP_TIMEOUT }, async () => {
    await writeConfig(otherKey);
    await clearCaches();
    const r = await dotnet(['restore']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/404 \(There is no staging group/);
  });

  it('answers 404 once the group is promoted; the feed then restores the same bytes', { timeout: STEP_TIMEOUT }, async () => {
    const staging = previewUrl.slice(0, previewUrl.indexOf('/preview/'));
    const promoted = await fetch(`${staging}/groups/${GROUP}/promote`, { method: 'POST', headers: { 'x-nuget-apikey': pushKey } });
    expect(promoted.status, await promoted.clone().text()).toBe(200);
    const index = await fetch(previewUrl, { headers: { 'x-nuget-apikey': ownerKey } });
    expect(index.status).toBe(404);
    await writeConfig(ownerKey);
    await clearCaches();
    const r = await dotnet(['restore']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/404 \(There is no staging group/);

    await writePawketOnlyConfig(consumerDir, server!.feedUrl);
    await clearCaches();
    const fromFeed = await dotnet(['restore']);
    expect(fromFeed.code, explain(fromFeed)).toBe(0);
    expect(Object.keys(await resolved()).sort()).toEqual([`${APP}/1.0.0`, `${LIB}/2.0.0`, `${UTIL}/1.0.0`]);
    for (const [lower, version] of [[APP.toLowerCase(), '1.0.0'], [LIB.toLowerCase(), '2.0.0']] as const) {
      const restored = await readFile(join(sandbox.packagesDir, lower, version, `${lower}.${version}.nupkg`));
      expect(restored.equals(stagedBytes.get(lower)!), `${lower} ${version}`).toBe(true);
    }
  });
});
