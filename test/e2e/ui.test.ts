/**
 * The web UI in a real browser: playwright-core drives Debian's Chromium (installed by scripts/install-test-deps.sh;
 * no browser is downloaded) against a real Pawket server. Search as you type, open a package, switch versions, copy
 * an install command, upload a package and see it appear (with and without JavaScript), a readme containing
 * `<script>` renders without running it and its relative images load from inside the package. Saves screenshots of
 * the main pages under docs/screenshots/ (shown in the README).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/cli/storage.js';
import { configSchema } from '../../src/config/schema.js';
import { freshBackendSettings } from '../support/backend.js';
import { buildNupkg, type NuspecOptions, type ZipEntry } from '../support/nupkg.js';
import { requireClients } from './support/dotnet.js';
import { repoRoot } from './support/paths.js';
import { startPawket, type PawketServer } from './support/server.js';

/** Debian's Chromium; PAWKET_CHROMIUM points elsewhere. */
const CHROMIUM = process.env.PAWKET_CHROMIUM ?? '/usr/bin/chromium';
const clients = requireClients('web UI end-to-end tests', existsSync(CHROMIUM) ? [] : [`chromium (${CHROMIUM})`]);

const KEY = 'ui-e2e-key';
const SCREENSHOTS = join(repoRoot, 'docs', 'screenshots');
const STEP_TIMEOUT = 60_000;
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A small PNG (a coloured rounded tile) so icons are visible in screenshots. */
function png(size: number, rgb: readonly [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const inside = Math.hypot(Math.max(0, Math.abs(x - size / 2 + 0.5) - size / 4), Math.max(0, Math.abs(y - size / 2 + 0.5) - size / 4)) < size / 4;
      row.set([rgb[0], rgb[1], rgb[2] + Math.round((y / size) * 60), inside ? 255 : 0], 1 + x * 4);
    }
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

const README = `# Contoso Widgets

![Widgets logo](images/logo.png)

Widgets for **every** occasion. <script>window.__pwned = 'script';</script>

<img src="docs/diagram.svg" alt="How widgets spin" width="120">

Read [the guide](docs/guide.md) first.

<img src="x" onerror="window.__pwned = 'onerror'" alt="broken">

[a dangerous link](javascript:window.__pwned='link') and [a safe one](https://example.org/docs).

## Usage

\`\`\`csharp
var widget = new Widget();
\`\`\`

| feature | status |
|---|---|
| spin | yes |
`;

const DIAGRAM = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60"><rect width="120" height="60" rx="8" fill="#2d7d46"/><circle cx="60" cy="30" r="18" fill="#fff"/></svg>';

type TestPackage = NuspecOptions & { readonly files?: readonly ZipEntry[] };

const PACKAGES: TestPackage[] = [
  ...['1.0.0', '2.0.0', '2.1.0-beta.1'].map((version): TestPackage => ({
    id: 'Contoso.Widgets',
    version,
    description: 'Widgets for every occasion.',
    authors: 'Contoso',
    extraMetadata:
      '<readme>README.md</readme><icon>icon.png</icon><tags>widgets ui controls</tags><license type="expression">MIT</license><projectUrl>https://example.org/widgets</projectUrl><repository type="git" url="https://github.com/contoso/widgets.git" commit="0123456789abcdef0123456789abcdef01234567" />',
    dependencies: { 'net8.0': [['Contoso.Logging', '[1.0.0, )']], 'netstandard2.0': [] },
    files: [
      { name: 'README.md', data: README },
      { name: 'icon.png', data: png(64, [40, 110, 200]) },
      // Referenced by the readme with relative URLs, as in its repository.
      { name: 'images/logo.png', data: png(96, [200, 90, 40]) },
      { name: 'docs/diagram.svg', data: DIAGRAM },
    ],
  })),
  { id: 'Contoso.Logging', version: '1.0.0', description: 'Structured logging that writes JSON lines.', authors: 'Contoso', extraMetadata: '<tags>logging json</tags><icon>icon.png</icon>', files: [{ name: 'icon.png', data: png(64, [30, 150, 90]) }] },
  { id: 'Fabrikam.Http', version: '3.2.1', description: 'HTTP helpers: retries, timeouts and typed clients.', authors: 'Fabrikam', extraMetadata: '<tags>http client</tags>' },
  { id: 'Fabrikam.Cli.Tool', version: '0.4.0', description: 'A command line tool.', authors: 'Fabrikam', extraMetadata: '<packageTypes><packageType name="DotnetTool" /></packageTypes>' },
];

async function push(server: PawketServer, pkg: TestPackage, feedPath = ''): Promise<void> {
  const body = await buildNupkg(pkg);
  const response = await fetch(`${server.baseUrl}${feedPath}/api/v2/package`, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': KEY },
  });
  if (response.status !== 201) throw new Error(`pushing ${pkg.id} ${pkg.version}: ${response.status} ${await response.text()}`);
}

