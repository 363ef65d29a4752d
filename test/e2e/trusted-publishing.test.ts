/**
 * Trusted publishing end to end: a real `pawket serve` process, a real OIDC issuer on loopback, and the CI side done
 * the way CI does it. GitHub Actions: `@actions/core`'s `getIDToken(audience)` against the Actions token request
 * endpoint, then the exchange exactly as the `NuGet/login` action posts it. GitLab CI: the token from an `id_tokens:`
 * variable, exchanged with curl. Either way `dotnet nuget push` pushes with the returned key and `dotnet restore` gets
 * the package back; no long-lived key is ever given to the CI side.
 */
import * as core from '@actions/core';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBackendEnv } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { OidcIssuer } from '../support/oidc-issuer.js';
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
import { pawketMain, startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('trusted publishing end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);
const STEP_TIMEOUT = 240_000;
/** Admin key of the server: only the test's own checks (the audit log) use it, never the CI side. */
const ADMIN_KEY = 'trusted-publishing-admin-key';

describe.skipIf(clients.skip)('trusted publishing with real CI-side clients', () => {
  let work: string;
  let server: PawketServer;
  let issuer: OidcIssuer;
  let sandbox: NuGetSandbox;
  let backendEnv: Record<string, string>;
  /** The CI job's nuget.config: Pawket only (plain http on loopback must be allowed explicitly). */
  let publisherConfig: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-trust-'));
    issuer = await new OidcIssuer().start();
    backendEnv = await freshBackendEnv();
    server = await startPawket({ env: { ...backendEnv, PAWKET_API_KEY: ADMIN_KEY } });
    sandbox = await createNuGetSandbox(join(work, 'nuget'));
    publisherConfig = await writePawketOnlyConfig(join(work, 'publisher'), server.feedUrl);
    // The owner the policies' keys act for.
    await pawket('orgs', 'create', 'contoso');
  });

  afterAll(async () => {
    await server?.stop();
    await issuer?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  /** The built `pawket` command line on the server's database, as an admin runs it. */
  async function pawket(...args: string[]): Promise<RunResult> {
    const r = await run(process.execPath, [pawketMain, ...args, '--data-dir', server.dataDir], { env: backendEnv, timeoutMs: 60_000 });
    expect(r.code, describeRun(r)).toBe(0);
    return r;
  }

  /** `pawket trust create` (the server reads policies at each exchange). */
  async function createPolicy(...args: string[]): Promise<void> {
    const r = await pawket('trust', 'create', ...args);
    expect(r.stdout, describeRun(r)).toMatch(/Created trust policy \d+/);
  }

  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- end of the Pawket log ---\n${server.output().slice(-4000)}`;
  }

  /** `dotnet nuget push` as the CI job runs it, with the key the exchange returned (never one from the environment). */
  function dotnetPush(file: string, apiKey: string): Promise<RunResult> {
    const args = ['nuget', 'push', file, '--source', server.feedUrl, '--api-key', apiKey, '--configfile', publisherConfig, '--force-english-output'];
    return run('dotnet', args, { cwd: work, env: { ...sandbox.env, NUGET_API_KEY: '' }, timeoutMs: STEP_TIMEOUT - 10_000 });
  }

  /** Pushes a package of this id with the key the exchange returned: the client says it was pushed. */
  async function push(id: string, apiKey: string): Promise<void> {
    const file = join(work, `${id}.1.0.0.nupkg`);
    await writeFile(file, await buildNupkg({ id, version: '1.0.0', description: `${id}, published from CI` }));
    const r = await dotnetPush(file, apiKey);
    expect(r.code, explain(r)).toBe(0);
    expect(r.output, explain(r)).toContain('Your package was pushed.');
  }

  /** `dotnet restore` of a project that references the package, with Pawket as its only source. */
  async function restore(id: string): Promise<void> {
    const project = join(work, `consumer-${id}`);
    await writePawketOnlyConfig(project, server.feedUrl);
    await writeFile(
      join(project, 'Consumer.csproj'),
      `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><NuGetAudit>false</NuGetAudit></PropertyGroup>
  <ItemGroup><PackageReference Include="${id}" Version="1.0.0" /></ItemGroup>
</Project>`,
    );
    const r = await run('dotnet', ['restore', project], { env: sandbox.env, timeoutMs: STEP_TIMEOUT - 10_000 });
    expect(r.code, explain(r)).toBe(0);
    const assets = JSON.parse(await readFile(join(project, 'obj', 'project.assets.json'), 'utf8')) as { libraries: Record<string, unknown> };
    expect(Object.keys(assets.libraries)).toContain(`${id}/1.0.0`);
  }

  /** The newest `trust.exchange` entry of the audit log. */
  async function lastExchange(): Promise<{ actor: string; owner: string; detail: string }> {
    const res = await fetch(`${server.baseUrl}/api/admin/audit?action=trust.exchange&limit=1`, { headers: { 'x-nuget-apikey': ADMIN_KEY } });
    expect(res.status).toBe(200);
    const { entries } = (await res.json()) as { entries: Array<{ actor: string; owner: string; detail: string }> };
    expect(entries).toHaveLength(1);
    return entries[0]!;
  }

  it('GitHub Actions: NuGet/login exchanges the workflow token for a key that pushes; the package restores', { timeout: STEP_TIMEOUT * 2 }, async () => {
    // The feed's URL is the audience, as the workflow passes it to NuGet/login (`audience:`). The server has no baseUrl
    // setting (its port is chosen at start), so the policy names it.
    const feed = server.baseUrl;
    await createPolicy('--name', 'widgets release', '--owner', 'contoso', '--github', 'contoso/widgets', '--workflow', 'release.yml',
      '--issuer', issuer.url, '--audience', feed, '--patterns', 'Contoso.Widgets*');
    const ref = 'contoso/widgets/.github/workflows/release.yml@refs/tags/v1.0.0';
    issuer.actionsClaims = {
      repository: 'contoso/widgets',
      repository_owner: 'contoso',
      repository_id: '81000001',
      repository_owner_id: '9100001',
      workflow_ref: ref,
      job_workflow_ref: ref,
      ref: 'refs/tags/v1.0.0',
      run_id: '123456789',
      run_attempt: '1',
      sub: 'repo:contoso/widgets:ref:refs/tags/v1.0.0',
    };

    // What the runner gives a job with `permissions: id-token: write`, and what NuGet/login then does with it.
    const saved = { ...process.env };
    Object.assign(process.env, issuer.actionsEnv());
    let oidcToken: string;
    try {
      oidcToken = await core.getIDToken(feed);
    } finally {
      for (const name of Object.keys(issuer.actionsEnv())) if (saved[name] === undefined) delete process.env[name];
    }
    const tokenServiceUrl = `${feed}/api/v2/token`;
    const response = await fetch(tokenServiceUrl, {
      method: 'POST',
      body: JSON.stringify({ username: 'contoso', tokenType: 'ApiKey' }),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${oidcToken}`, 'User-Agent': 'nuget/login-action' },
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const data = JSON.parse(text) as { apiKey?: string };
    expect(data.apiKey, text).toBeTruthy();

    await push('Contoso.Widgets', data.apiKey!);
    await restore('Contoso.Widgets');

    const audited = await lastExchange();
    expect(audited.owner).toBe('contoso');
    expect(audited.detail).toContain(issuer.url);
    expect(audited.detail).toContain('contoso/widgets');
    expect(audited.detail).toContain(ref);
    expect(audited.detail).toContain('run 123456789');

    // The workflow's token worked once; a second exchange of it is refused with NuGet/login's kind of answer.
    const again = await fetch(tokenServiceUrl, {
      method: 'POST',
      body: JSON.stringify({ username: 'contoso', tokenType: 'ApiKey' }),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${oidcToken}` },
    });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: string }).error).toMatch(/exchanged already/);
  });

  it('GitLab CI: the id_tokens token, exchanged with curl, gives a key that pushes; the package restores', { timeout: STEP_TIMEOUT * 2 }, async () => {
    const feed = server.baseUrl;
    await createPolicy('--name', 'gadgets release', '--owner', 'contoso', '--gitlab', 'contoso/gadgets', '--ref', 'main',
      '--issuer', issuer.url, '--audience', feed, '--patterns', 'Contoso.Gadgets*');
    // GitLab puts the token of an `id_tokens:` entry into the job's environment under that entry's name.
    const jobEnv = {
      NUGET_ID_TOKEN: await issuer.token({
        audience: feed,
        claims: {
          project_path: 'contoso/gadgets',
          namespace_path: 'contoso',
          project_id: '4242',
          namespace_id: '77',
          ref: 'main',
          ref_type: 'branch',
          pipeline_id: '99001',
          pipeline_source: 'push',
          job_id: '5550001',
          ci_config_ref_uri: 'gitlab.example/contoso/gadgets//.gitlab-ci.yml@refs/heads/main',
          sub: 'project_path:contoso/gadgets:ref_type:branch:ref:main',
        },
      }),
      FEED: feed,
    };
    const exchanged = await run(
      'sh',
      [
        '-c',
        'curl --silent --show-error --fail-with-body -X POST "$FEED/api/v2/token" -H "Authorization: Bearer $NUGET_ID_TOKEN" ' +
          `-H "Content-Type: application/json" -d '{"username":"contoso","tokenType":"ApiKey"}'`,
      ],
      { env: jobEnv, timeoutMs: 60_000 },
    );
    expect(exchanged.code, explain(exchanged)).toBe(0);
    const { apiKey } = JSON.parse(exchanged.stdout) as { apiKey?: string };
    expect(apiKey, exchanged.stdout).toBeTruthy();

    await push('Contoso.Gadgets', apiKey!);
    await restore('Contoso.Gadgets');

    const audited = await lastExchange();
    expect(audited.detail).toContain(issuer.url);
    expect(audited.detail).toContain('contoso/gadgets');
    expect(audited.detail).toContain('pipeline 99001');
    // The key of the gadgets policy cannot push a widget.
    const file = join(work, 'Contoso.Widgets.Extra.1.0.0.nupkg');
    await writeFile(file, await buildNupkg({ id: 'Contoso.Widgets.Extra', version: '1.0.0' }));
    const outside = await dotnetPush(file, apiKey!);
    expect(outside.code, explain(outside)).not.toBe(0);
    expect(outside.output, explain(outside)).toMatch(/403/);
  });
});
