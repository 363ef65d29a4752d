/**
 * Deprecations and vulnerability advisories with the real `dotnet` CLI: a version deprecated with `pawket deprecate`
 * (beside the running server) shows in `dotnet list package --deprecated`; an advisory filed through the JSON API makes
 * `dotnet restore` warn (NuGetAudit reads VulnerabilityInfo) and `dotnet list package --vulnerable` list it; the web
 * page of the version carries both banners; a withdrawn advisory stops the warning. Keys without rights are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBackendEnv } from '../support/backend.js';
import { startConsumerFeed, type ConsumerFeed } from './support/consumer-feed.js';
import { describeRun, hasDotnet, requireClients, run, type RunResult } from './support/dotnet.js';
import { CORE_ID } from './support/packages.js';
import { repoRoot } from './support/paths.js';
import { pawketMain } from './support/server.js';

const clients = requireClients('deprecation and advisory end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

const STEP_TIMEOUT = 240_000;
const ADMIN_KEY = 'advisories-admin-key';
const ADVISORY = 'https://advisories.example.com/PAWKET-2026-0001';

describe.skipIf(clients.skip)('deprecations and advisories with the dotnet CLI', () => {
  let feed: ConsumerFeed | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    const serverEnv = { ...(await freshBackendEnv()), PAWKET_API_KEY: ADMIN_KEY };
    env = serverEnv;
    feed = await startConsumerFeed({ name: 'advisories', env: serverEnv, push: (p) => [p.core100, p.core101] });
    const add = await dotnet(['add', 'package', CORE_ID, '--version', '1.0.0']);
    if (add.code !== 0) throw new Error(explain(add));
  }, 600_000);

  afterAll(() => feed?.close());

  function pawket(args: readonly string[]): Promise<RunResult> {
    return run(process.execPath, [pawketMain, ...args, '--data-dir', feed!.server.dataDir], { cwd: repoRoot, env, timeoutMs: 60_000 });
  }

  /** NuGet keeps metadata and audit data in its HTTP cache for up to a day: every command here looks afresh. */
  const dotnet = (args: readonly string[]) => feed!.dotnet(args, { freshMetadata: true });
  const explain = (r: RunResult) => feed!.explain(r);

  function api(method: string, path: string, body: unknown, key = ADMIN_KEY): Promise<Response> {
    return fetch(`${feed!.server.baseUrl}/api/packages/${CORE_ID}/${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'x-nuget-apikey': key },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function page(version: string): Promise<string> {
    const r = await fetch(`${feed!.server.baseUrl}/packages/${CORE_ID}/${version}`);
    expect(r.status).toBe(200);
    return r.text();
  }

  it('restores without audit warnings and lists nothing deprecated while nothing is known', { timeout: STEP_TIMEOUT }, async () => {
    const restore = await dotnet(['restore', '--force']);
    expect(restore.code, explain(restore)).toBe(0);
    expect(restore.output, explain(restore)).not.toMatch(/NU190[1-4]/);
    const listed = await dotnet(['list', 'package', '--deprecated']);
    expect(listed.code, explain(listed)).toBe(0);
    expect(listed.output, explain(listed)).not.toContain(CORE_ID);
    expect(await page('1.0.0')).not.toContain('is deprecated');
  });

  it('shows a deprecation made with `pawket deprecate` in `dotnet list package --deprecated` and on the page', { timeout: STEP_TIMEOUT }, async () => {
    const made = await pawket(['deprecate', CORE_ID, '1.0.0', '--reason', 'legacy', '--message', 'Superseded by 1.0.1.', '--alternate', 'Pawket.E2e.Widgets']);
    expect(made.code, describeRun(made)).toBe(0);
    expect(made.stdout).toContain(`Deprecated ${CORE_ID} 1.0.0`);
    // The running server learns of it through the change feed (it polls every second by default).
    await expect.poll(async () => (await page('1.0.0')).includes('This version is deprecated'), { timeout: 10_000 }).toBe(true);
    const html = await page('1.0.0');
    expect(html).toContain('Superseded by 1.0.1.');
    expect(html).toContain('href="/packages/Pawket.E2e.Widgets"');
    expect(await page('1.0.1')).not.toContain('This version is deprecated');

    const listed = await dotnet(['list', 'package', '--deprecated']);
    expect(listed.code, explain(listed)).toBe(0);
    expect(listed.output, explain(listed)).toMatch(new RegExp(`${CORE_ID.replace(/\./g, '\\.')}\\s+1\\.0\\.0\\s+1\\.0\\.0\\s+Legacy\\s+Pawket\\.E2e\\.Widgets`));
  });

  it('refuses advisories from keys without the rights, and bad input, with the reason', async () => {
    const created = await pawket(['keys', 'create', '--name', 'other-team', '--owner', 'team-b', '--scopes', 'push-new,unlist', '--json']);
    expect(created.code, describeRun(created)).toBe(0);
    const otherKey = (JSON.parse(created.stdout) as { key: string }).key;
    const denied = await api('PUT', 'vulnerabilities', { url: ADVISORY, severity: 'high', versions: '[1.0.0, 1.0.1)' }, otherKey);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('team-b');
    const badRange = await api('PUT', 'vulnerabilities', { url: ADVISORY, severity: 'high', versions: '1.*' });
    expect(badRange.status).toBe(400);
    expect(await badRange.text()).toContain('floats');
    const badReason = await api('PUT', 'deprecation', { versions: '1.0.1', reasons: 'Boring' });
    expect(badReason.status).toBe(400);
    expect(await badReason.text()).toContain('not a deprecation reason');
    const unknownVersion = await api('PUT', 'deprecation', { versions: '9.9.9', reasons: 'Legacy' });
    expect(unknownVersion.status).toBe(404);
  });

  it('makes restore warn about an advisory filed through the API, and `--vulnerable` list it', { timeout: STEP_TIMEOUT }, async () => {
    const filed = await api('PUT', 'vulnerabilities', { url: ADVISORY, severity: 'high', versions: '[1.0.0, 1.0.1)' });
    expect(filed.status, await filed.clone().text()).toBe(200);
    expect(await page('1.0.0')).toContain(ADVISORY);
    expect(await page('1.0.1')).not.toContain(ADVISORY);

    const restore = await dotnet(['restore', '--force']);
    expect(restore.code, explain(restore)).toBe(0);
    expect(restore.output, explain(restore)).toMatch(new RegExp(`NU1903.*${CORE_ID.replace(/\./g, '\\.')}.*1\\.0\\.0.*high severity.*${ADVISORY}`));

    const listed = await dotnet(['list', 'package', '--vulnerable']);
    expect(listed.code, explain(listed)).toBe(0);
    expect(listed.output, explain(listed)).toMatch(new RegExp(`${CORE_ID.replace(/\./g, '\\.')}\\s+1\\.0\\.0\\s+1\\.0\\.0\\s+High\\s+${ADVISORY}`));
  });

  it('stops warning once the advisory is withdrawn', { timeout: STEP_TIMEOUT }, async () => {
    const withdrawn = await api('DELETE', `vulnerabilities?url=${encodeURIComponent(ADVISORY)}`, undefined);
    expect(withdrawn.status, await withdrawn.clone().text()).toBe(200);
    const again = await api('DELETE', `vulnerabilities?url=${encodeURIComponent(ADVISORY)}`, undefined);
    expect(again.status).toBe(404);
    const restore = await dotnet(['restore', '--force']);
    expect(restore.code, explain(restore)).toBe(0);
    expect(restore.output, explain(restore)).not.toMatch(/NU190[1-4]/);
    expect(await page('1.0.0')).not.toContain(ADVISORY);
  });
});
