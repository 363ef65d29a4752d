/**
 * The web UI of a feed other than the default one, at `/f/{name}/`: its own packages only, and every link, asset,
 * form and script call under its prefix; the default feed's pages stay at `/`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

const README = '# Dev.Only\n\n![logo](images/logo.svg)\n';
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/></svg>';

/** Every URL a page points to: href, src, action, and the version selector's option values. */
function linksOf(page: string): string[] {
  const links = [...page.matchAll(/\b(?:href|src|action)="([^"]*)"/g)].map((m) => m[1]!);
  const options = [...page.matchAll(/<option value="(\/[^"]*)"/g)].map((m) => m[1]!);
  return [...links, ...options].map((l) => l.replaceAll('&amp;', '&'));
}

/** Links that leave the feed's pages on purpose: in-page anchors and other sites. */
const isExternalOrAnchor = (link: string) => link.startsWith('#') || /^https?:\/\//.test(link);

describe('the web UI of a second feed', () => {
  let server: TestServer;
  const page = async (path: string, status = 200) => {
    const res = await fetch(`${server.url}${path}`);
    expect(res.status, path).toBe(status);
    return res.text();
  };

  beforeAll(async () => {
    server = await startTestServer();
    await server.feed.hub.feedDb.createFeed({ name: 'dev', description: 'CI builds', settings: {}, members: null, created: new Date().toISOString() });
    await server.feed.hub.reloadDefinitions();
    const pkg = await buildNupkg({
      id: 'Dev.Only',
      version: '1.0.0',
      extraMetadata: '<tags>ci nightly</tags><readme>docs/README.md</readme>',
      dependencies: { '': [['Other.Lib', '[1.0.0, )']] },
      files: [
        { name: 'docs/README.md', data: README },
        { name: 'docs/images/logo.svg', data: LOGO },
      ],
    });
    expect((await pushRaw(`${server.url}/f/dev`, pkg)).status).toBe(201);
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Default.Only', version: '1.0.0' }))).status).toBe(201);
  });
  afterAll(() => server?.close());

  it('lists and shows the package under /f/dev/, with every link under /f/dev/ and each of them answering', async () => {
    const search = await page('/f/dev/');
    const found = await page('/f/dev/?q=Dev.Only');
    const tagged = await page('/f/dev/?q=tags%3Anightly');
    const details = await page('/f/dev/packages/Dev.Only');
    for (const p of [search, found, tagged]) {
      expect(p).toContain('<a href="/f/dev/packages/Dev.Only">Dev.Only</a>');
      expect(p).not.toContain('Default.Only');
    }
    expect(details).toContain('<h1>Dev.Only <span class="muted">1.0.0</span></h1>');
    // The readme's image is served from inside the package, under the feed's prefix.
    expect(details).toContain('src="/f/dev/packages/Dev.Only/1.0.0/files/docs/images/logo.svg"');

    const pages = [search, found, details, await page('/f/dev/upload'), await page('/f/dev/feed'), await page('/f/dev/packages/No.Such', 404)];
    const local = new Set<string>();
    for (const p of pages) {
      expect(p).toContain('<body data-feed-path="/f/dev">');
      expect(p).toContain('<span class="feed-name" title="Feed">dev</span>');
      for (const link of linksOf(p)) {
        if (isExternalOrAnchor(link)) continue;
        // Signing in is the server's, not a feed's: it comes back to this feed's page.
        if (link.startsWith('/signin?')) {
          expect(decodeURIComponent(link.slice('/signin?returnTo='.length))).toMatch(/^\/f\/dev\//);
          continue;
        }
        expect(link).toMatch(/^\/f\/dev\//);
        local.add(link);
      }
    }
    expect([...local]).toEqual(
      expect.arrayContaining(['/f/dev/', '/f/dev/upload', '/f/dev/feed', '/f/dev/v3/index.json', '/f/dev/packages/Other.Lib', '/f/dev/?q=tags%3Aci']),
    );
    expect([...local].filter((l) => l.startsWith('/f/dev/ui/'))).toHaveLength(3);
    for (const link of local) {
      // Other.Lib is a dependency this feed does not have: its page is a 404 page of this feed.
      const res = await fetch(`${server.url}${link}`);
      await res.arrayBuffer();
      expect(res.status, link).toBe(link === '/f/dev/packages/Other.Lib' ? 404 : 200);
    }
  });

  it('leaves the default feed as it was: not showing the second feed\'s packages, links at /', async () => {
    const home = await page('/');
    expect(home).toContain('Default.Only');
    expect(home).not.toContain('Dev.Only');
    await page('/packages/Dev.Only', 404);
    expect(home).toContain('<body>');
    expect(home).not.toContain('feed-name');
    expect(home).toContain('<footer>Pawket NuGet feed · <a href="/v3/index.json">/v3/index.json</a></footer>');
    for (const link of linksOf(home)) if (!isExternalOrAnchor(link)) expect(link).not.toMatch(/^\/f\//);
    expect(await page('/feed')).toContain('<h1>Connect to this feed</h1>');
  });

  it("shows the feed's own URLs on its Connect page", async () => {
    const connect = await page('/f/dev/feed');
    const feedUrl = `${server.url}/f/dev/v3/index.json`;
    expect(connect).toContain('<h1>Connect to feed dev</h1>');
    expect(connect).toContain(`<code id="feed-url">${feedUrl}</code>`);
    expect(connect).toContain(`<code>${server.url}/f/dev/api/v2/</code>`);
    expect(connect).toContain(`<code>${server.url}/f/dev/download/symbols/</code>`);
    expect(connect).toContain(`dotnet nuget push My.Package.1.0.0.nupkg --source ${feedUrl} --api-key YOUR-API-KEY`);
    expect(connect).toContain(`dotnet nuget add source ${feedUrl} --name Pawket-dev`);
    expect(connect).toContain('<strong>1</strong> packages');
  });

  it('takes the upload form at /f/dev/upload into the feed, and its script calls the feed\'s APIs', async () => {
    const form = new FormData();
    form.append('apikey', TEST_KEY);
    form.append('package', new Blob([new Uint8Array(await buildNupkg({ id: 'Dev.Form', version: '2.0.0' }))]), 'package.nupkg');
    const res = await fetch(`${server.url}/f/dev/upload`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    const answer = await res.text();
    expect(answer).toContain('<a href="/f/dev/packages/Dev.Form/2.0.0">Open Dev.Form 2.0.0</a>');
    expect(answer).toContain('<form class="upload" action="/f/dev/upload" method="post" enctype="multipart/form-data">');
    await page('/f/dev/packages/Dev.Form/2.0.0');
    await page('/packages/Dev.Form/2.0.0', 404);

    const script = await page('/f/dev/ui/app.js');
    expect(script).toContain("document.body.getAttribute('data-feed-path')");
    expect(script).toContain("x.open('PUT',base+'/api/v2/package')");
    expect(script).toContain("fetch(base+'/v3/search?'");
  });
});
