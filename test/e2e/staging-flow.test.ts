/**
 * The staging flow of NuGet's package staging design, end to end against the built server: a CI script stages a
 * release of three packages (one depending on another) into one group with a staging-only key, over plain HTTP as the
 * NuGet staging client sends it, and lists and views them through the staging API; `dotnet restore` does not find
 * them; a release manager signs in in Chromium, opens the staging page, sees the group and its members and clicks
 * "Promote group"; `dotnet restore` then gets all of them. With PAWKET_SCREENSHOTS=1 it saves pictures of the staging
 * pages into docs/screenshots/.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { buildNupkg } from '../support/nupkg.js';
import { launchBrowser, requireBrowserClients, screenshot, storySteps, VIEWPORT } from './support/browser-story.js';
import { createNuGetSandbox, describeRun, run, writePawketOnlyConfig, type RunResult } from './support/dotnet.js';
import { startPawket, type PawketServer } from './support/server.js';

const { skip } = requireBrowserClients('staging flow end to end (staging API, Chromium, dotnet)');

const BOOTSTRAP_KEY = 'staging-e2e-bootstrap-key';
const OWNER = 'contoso';
const GROUP = 'release-2026.12';
/** The release: Cli depends on Web, Web on Core. */
const RELEASE = [
  { id: 'Contoso.Release.Core', version: '1.4.0', dependencies: {} },
  { id: 'Contoso.Release.Web', version: '1.4.0', dependencies: { '': [['Contoso.Release.Core', '[1.4.0, )']] } },
  { id: 'Contoso.Release.Cli', version: '1.4.0-rc.1', dependencies: { '': [['Contoso.Release.Web', '[1.4.0, )']] } },
] as const;
const BROWSER_STEP = 60_000;
const DOTNET_STEP = 240_000;

type Json = Record<string, unknown>;

