/**
 * The real `dotnet` CLI (SDK 10) against a real Pawket server: push, duplicate and key handling, restore from this
 * feed alone, unlist, and what a consumer then gets. One server and one set of packed packages serve every step, so
 * the steps run in order and build on each other.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNuGetSandbox,
  describeRun,
  hasDotnet,
  requireClients,
  run,
  writePawketOnlyConfig,
  type NuGetSandbox,
  type RunResult,
} from './support/dotnet.js';
import { CORE_ID, WIDGETS_ID, packTestPackages, type TestPackages } from './support/packages.js';
import { startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('dotnet CLI end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

const STEP_TIMEOUT = 240_000;

describe.skipIf(clients.skip)('dotnet CLI against a real Pawket server', () => {
  let work: string;
  let server: PawketServer | undefined;
  let pkgs: TestPackages;
  /** NuGet caches of the consuming side; packing has its own. */
  let sandbox: NuGetSandbox;
  let consumerDir: string;
  let configFile: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-dotnet-'));
    const packSandbox = await createNuGetSandbox(join(work, 'nuget-pack'));
    pkgs = await packTestPackages(work, packSandbox.env);
    server = await startPawket({ env: { PAWKET_API_KEY: 'key1,key2' } });
    sandbox = await createNuGetSandbox(join(work, 'nuget-consume'));
    consumerDir = join(pkgs.projectsDir, 'Consumer');
    configFile = await writePawketOnlyConfig(consumerDir, server.feedUrl);
  });

  afterAll(async () => {
    await server?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  /** Runs dotnet in the consumer project, whose nuget.config has Pawket as its only source. */
  function dotnet(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
    return run('dotnet', args, { cwd: consumerDir, env: { ...sandbox.env, ...env }, timeoutMs: STEP_TIMEOUT - 10_000 });
  }

  /** A failure message with the command's output and the end of the server's log. */
  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- end of the Pawket log ---\n${server?.output().slice(-4000) ?? ''}`;
  }

  function push(nupkg: string, apiKey: string, extra: readonly string[] = []): Promise<RunResult> {
    return dotnet(
      ['nuget', 'push', nupkg, '--source', server!.feedUrl, '--api-key', apiKey, '--configfile', configFile,
        '--force-english-output', ...extra],
      // never let a key from the environment stand in for the one under test
      { NUGET_API_KEY: '' },
    );
  }

  /** The line in which the NuGet client reports a failed HTTP status. */
  function statusLine(r: RunResult, status: number): string {
    const line = r.output.split('\n').find((l) => l.includes(`status code does not indicate success: ${status}`));
    expect(line, `expected the client to report HTTP ${status}\n${explain(r)}`).toBeDefined();
    return line!;
  }

  /** Package versions the last restore of the consumer resolved, from obj/project.assets.json. */
  async function resolved(): Promise<Map<string, string>> {
    const assets = JSON.parse(await readFile(join(consumerDir, 'obj', 'project.assets.json'), 'utf8')) as {
      libraries: Record<string, { type: string }>;
    };
    const versions = new Map<string, string>();
    for (const [key, lib] of Object.entries(assets.libraries)) {
      if (lib.type !== 'package') continue;
      const slash = key.indexOf('/');
      versions.set(key.slice(0, slash), key.slice(slash + 1));
    }
    return versions;
  }

  /** The version a PackageReference in the consumer's project file names. */
  async function referencedVersion(id: string): Promise<string | undefined> {
    const csproj = await readFile(join(consumerDir, 'Consumer.csproj'), 'utf8');
    const m = new RegExp(`<PackageReference Include="${id.replace(/\./g, '\\.')}" Version="([^"]+)"`).exec(csproj);
    return m?.[1];
  }

  /** `dotnet nuget locals`: what a user runs so the next command asks the server again instead of a cache. */
  async function clearLocals(which: 'http-cache' | 'all'): Promise<void> {
    const r = await dotnet(['nuget', 'locals', which, '--clear']);
    expect(r.code, explain(r)).toBe(0);
  }

  it('pushes each package: 201, and the client says it was pushed', { timeout: STEP_TIMEOUT }, async () => {
    for (const [file, key] of [
      [pkgs.core100, 'key1'],
      [pkgs.core101, 'key1'],
      [pkgs.core110beta2, 'key2'],
      [pkgs.widgets, 'key2'],
    ] as const) {
      const r = await push(file, key);
      expect(r.code, explain(r)).toBe(0);
      expect(r.output, explain(r)).toMatch(/Created http:\/\/127\.0\.0\.1:\d+\//);
      expect(r.output, explain(r)).toContain('Your package was pushed.');
    }
  });

  it('refuses a second push of the same version with 409 and says why', { timeout: STEP_TIMEOUT }, async () => {
    const r = await push(pkgs.core100, 'key1');
    expect(r.code, explain(r)).not.toBe(0);
    // the reason the server gave, not only the status name
    expect(statusLine(r, 409)).toMatch(/409 \(.*already exists.*\)/i);
  });

  it('lets --skip-duplicate pass over an existing version', { timeout: STEP_TIMEOUT }, async () => {
    const r = await push(pkgs.core100, 'key1', ['--skip-duplicate']);
    expect(r.code, explain(r)).toBe(0);
    expect(r.output, explain(r)).toMatch(/already exists/i);
    expect(r.output, explain(r)).not.toContain('Your package was pushed.');
  });

  it('refuses a wrong or a missing API key with 401; without a key it says how to pass one', { timeout: STEP_TIMEOUT }, async () => {
    const wrong = await push(pkgs.core100, 'not-a-key');
    expect(wrong.code, explain(wrong)).not.toBe(0);
    expect(statusLine(wrong, 401)).toMatch(/api.?key/i);

    const missing = await dotnet(
      ['nuget', 'push', pkgs.core100, '--source', server!.feedUrl, '--configfile', configFile, '--force-english-output'],
      { NUGET_API_KEY: '' },
    );
    expect(missing.code, explain(missing)).not.toBe(0);
    expect(statusLine(missing, 401)).toMatch(/--api-key|X-NuGet-ApiKey/i);
  });

  it('restores a package and its dependency from this feed alone, and the code runs', { timeout: STEP_TIMEOUT }, async () => {
    const add = await dotnet(['add', 'package', WIDGETS_ID, '--version', '2.0.0-rc.1']);
    expect(add.code, explain(add)).toBe(0);
    expect(await referencedVersion(WIDGETS_ID)).toBe('2.0.0-rc.1');

    const assetsText = await readFile(join(consumerDir, 'obj', 'project.assets.json'), 'utf8');
    const assets = JSON.parse(assetsText) as {
      targets: Record<string, Record<string, { compile?: Record<string, unknown> }>>;
      project: { restore: { sources: Record<string, unknown> } };
    };
    // Pawket was the only source...
    expect(Object.keys(assets.project.restore.sources)).toEqual([server!.feedUrl]);
    // ...the SemVer 2.0.0 package came from it, with its dependency at the lowest version that satisfies >= 1.0.0
    const versions = await resolved();
    expect(versions.get(WIDGETS_ID)).toBe('2.0.0-rc.1');
    expect(versions.get(CORE_ID)).toBe('1.0.0');
    // and the multi-targeted package gave this net10.0 project its net10.0 assembly
    const net10 = assets.targets['net10.0'] ?? {};
    expect(Object.keys(net10[`${CORE_ID}/1.0.0`]?.compile ?? {})).toEqual([`lib/net10.0/${CORE_ID}.dll`]);

    // a plain `dotnet restore` with empty caches downloads everything again from Pawket
    await clearLocals('all');
    await rm(join(consumerDir, 'obj'), { recursive: true, force: true });
    const restore = await dotnet(['restore']);
    expect(restore.code, explain(restore)).toBe(0);
    expect(await resolved()).toEqual(versions);

    const app = await dotnet(['run', '--no-restore']);
    expect(app.code, explain(app)).toBe(0);
    expect(app.stdout).toContain('Widget says: Hello widgets from Pawket.E2e.Core (net10.0)');
    expect(app.stdout).toContain('Hello consumer from Pawket.E2e.Core (net10.0)');
  });

  it('adds the newest stable version when none is given, the newest prerelease with --prerelease', { timeout: STEP_TIMEOUT }, async () => {
    const stable = await dotnet(['add', 'package', CORE_ID]);
    expect(stable.code, explain(stable)).toBe(0);
    expect(await referencedVersion(CORE_ID)).toBe('1.0.1');
    expect((await resolved()).get(CORE_ID)).toBe('1.0.1');

    const pre = await dotnet(['add', 'package', CORE_ID, '--prerelease']);
    expect(pre.code, explain(pre)).toBe(0);
    expect(await referencedVersion(CORE_ID)).toBe('1.1.0-beta.2');
    expect((await resolved()).get(CORE_ID)).toBe('1.1.0-beta.2');
  });

  it('unlists with dotnet nuget delete; a new reference then gets the newest listed version', { timeout: STEP_TIMEOUT }, async () => {
    const denied = await dotnet(
      ['nuget', 'delete', CORE_ID, '1.0.1', '--source', server!.feedUrl, '--api-key', 'not-a-key', '--non-interactive',
        '--force-english-output'],
    );
    expect(denied.code, explain(denied)).not.toBe(0);
    statusLine(denied, 401);

    const del = await dotnet(
      ['nuget', 'delete', CORE_ID, '1.0.1', '--source', server!.feedUrl, '--api-key', 'key1', '--non-interactive',
        '--force-english-output'],
    );
    expect(del.code, explain(del)).toBe(0);
    expect(del.output, explain(del)).toMatch(/was deleted successfully/i);

    await clearLocals('http-cache');
    const add = await dotnet(['add', 'package', CORE_ID]);
    expect(add.code, explain(add)).toBe(0);
    expect(await referencedVersion(CORE_ID)).toBe('1.0.0');
    expect((await resolved()).get(CORE_ID)).toBe('1.0.0');
  });

  it('still restores an unlisted version that a project pins', { timeout: STEP_TIMEOUT }, async () => {
    await clearLocals('all');
    const add = await dotnet(['add', 'package', CORE_ID, '--version', '1.0.1']);
    expect(add.code, explain(add)).toBe(0);
    expect(await referencedVersion(CORE_ID)).toBe('1.0.1');
    expect((await resolved()).get(CORE_ID)).toBe('1.0.1');
    // it really came from the server into the empty packages folder
    const nuspec = await readFile(join(sandbox.packagesDir, CORE_ID.toLowerCase(), '1.0.1', `${CORE_ID.toLowerCase()}.nuspec`), 'utf8');
    expect(nuspec).toContain('<version>1.0.1</version>');
  });
});
