/**
 * People in a real browser, end to end: a real OpenID provider (oidc-provider on loopback), a real Pawket process
 * signing people in through it, Chromium driven by playwright-core, and the real dotnet CLI. Alice signs in on the
 * provider's page, makes a key on "My keys", pushes and restores with it, unlists a version on its package page (a
 * new reference then gets the version before it), creates an organisation and adds Bob to it, and signs out (her
 * old cookie then opens nothing). Erin, an admin, reads the admin pages and finds Alice's actions in the audit log.
 * With PAWKET_SCREENSHOTS=1 it saves pictures of these pages into docs/screenshots/.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  createKeyOnPage,
  launchBrowser,
  PROVIDER,
  requireBrowserClients,
  screenshot,
  sessionCookie,
  signInThroughProvider,
  storySteps,
  VIEWPORT,
} from './support/browser-story.js';
import { createNuGetSandbox, describeRun, run, writePawketOnlyConfig, type NuGetSandbox, type RunResult } from './support/dotnet.js';
import { startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.js';
import { CORE_ID, packTestPackages, type TestPackages } from './support/packages.js';
import { startPawket, type PawketServer } from './support/server.js';

const { skip } = requireBrowserClients('sign-in end-to-end story (OpenID provider, Chromium, dotnet)');

const BOOTSTRAP_KEY = 'sign-in-e2e-bootstrap-key';
const CLIENT_SECRET = 'sign-in-e2e-client-secret';
const USERS = [
  { sub: 'alice', preferred_username: 'alice', name: 'Alice Liddell', email: 'alice@contoso.test', groups: ['developers'] },
  { sub: 'bob', preferred_username: 'bob', name: 'Bob Builder', email: 'bob@contoso.test', groups: ['developers'] },
  { sub: 'erin', preferred_username: 'erin', name: 'Erin Admin', email: 'erin@contoso.test', groups: ['it'] },
];
const ORG = 'platform';
const BROWSER_STEP = 60_000;
const DOTNET_STEP = 240_000;

describe.skipIf(skip)('a person signs in with OpenID Connect and manages packages in the browser', () => {
  let work: string;
  let pkgs: TestPackages;
  let idp: OidcTestProvider;
  let server: PawketServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let alice: Page;
  let erin: Page;
  let sandbox: NuGetSandbox;
  let consumerDir: string;
  let configFile: string;
  /** The key Alice made in the browser. */
  let key = '';
  /** Alice's session cookie while she was signed in. */
  let aliceCookie = '';
  const pageErrors: string[] = [];

  const base = () => server.baseUrl;
  const explain = (r: RunResult) => `${describeRun(r)}\n--- end of the Pawket log ---\n${server.output().slice(-4000)}`;
  const dotnet = (args: readonly string[]) =>
    run('dotnet', args, { cwd: consumerDir, env: { ...sandbox.env, NUGET_API_KEY: '' }, timeoutMs: DOTNET_STEP - 20_000 });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: VIEWPORT, baseURL: base() });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    return page;
  }

  /** Consumer with one reference to Core (or none), and NuGet's caches and the last restore's output removed. */
  async function freshProject(range?: string): Promise<void> {
    const reference = range ? `<ItemGroup><PackageReference Include="${CORE_ID}" Version="${range}" /></ItemGroup>` : '';
    await writeFile(
      join(consumerDir, 'Consumer.csproj'),
      `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><NuGetAudit>false</NuGetAudit></PropertyGroup>
  ${reference}
</Project>
`,
    );
    await Promise.all([sandbox.httpCacheDir, sandbox.packagesDir, join(consumerDir, 'obj')].map((d) => rm(d, { recursive: true, force: true })));
  }

  /** The version of Core the last restore chose, from obj/project.assets.json. */
  async function restored(): Promise<string | undefined> {
    const assets = JSON.parse(await readFile(join(consumerDir, 'obj', 'project.assets.json'), 'utf8')) as { libraries: Record<string, unknown> };
    return Object.keys(assets.libraries).find((k) => k.startsWith(`${CORE_ID}/`))?.slice(CORE_ID.length + 1);
  }

  /** A fresh `dotnet restore` of Consumer referencing Core with `range`; the version it chose. */
  async function restore(range: string): Promise<string | undefined> {
    await freshProject(range);
    const r = await dotnet(['restore']);
    expect(r.code, explain(r)).toBe(0);
    return restored();
  }

  /** A fresh `dotnet add package` of Core without a version (the newest listed one); the version it chose. */
  async function addPackage(): Promise<string | undefined> {
    await freshProject();
    const r = await dotnet(['add', 'package', CORE_ID]);
    expect(r.code, explain(r)).toBe(0);
    expect(await readFile(join(consumerDir, 'Consumer.csproj'), 'utf8')).toContain(`Include="${CORE_ID}" Version="${await restored()}"`);
    return restored();
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-sign-in-'));
    pkgs = await packTestPackages(work, (await createNuGetSandbox(join(work, 'nuget-pack'))).env, { coreOnly: true });
    sandbox = await createNuGetSandbox(join(work, 'nuget-consume'));
    consumerDir = join(pkgs.projectsDir, 'Consumer');
    idp = await startOidcProvider({ users: USERS });
    const signIn = {
      providers: [
        { ...PROVIDER, issuer: idp.issuer, clientId: 'pawket', clientSecret: CLIENT_SECRET, scopes: ['openid', 'profile', 'email', 'groups'] },
      ],
      defaultRole: 'contributor',
      admins: ['erin'],
    };
    server = await startPawket({ env: { PAWKET_API_KEY: BOOTSTRAP_KEY, PAWKET_SIGN_IN: JSON.stringify(signIn) } });
    // Registered at the provider as an administrator would, with Pawket's redirect URI.
    idp.addClient({ client_id: 'pawket', client_secret: CLIENT_SECRET, redirect_uris: [`${server.baseUrl}/signin/${PROVIDER.name}/callback`] });
    configFile = await writePawketOnlyConfig(consumerDir, server.feedUrl);
    browser = await launchBrowser();
    alice = await newPage();
  }, 600_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
    await idp?.close();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  const step = storySteps();

  step('Bob and Erin sign in once through the provider (their accounts are made at first sign-in)', BROWSER_STEP, async () => {
    await signInThroughProvider(await newPage(), base(), idp.issuer, 'bob', 'Bob Builder');
    erin = await newPage();
    await signInThroughProvider(erin, base(), idp.issuer, 'erin', 'Erin Admin');
  });

  step('Alice signs in on the provider\'s page and lands back on Pawket signed in', BROWSER_STEP, async () => {
    await alice.goto('/account/keys');
    // Not signed in: My keys asks her to sign in first, and brings her back afterwards.
    await alice.waitForURL((u) => u.pathname === '/signin');
    expect(new URL(alice.url()).searchParams.get('returnTo')).toBe('/account/keys');
    await screenshot(alice, 'sign-in');
    await signInThroughProvider(alice, base(), idp.issuer, 'alice', 'Alice Liddell');
    const cookie = await sessionCookie(alice, base());
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    aliceCookie = cookie.value;
  });

  step('Alice creates a key on "My keys" and reads it from the page, once', BROWSER_STEP, async () => {
    key = await createKeyOnPage(alice, base(), 'laptop', ['push-new', 'unlist']);
    await screenshot(alice, 'my-keys');
    await alice.goto('/account/keys');
    expect(await alice.content(), 'the secret is shown only once').not.toContain(key);
    await expect.poll(() => alice.locator('table').textContent()).toContain('laptop');
  });

  step('dotnet nuget push with that key publishes; dotnet restores it and chooses the newest, 1.0.1', DOTNET_STEP, async () => {
    for (const nupkg of [pkgs.core100, pkgs.core101]) {
      const push = await dotnet(['nuget', 'push', nupkg, '--source', server.feedUrl, '--api-key', key, '--configfile', configFile, '--force-english-output']);
      expect(push.code, explain(push)).toBe(0);
    }
    expect(await addPackage()).toBe('1.0.1');
    expect(await restore('1.0.*')).toBe('1.0.1');
  });

  step('Alice sees her package on "My packages" and unlists 1.0.1 on its page; dotnet then chooses 1.0.0', DOTNET_STEP, async () => {
    await alice.goto('/account/packages');
    await expect.poll(() => alice.locator('main').textContent()).toContain(CORE_ID);
    await screenshot(alice, 'my-packages');
    await alice.goto(`/packages/${CORE_ID}/1.0.1`);
    await alice.getByRole('button', { name: 'Unlist 1.0.1' }).click();
    await alice.getByRole('button', { name: 'Relist 1.0.1' }).waitFor({ timeout: 15_000 });
    const index = (await (await fetch(`${base()}/v3/registration/${CORE_ID.toLowerCase()}/index.json`)).json()) as {
      items: Array<{ items: Array<{ catalogEntry: { version: string; listed?: boolean } }> }>;
    };
    const entry = index.items.flatMap((p) => p.items).find((i) => i.catalogEntry.version === '1.0.1');
    expect(entry?.catalogEntry.listed).toBe(false);
    // A new reference gets the newest listed version. (A floating range such as 1.0.* is resolved from the flat
    // container, which lists unlisted versions too, as nuget.org's does: the NuGet client still picks 1.0.1 there.)
    expect(await addPackage()).toBe('1.0.0');
    // A project that pins the unlisted version still restores it.
    expect(await restore('[1.0.1]')).toBe('1.0.1');
  });

  step(`Alice creates the organisation ${ORG} and adds Bob as a member on its page`, BROWSER_STEP, async () => {
    await alice.goto('/orgs');
    await alice.getByLabel('Name').fill(ORG);
    await alice.getByRole('button', { name: 'Create organisation' }).click();
    await alice.waitForURL((u) => u.pathname === `/orgs/${ORG}`);
    await alice.getByLabel('User', { exact: true }).fill('bob');
    await alice.getByLabel('Role', { exact: true }).selectOption('member');
    await alice.getByRole('button', { name: 'Add member' }).click();
    await alice.waitForLoadState();
    expect(new URL(alice.url()).pathname).toBe(`/orgs/${ORG}`);
    const members = alice.locator('table', { hasText: 'alice' });
    await expect.poll(() => members.textContent()).toMatch(/bob/);
    await screenshot(alice, 'organisation');
  });

  step('Erin, an admin, opens the users, feeds and audit pages and finds what Alice did', BROWSER_STEP, async () => {
    await erin.goto('/admin/users');
    await expect.poll(() => erin.locator('main').textContent()).toMatch(/alice[\s\S]*bob|bob[\s\S]*alice/);
    await screenshot(erin, 'admin-users');
    await erin.goto('/admin/feeds');
    await expect.poll(() => erin.locator('main').textContent()).toContain('default');
    await screenshot(erin, 'admin-feeds');
    await erin.goto('/admin/audit');
    const audit = erin.locator('main');
    await expect.poll(() => audit.textContent()).toContain(CORE_ID);
    const rows = await erin.locator('table tr', { hasText: '1.0.1' }).allTextContents();
    expect(rows.some((r) => /unlist/i.test(r) && r.includes('alice')), `an unlist of 1.0.1 by alice in:\n${rows.join('\n')}`).toBe(true);
    await screenshot(erin, 'admin-audit');
  });

  step('Alice signs out; her old session cookie no longer opens "My keys"', BROWSER_STEP, async () => {
    const withOldCookie = () => fetch(`${base()}/account/keys`, { headers: { cookie: `pawket_session=${aliceCookie}` }, redirect: 'manual' });
    const before = await withOldCookie();
    expect(before.status, 'the cookie opens My keys while signed in').toBe(200);
    await alice.goto('/');
    await alice.locator('header').getByRole('button', { name: 'Sign out' }).click();
    await alice.locator('header').getByRole('link', { name: 'Sign in', exact: true }).waitFor();
    const after = await withOldCookie();
    expect(after.status, 'My keys with the cookie from before sign-out').not.toBe(200);
    expect(await after.text()).not.toContain('laptop');
    await alice.goto('/account/keys');
    expect(new URL(alice.url()).pathname).toBe('/signin');
    expect(pageErrors).toEqual([]);
  });
});
