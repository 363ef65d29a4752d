/**
 * A private feed with the real `dotnet` CLI: keys made with `pawket keys create` while the server runs, a push with a
 * push key, a push with a read-only key refused with 403, a restore without credentials failing with the 401 shown,
 * and the same restore with the key in nuget.config's packageSourceCredentials succeeding. Then revocation, owners,
 * prefixes and the audit log through the command line, seen by the running server.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBackendEnv } from '../support/backend.js';
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
import { CORE_ID, packTestPackages, type TestPackages } from './support/packages.js';
import { repoRoot } from './support/paths.js';
import { pawketMain, startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('private feed end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

const STEP_TIMEOUT = 240_000;
const ADMIN_KEY = 'private-feed-bootstrap-admin-key';

describe.skipIf(clients.skip)('a private feed with the dotnet CLI', () => {
  let work: string;
  let server: PawketServer | undefined;
  let pkgs: TestPackages;
  let sandbox: NuGetSandbox;
  let consumerDir: string;
  /** Server settings (the database the CLI must share with the server). */
  let env: Record<string, string>;
  let pushKey: string;
  let pushKeyId: string;
  let readKey: string;
  let readKeyId: string;

  /** `pawket <args>` on the server's database, as an admin would run it beside the server. */
  function pawket(args: readonly string[]): Promise<RunResult> {
    return run(process.execPath, [pawketMain, ...args, '--data-dir', server!.dataDir], { cwd: repoRoot, env, timeoutMs: 60_000 });
  }

  async function createKey(name: string, scopes: string): Promise<{ key: string; keyId: string }> {
    const r = await pawket(['keys', 'create', '--name', name, '--owner', 'team-a', '--scopes', scopes, '--json']);
    expect(r.code, describeRun(r)).toBe(0);
    return JSON.parse(r.stdout) as { key: string; keyId: string };
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-private-'));
    const packSandbox = await createNuGetSandbox(join(work, 'nuget-pack'));
    pkgs = await packTestPackages(work, packSandbox.env, { coreOnly: true });
    env = { ...(await freshBackendEnv()), PAWKET_API_KEY: ADMIN_KEY, PAWKET_PRIVATE: 'true' };
    server = await startPawket({ env });
    sandbox = await createNuGetSandbox(join(work, 'nuget-consume'));
    consumerDir = join(pkgs.projectsDir, 'Consumer');
    // Restore only (the program needs Widgets to build): one reference to Core 1.0.0.
    const csproj = join(consumerDir, 'Consumer.csproj');
    const text = await readFile(csproj, 'utf8');
    await writeFile(csproj, text.replace('</Project>', `  <ItemGroup><PackageReference Include="${CORE_ID}" Version="1.0.0" /></ItemGroup>\n</Project>`));
    ({ key: pushKey, keyId: pushKeyId } = await createKey('ci-push', 'push-new,unlist'));
    ({ key: readKey, keyId: readKeyId } = await createKey('restore-only', 'read'));
  }, 600_000);

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

  /** nuget.config with Pawket as the only source, with or without the key as the source's password. */
  async function writeConfig(password: string | null): Promise<string> {
    const file = await writePawketOnlyConfig(consumerDir, server!.feedUrl);
    if (password !== null) {
      const credentials = `  <packageSourceCredentials>
    <Pawket>
      <add key="Username" value="anyone" />
      <add key="ClearTextPassword" value="${xmlAttr(password)}" />
    </Pawket>
  </packageSourceCredentials>
</configuration>`;
      await writeFile(file, (await readFile(file, 'utf8')).replace('</configuration>', credentials));
    }
    return file;
  }

  function push(nupkg: string, apiKey: string, configFile: string): Promise<RunResult> {
    return dotnet(['nuget', 'push', nupkg, '--source', server!.feedUrl, '--api-key', apiKey, '--configfile', configFile, '--force-english-output']);
  }

  async function clearCaches(): Promise<void> {
    await runOk('dotnet', ['nuget', 'locals', 'all', '--clear'], { cwd: consumerDir, env: sandbox.env });
    await rm(join(consumerDir, 'obj'), { recursive: true, force: true });
  }

  it('pushes with a key made by `pawket keys create`, and refuses a read-only key with 403', { timeout: STEP_TIMEOUT }, async () => {
    const config = await writeConfig(null);
    const refused = await push(pkgs.core100, readKey, config);
    expect(refused.code, explain(refused)).not.toBe(0);
    const line = refused.output.split('\n').find((l) => l.includes('status code does not indicate success: 403'));
    expect(line, explain(refused)).toBeDefined();
    expect(line).toMatch(/may not push/);

    const pushed = await push(pkgs.core100, pushKey, config);
    expect(pushed.code, explain(pushed)).toBe(0);
    expect(pushed.output, explain(pushed)).toContain('Your package was pushed.');
  });

  it('fails a restore without credentials, showing the 401', { timeout: STEP_TIMEOUT }, async () => {
    await writeConfig(null);
    await clearCaches();
    const r = await dotnet(['restore']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/401 \(This feed is private/);
  });

  it('restores with the read-only key as the password in nuget.config', { timeout: STEP_TIMEOUT }, async () => {
    await writeConfig(readKey);
    await clearCaches();
    const r = await dotnet(['restore']);
    expect(r.code, explain(r)).toBe(0);
    const assets = JSON.parse(await readFile(join(consumerDir, 'obj', 'project.assets.json'), 'utf8')) as { libraries: Record<string, unknown> };
    expect(Object.keys(assets.libraries)).toContain(`${CORE_ID}/1.0.0`);
    const nuspec = await readFile(join(sandbox.packagesDir, CORE_ID.toLowerCase(), '1.0.0', `${CORE_ID.toLowerCase()}.nuspec`), 'utf8');
    expect(nuspec).toContain('<version>1.0.0</version>');
  });

  it('shows keys without their secrets, owners, prefixes and the audit log on the command line', { timeout: STEP_TIMEOUT }, async () => {
    const list = await pawket(['keys', 'list']);
    expect(list.code, describeRun(list)).toBe(0);
    expect(list.stdout).toContain(pushKeyId);
    expect(list.stdout).toContain('restore-only');
    expect(list.stdout).not.toContain(pushKey);
    expect(list.stdout).not.toContain(readKey);

    const owners = await pawket(['owners', 'list', CORE_ID]);
    expect(owners.stdout.trim()).toBe('team-a');

    const reserve = await pawket(['prefix', 'reserve', 'Pawket.E2e.*', 'team-a']);
    expect(reserve.code, describeRun(reserve)).toBe(0);
    // the running server learns of the reservation through the change feed: Core now shows as verified
    const basic = { authorization: `Basic ${Buffer.from(`x:${readKey}`).toString('base64')}` };
    await expect
      .poll(async () => {
        const res = await fetch(`${server!.baseUrl}/v3/search?q=${CORE_ID}`, { headers: basic });
        const body = (await res.json()) as { data: Array<{ id: string; verified: boolean }> };
        return body.data.find((d) => d.id === CORE_ID)?.verified;
      }, { timeout: 10_000 })
      .toBe(true);

    const audit = await pawket(['audit', '--id', CORE_ID]);
    expect(audit.code, describeRun(audit)).toBe(0);
    expect(audit.stdout).toMatch(new RegExp(`push +${CORE_ID.replace(/\./g, '\\.')} 1\\.0\\.0 +127\\.0\\.0\\.1`));
    expect(audit.stdout).toContain(`key ci-push (${pushKeyId})`);
    // the read-only key's push was refused before its package was read: the refusal names the key, not the id
    const denied = await pawket(['audit', '--action', 'push.denied']);
    expect(denied.stdout).toContain(`key restore-only (${readKeyId})`);
    expect(denied.stdout).toMatch(/may not push packages/);
    const json = await pawket(['audit', '--action', 'prefix.reserve', '--json']);
    expect(JSON.parse(json.stdout.trim().split('\n')[0]!)).toMatchObject({ action: 'prefix.reserve', target: 'pawket.e2e.*', detail: 'team-a' });
  });

  it('stops a revoked key at once on the running server: the restore fails again', { timeout: STEP_TIMEOUT }, async () => {
    const revoke = await pawket(['keys', 'revoke', readKeyId]);
    expect(revoke.code, describeRun(revoke)).toBe(0);
    // other processes' revocations reach the server within its 5 s key cache
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    await writeConfig(readKey);
    await clearCaches();
    const r = await dotnet(['restore']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.output, explain(r)).toMatch(/401 \(This feed is private and the API key .* was revoked/);
  });
});