describe.skipIf(skip)('CI stages a release, a person promotes it in the browser, dotnet restores it', () => {
  let work: string;
  let server: PawketServer;
  let browser: Browser;
  let page: Page;
  let consumerDir: string;
  /** The feed's PackageStaging/1.0.0 resource, as the service index names it. */
  let stagingUrl = '';
  /** A staging-only key, as CI holds it; and the release manager's key, with which she signs in. */
  const keys = { stage: '', manager: '' };
  const pageErrors: string[] = [];

  const explain = (r: RunResult) => `${describeRun(r)}\n--- end of the Pawket log ---\n${server.output().slice(-4000)}`;

  async function createKey(name: string, scopes: readonly string[]): Promise<string> {
    const res = await fetch(`${server.baseUrl}/api/admin/keys`, {
      method: 'POST',
      headers: { 'x-nuget-apikey': BOOTSTRAP_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name, owner: OWNER, scopes }),
    });
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(201);
    return body.key as string;
  }

  /** The staging API as CI calls it, with the staging-only key. */
  async function stagingGet(path: string): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${stagingUrl}${path}`, { headers: { 'x-nuget-apikey': keys.stage } });
    return { status: res.status, body: (await res.json()) as Json };
  }

  /**
   * A fresh `dotnet restore` of a project referencing Web and Cli (Core comes with them), with empty NuGet caches;
   * the packages it resolved, when it succeeded.
   */
  async function restore(label: string): Promise<{ r: RunResult; resolved: string[] }> {
    const sandbox = await createNuGetSandbox(join(work, `nuget-${label}`));
    await rm(join(consumerDir, 'obj'), { recursive: true, force: true });
    await writeFile(
      join(consumerDir, 'Consumer.csproj'),
      `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><NuGetAudit>false</NuGetAudit></PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Contoso.Release.Web" Version="1.4.0" />
    <PackageReference Include="Contoso.Release.Cli" Version="1.4.0-rc.1" />
  </ItemGroup>
</Project>
`,
    );
    const r = await run('dotnet', ['restore'], { cwd: consumerDir, env: { ...sandbox.env, NUGET_API_KEY: '' }, timeoutMs: DOTNET_STEP - 20_000 });
    const resolved: string[] = [];
    if (r.code === 0) {
      const assets = JSON.parse(await readFile(join(consumerDir, 'obj', 'project.assets.json'), 'utf8')) as { libraries: Record<string, { type: string }> };
      for (const [key, lib] of Object.entries(assets.libraries)) if (lib.type === 'package') resolved.push(key);
    }
    return { r, resolved: resolved.sort() };
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-staging-'));
    server = await startPawket({ env: { PAWKET_API_KEY: BOOTSTRAP_KEY } });
    keys.stage = await createKey('ci-stage', ['stage']);
    keys.manager = await createKey('release-manager', ['push-new', 'push']);
    consumerDir = join(work, 'Consumer');
    await mkdir(consumerDir, { recursive: true });
    await writePawketOnlyConfig(consumerDir, server.feedUrl);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: VIEWPORT, baseURL: server.baseUrl });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  const step = storySteps();

  step('CI finds the staging resource in the service index and stages the release into one group', 30_000, async () => {
    const index = (await (await fetch(server.feedUrl)).json()) as { resources: Array<{ '@id': string; '@type': string }> };
    stagingUrl = index.resources.find((r) => r['@type'] === 'PackageStaging/1.0.0')?.['@id'] ?? '';
    expect(stagingUrl).toBe(`${server.baseUrl}/v3/staging`);
    for (const p of RELEASE) {
      // As the staging client sends it: multipart, the package part and the group's id.
      const form = new FormData();
      form.append('package', new Blob([new Uint8Array(await buildNupkg(p))]), `${p.id}.${p.version}.nupkg`);
      form.append('groupId', GROUP);
      const res = await fetch(`${stagingUrl}/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': keys.stage } });
      const body = (await res.json()) as Json;
      expect(res.status, JSON.stringify(body)).toBe(201);
      expect(body).toMatchObject({ id: p.id, version: p.version, kind: 'package', status: 'ready', canPromote: true, owner: OWNER });
      expect((body.group as Json).id).toBe(GROUP);
    }
    // The key stages and nothing else: a plain push is refused, and so is promotion.
    const push = await fetch(`${server.baseUrl}/api/v2/package`, {
      method: 'PUT',
      body: new Uint8Array(await buildNupkg({ id: 'Contoso.Release.Core', version: '9.9.9' })),
      headers: { 'x-nuget-apikey': keys.stage },
    });
    expect(push.status).toBe(403);
  });

  step('CI lists and views the staged packages and the group through the staging API', 30_000, async () => {
    const list = await stagingGet('/package');
    expect(list.status).toBe(200);
    expect(list.body.totalCount).toBe(3);
    expect((list.body.items as Json[]).map((a) => `${a.id} ${a.version}`).sort()).toEqual(RELEASE.map((p) => `${p.id} ${p.version}`).sort());
    const one = await stagingGet('/package/Contoso.Release.Web/1.4.0');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: 'Contoso.Release.Web', version: '1.4.0', status: 'ready', canPromote: true, blockers: [] });
    const group = await stagingGet(`/groups/${GROUP}`);
    expect(group.status).toBe(200);
    expect(group.body.group).toMatchObject({ id: GROUP, itemCount: 3, canPromote: true, blockers: [], owner: OWNER });
    expect(group.body.totalCount).toBe(3);
    // Nothing that reads the feed sees them.
    for (const p of RELEASE) expect((await fetch(`${server.baseUrl}/v3/flatcontainer/${p.id.toLowerCase()}/index.json`)).status).toBe(404);
  });

  step('dotnet restore does not find the staged packages', DOTNET_STEP, async () => {
    const { r } = await restore('before');
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/NU1101|Unable to find package Contoso\.Release\./);
  });

  step('the release manager signs in, opens the staging page, and sees the group and its members', BROWSER_STEP, async () => {
    await page.goto('/account/staging');
    // Not signed in: the sign-in page, coming back here afterwards.
    await page.waitForURL((u) => u.pathname === '/signin');
    await page.getByLabel('API key').fill(keys.manager);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/account/staging');
    await page.locator('header').getByRole('link', { name: 'Staging' }).click();
    await page.waitForURL((u) => u.pathname === '/account/staging');
    const row = page.locator(`tr[data-group="${GROUP}"]`);
    await expect.poll(() => row.textContent()).toMatch(/3\s*yes/);
    await screenshot(page, 'staging');
    await row.getByRole('link', { name: GROUP }).click();
    await page.waitForURL((u) => u.pathname === `/account/staging/groups/${GROUP}`);
    for (const p of RELEASE) {
      const member = page.locator(`tr[data-staged="${p.id}/${p.version}/package"]`);
      await expect.poll(() => member.textContent()).toContain('ready');
      await member.getByRole('link', { name: `Download ${p.id} ${p.version}` }).waitFor();
    }
    // The page names the group's preview feed, which CI's key can read before anyone promotes.
    const preview = (await page.locator('#preview-feed').textContent())?.trim() ?? '';
    expect(preview).toBe(`${server.baseUrl}/v3/staging/preview/${OWNER}/${GROUP}/index.json`);
    expect((await fetch(preview, { headers: { 'x-nuget-apikey': keys.stage } })).status).toBe(200);
    await screenshot(page, 'staging-group');
  });

  step('she clicks "Promote group": the page says the group was promoted, and the feed lists all of them', BROWSER_STEP, async () => {
    await page.getByRole('button', { name: 'Promote group' }).click();
    await page.waitForURL((u) => u.pathname === '/account/staging' && u.searchParams.get('done') === 'group-promoted');
    await expect.poll(() => page.locator('#staging-status').textContent()).toContain(`Group ${GROUP} (3 packages) promoted`);
    expect(await page.locator(`tr[data-group="${GROUP}"]`).count()).toBe(0);
    for (const p of RELEASE) {
      const res = await fetch(`${server.baseUrl}/v3/flatcontainer/${p.id.toLowerCase()}/index.json`);
      expect(res.status, p.id).toBe(200);
      expect(((await res.json()) as { versions: string[] }).versions).toEqual([p.version]);
    }
    expect((await stagingGet(`/groups/${GROUP}`)).status).toBe(404);
    expect(pageErrors).toEqual([]);
  });

  step('dotnet restore now gets every package of the release', DOTNET_STEP, async () => {
    const { r, resolved } = await restore('after');
    expect(r.code, explain(r)).toBe(0);
    expect(resolved).toEqual(RELEASE.map((p) => `${p.id}/${p.version}`).sort());
  });
});