describe.skipIf(clients.skip)('web UI in a real browser', () => {
  let server: PawketServer;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    server = await startPawket({ env: { PAWKET_API_KEY: KEY } });
    for (const pkg of PACKAGES) await push(server, pkg);
    await mkdir(SCREENSHOTS, { recursive: true });
    profile = await mkdtemp(join(tmpdir(), 'pawket-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: BROWSER_ARGS,
      viewport: { width: 1200, height: 900 },
      baseURL: server.baseUrl,
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await server?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('searches as you type', async () => {
    await page.goto('/');
    await expect.poll(() => page.locator('#results .card').count()).toBe(4);
    await page.screenshot({ path: join(SCREENSHOTS, 'home.png') });
    await page.locator('#q').pressSequentially('loggi', { delay: 30 });
    await page.locator('#results .card h3', { hasText: 'Contoso.Logging' }).waitFor();
    await expect.poll(() => page.locator('#results .card').count()).toBe(1);
    await expect.poll(() => page.url()).toContain('q=loggi');
    // The package type filter narrows to tools.
    await page.locator('#q').fill('');
    await page.locator('#packageType').selectOption('DotnetTool');
    await expect.poll(() => page.locator('#results .card h3').allTextContents()).toEqual(['Fabrikam.Cli.Tool']);
    // Prerelease toggle: the card shows the beta as latest.
    await page.locator('#packageType').selectOption('');
    await page.locator('#q').fill('widgets');
    await expect.poll(() => page.locator('#results .card .meta').first().textContent()).toContain('v2.0.0');
    await page.locator('#prerelease').check();
    await expect.poll(() => page.locator('#results .card .meta').first().textContent()).toContain('v2.1.0-beta.1');
  }, STEP_TIMEOUT);

  it('opens a package, renders its readme without running scripts, switches versions', async () => {
    await page.goto('/?q=widgets');
    await page.locator('#results .card h3 a', { hasText: 'Contoso.Widgets' }).click();
    await page.waitForURL(/\/packages\/Contoso\.Widgets$/);
    await expect.poll(() => page.locator('.pkg-head h1').textContent()).toContain('2.0.0');
    const readme = page.locator('article.readme');
    await expect.poll(() => readme.locator('h1').textContent()).toBe('Contoso Widgets');
    expect(await readme.locator('table').count()).toBe(1);
    expect(await readme.locator('script').count()).toBe(0);
    expect(await readme.locator('[onerror]').count()).toBe(0);
    expect(await readme.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await readme.locator('a[href="https://example.org/docs"]').count()).toBe(1);
    // Relative images load from inside the package; a relative link goes to the repository at its commit.
    for (const [alt, width] of [['Widgets logo', 96], ['How widgets spin', 120]] as const) {
      const image = readme.locator(`img[alt="${alt}"]`);
      await image.scrollIntoViewIfNeeded();
      await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { message: alt }).toBe(width);
      expect(await image.getAttribute('src')).toMatch(/^\/packages\/Contoso\.Widgets\/2\.0\.0\/files\//);
    }
    expect(await readme.locator('a', { hasText: 'the guide' }).getAttribute('href')).toBe(
      'https://github.com/contoso/widgets/blob/0123456789abcdef0123456789abcdef01234567/docs/guide.md',
    );
    expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    // Icon from inside the package.
    const icon = await page.request.get('/packages/Contoso.Widgets/2.0.0/icon');
    expect(icon.headers()['content-type']).toBe('image/png');
    // Dependencies grouped by framework, with links.
    await expect.poll(() => page.locator('.deps h3').allTextContents()).toEqual(['net8.0', 'netstandard2.0']);
    expect(await page.locator('.deps a', { hasText: 'Contoso.Logging' }).getAttribute('href')).toBe('/packages/Contoso.Logging');
    expect(await page.locator('aside').textContent()).toContain('MIT');
    await page.screenshot({ path: join(SCREENSHOTS, 'package.png'), fullPage: true });

    await page.locator('#version-select').selectOption({ label: '1.0.0' });
    await page.waitForURL(/\/packages\/Contoso\.Widgets\/1\.0\.0$/);
    await expect.poll(() => page.locator('.pkg-head h1').textContent()).toContain('1.0.0');
    expect(await page.locator('#cmd-dotnet').textContent()).toBe('dotnet add package Contoso.Widgets --version 1.0.0');
    expect(await page.locator('table.versions tbody tr').count()).toBe(3);
  }, STEP_TIMEOUT);

  it('copies an install command', async () => {
    await page.goto('/packages/Contoso.Widgets/2.0.0');
    await page.locator('#tab-reference').click();
    expect(await page.locator('#panel-reference').isVisible()).toBe(true);
    expect(await page.locator('#panel-dotnet').isVisible()).toBe(false);
    await page.locator('#panel-reference button[data-copy]').click();
    await expect.poll(() => page.locator('#panel-reference button[data-copy]').textContent()).toBe('Copied!');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('<PackageReference Include="Contoso.Widgets" Version="2.0.0" />');
  }, STEP_TIMEOUT);

  it('uploads a package and shows it; shows the push endpoint\'s errors', async () => {
    const nupkg = await buildNupkg({ id: 'Uploaded.From.Browser', version: '1.2.3', description: 'Pushed through the upload page.' });
    await page.goto('/upload');
    await page.screenshot({ path: join(SCREENSHOTS, 'upload.png') });
    const file = { name: 'Uploaded.From.Browser.1.2.3.nupkg', mimeType: 'application/octet-stream', buffer: nupkg };

    await page.locator('#package').setInputFiles(file);
    await page.locator('#apikey').fill('wrong-key');
    await page.locator('form.upload button[type=submit]').click();
    await expect.poll(() => page.locator('#upload-status').textContent()).toMatch(/^401: /);

    await page.locator('#apikey').fill(KEY);
    await page.locator('form.upload button[type=submit]').click();
    await expect.poll(() => page.locator('#upload-status').textContent()).toContain('Package Uploaded.From.Browser 1.2.3 was pushed.');
    // The script uploaded in place (no navigation) and put its progress bar away.
    expect(new URL(page.url()).pathname).toBe('/upload');
    expect(await page.locator('#upload-progress').isHidden()).toBe(true);

    await page.locator('form.upload button[type=submit]').click();
    await expect.poll(() => page.locator('#upload-status').textContent()).toMatch(/^409: .*already exists/);

    await page.locator('#package').setInputFiles(file);
    await page.locator('#apikey').fill(KEY);
    await page.goto('/upload');
    await page.locator('#package').setInputFiles({ ...file, buffer: Buffer.from('not a zip') });
    await page.locator('#apikey').fill(KEY);
    await page.locator('form.upload button[type=submit]').click();
    await expect.poll(() => page.locator('#upload-status').textContent()).toMatch(/^400: /);

    await page.goto('/');
    await page.locator('#q').pressSequentially('Uploaded', { delay: 20 });
    await page.locator('#results .card h3 a', { hasText: 'Uploaded.From.Browser' }).click();
    await page.waitForURL(/\/packages\/Uploaded\.From\.Browser$/);
    expect(await page.locator('article.readme, p.readme').first().textContent()).toContain('Pushed through the upload page.');
  }, STEP_TIMEOUT);

  it('shows how to connect, with statistics; dark mode', async () => {
    await page.goto('/feed');
    expect(await page.locator('#feed-url').textContent()).toBe(`${server.baseUrl}/v3/index.json`);
    expect(await page.locator('#nuget-config').textContent()).toContain(`value="${server.baseUrl}/v3/index.json"`);
    expect(await page.locator('.stats').textContent()).toMatch(/5\s*packages.*7\s*versions/s);
    await page.screenshot({ path: join(SCREENSHOTS, 'feed.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto('/packages/Contoso.Widgets');
    await page.screenshot({ path: join(SCREENSHOTS, 'package-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(pageErrors).toEqual([]);
  }, STEP_TIMEOUT);

  it('advertises the package page in the service index and answers unknown packages with 404', async () => {
    const index = (await (await fetch(server.feedUrl)).json()) as { resources: { '@id': string; '@type': string }[] };
    const details = index.resources.find((r) => r['@type'] === 'PackageDetailsUriTemplate/5.1.0');
    expect(details?.['@id']).toBe(`${server.baseUrl}/packages/{id}/{version}`);
    expect((await fetch(`${server.baseUrl}/packages/No.Such.Package`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/packages/Contoso.Widgets/9.9.9`)).status).toBe(404);
  });

  it('uploads without JavaScript: the form posts and answers with a page', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: BROWSER_ARGS });
    try {
      const noScript = await (await browser.newContext({ javaScriptEnabled: false, baseURL: server.baseUrl })).newPage();
      const nupkg = await buildNupkg({ id: 'NoScript.Upload', version: '1.0.0', description: 'Uploaded without JavaScript.' });
      const file = { name: 'NoScript.Upload.1.0.0.nupkg', mimeType: 'application/octet-stream', buffer: nupkg };
      const submit = async (key: string) => {
        await noScript.locator('#apikey').fill(key);
        await noScript.locator('#package').setInputFiles(file);
        const [response] = await Promise.all([
          noScript.waitForResponse((r) => new URL(r.url()).pathname === '/upload' && r.request().method() === 'POST'),
          noScript.locator('form.upload button[type=submit]').click(),
        ]);
        await noScript.waitForLoadState();
        return response.status();
      };
      await noScript.goto('/upload');
      // The page's script never ran.
      expect(await noScript.locator('html').getAttribute('class')).toBeNull();

      expect(await submit('wrong-key')).toBe(401);
      expect(await noScript.locator('#upload-status.bad').textContent()).toContain('The API key is invalid or has been revoked');
      expect(await noScript.locator('#upload-status a').count()).toBe(0);

      // The form is on the answer page again.
      expect(await submit(KEY)).toBe(201);
      expect(await noScript.locator('#upload-status.ok').textContent()).toContain('Package NoScript.Upload 1.0.0 was pushed.');
      await noScript.locator('#upload-status a', { hasText: 'Open NoScript.Upload 1.0.0' }).click();
      await noScript.waitForURL(/\/packages\/NoScript\.Upload\/1\.0\.0$/);
      expect(await noScript.locator('p.readme').textContent()).toContain('Uploaded without JavaScript.');

      await noScript.goto('/upload');
      expect(await submit(KEY)).toBe(409);
      expect(await noScript.locator('#upload-status.bad').textContent()).toMatch(/NoScript\.Upload 1\.0\.0 already exists/);
    } finally {
      await browser.close();
    }
  }, STEP_TIMEOUT);
});

describe.skipIf(clients.skip)('web UI on a private feed', () => {
  let server: PawketServer;
  beforeAll(async () => {
    server = await startPawket({ env: { PAWKET_API_KEY: KEY, PAWKET_PRIVATE: 'true' } });
  }, 120_000);
  afterAll(async () => server?.stop());

  it('asks for a key (HTTP Basic) for pages but not for the assets', async () => {
    for (const path of ['/', '/packages/Contoso.Widgets', '/feed', '/upload']) {
      const anonymous = await fetch(server.baseUrl + path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
    }
    const basic = `Basic ${Buffer.from(`me:${KEY}`).toString('base64')}`;
    const home = await fetch(`${server.baseUrl}/`, { headers: { authorization: basic } });
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('<form class="search"');
    expect((await fetch(`${server.baseUrl}/ui/app.css`)).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/ui/app.js`)).status).toBe(200);
  });
});

describe.skipIf(clients.skip)('web UI of a second feed', () => {
  let server: PawketServer;
  let dataDir: string;
  let browser: Awaited<ReturnType<typeof chromium.launch>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pawket-ui-feeds-'));
    const backend = await freshBackendSettings();
    const storage = await openStorage(configSchema.parse({ dataDir, ...backend }));
    try {
      await storage.feedDb.createFeed({ name: 'dev', description: 'CI builds', settings: {}, members: null, created: new Date().toISOString() });
    } finally {
      await storage.close();
    }
    const env = Object.fromEntries(Object.entries(backend).map(([k, v]) => [`PAWKET_${k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}`, String(v)]));
    server = await startPawket({ dataDir, env: { ...env, PAWKET_API_KEY: KEY } });
    await push(server, { id: 'Dev.Widget', version: '0.1.0-ci.7', description: 'A nightly build.', extraMetadata: '<tags>nightly</tags>' }, '/f/dev');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: BROWSER_ARGS });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('searches as you type, opens a package and uploads, all under /f/dev/', async () => {
    const page = await (await browser.newContext({ baseURL: server.baseUrl })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!new URL(r.url()).pathname.startsWith('/f/dev/')) outside.push(r.url());
    });

    await page.goto('/f/dev/');
    expect(await page.locator('header .feed-name').textContent()).toBe('dev');
    // The stylesheet loaded (from the feed's own /ui/).
    expect(await page.locator('header.top').evaluate((e) => getComputedStyle(e).borderBottomStyle)).toBe('solid');
    await page.locator('#prerelease').check();
    await page.locator('#q').pressSequentially('nightly', { delay: 20 });
    await expect.poll(() => page.url()).toContain('/f/dev/?q=nightly');
    await page.locator('#results .card h3 a', { hasText: 'Dev.Widget' }).click();
    await page.waitForURL(/\/f\/dev\/packages\/Dev\.Widget$/);
    expect(await page.locator('.pkg-head h1').textContent()).toContain('0.1.0-ci.7');

    await page.goto('/f/dev/upload');
    await page.locator('#package').setInputFiles({
      name: 'Dev.Uploaded.1.0.0.nupkg',
      mimeType: 'application/octet-stream',
      buffer: await buildNupkg({ id: 'Dev.Uploaded', version: '1.0.0' }),
    });
    await page.locator('#apikey').fill(KEY);
    await page.locator('form.upload button[type=submit]').click();
    await expect.poll(() => page.locator('#upload-status').textContent()).toContain('Package Dev.Uploaded 1.0.0 was pushed.');
    expect(await page.locator('#upload-status a').getAttribute('href')).toBe('/f/dev/packages/Dev.Uploaded/1.0.0');
    expect((await fetch(`${server.baseUrl}/f/dev/v3/flatcontainer/dev.uploaded/index.json`)).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/v3/flatcontainer/dev.uploaded/index.json`)).status).toBe(404);

    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  }, STEP_TIMEOUT);
});
