/**
 * The file route readmes' relative images point to: images from inside the package only, with their own type,
 * sandboxed, bounded, and no path out of the package; and the package page pointing its readme at it.
 */
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(32, 1)]);
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script><rect width="10" height="10"/></svg>';
const BASE = '/packages/Contoso.Pictures/1.0.0/files/';

/** A GET with the path sent exactly as written (fetch would resolve `..` segments first). */
function rawGet(url: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  const pkg = await buildNupkg({
    id: 'Contoso.Pictures',
    version: '1.0.0',
    extraMetadata: '<readme>docs/README.md</readme>',
    files: [
      { name: 'docs/README.md', data: '# Pictures\n\n![logo](images/logo.png) <img src="../art/drawing.svg"> ![gone](../../x.png)\n\n[guide](guide.md)' },
      { name: 'docs/images/logo.png', data: PNG },
      { name: 'docs/images/my logo.png', data: PNG },
      { name: 'art/drawing.svg', data: SVG },
      { name: 'art/fake.png', data: '<html><script>alert(1)</script></html>' },
      // Random bytes do not compress: over the 4 MiB cap for images, compressed or not.
      { name: 'art/huge.png', data: Buffer.concat([PNG, randomBytes(4 * 1024 * 1024)]) },
      { name: 'secret.txt', data: 'not an image' },
    ],
  });
  expect((await pushRaw(server.url, pkg)).status).toBe(201);
}, 60_000);

afterAll(async () => server?.close());

describe('package file route', () => {
  it('serves a PNG from inside the package, as an image, sandboxed', async () => {
    const res = await fetch(`${server.url}${BASE}docs/images/logo.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    // Percent-encoded names, and the version in any form NuGet accepts.
    expect((await fetch(`${server.url}${BASE}docs/images/my%20logo.png`)).status).toBe(200);
    expect((await fetch(`${server.url}/packages/contoso.pictures/1.0/files/docs/images/logo.png`)).status).toBe(200);
  });

  it('serves SVG as image/svg+xml with a sandboxing CSP that forbids scripts', async () => {
    const res = await fetch(`${server.url}${BASE}art/drawing.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('sandbox');
    expect(csp).not.toContain('script-src');
  });

  it.each([
    ['a file that is not an image', 'secret.txt'],
    ['the nuspec', 'Contoso.Pictures.nuspec'],
    ['the readme', 'docs/README.md'],
    ['a missing image', 'docs/images/none.png'],
    ['HTML named .png', 'art/fake.png'],
    ['an image over the size cap', 'art/huge.png'],
    ['a folder', 'docs/images/'],
  ])('answers 404 for %s', async (_what, path) => {
    const res = await fetch(`${server.url}${BASE}${path}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).not.toMatch(/^image\//);
  });

  it.each([
    `${BASE}../../../../../etc/passwd.png`,
    `${BASE}%2e%2e/%2e%2e/x.png`,
    `${BASE}docs/..%2f..%2f..%2fx.png`,
    `${BASE}..%5c..%5cx.png`,
    `${BASE}/etc/hostname.png`,
  ])('never leaves the package: %s', async (path) => {
    const res = await rawGet(server.url, path);
    expect(res.status).toBe(404);
    expect(String(res.headers['content-type'])).not.toMatch(/^image\//);
  });

  it('normalizes paths that stay inside the package', async () => {
    const res = await rawGet(server.url, `${BASE}art/../docs/./images/logo.png`);
    expect(res.status).toBe(200);
    expect(res.body.equals(PNG)).toBe(true);
  });

  it('answers 404 for unknown packages and versions', async () => {
    expect((await fetch(`${server.url}/packages/No.Such/1.0.0/files/logo.png`)).status).toBe(404);
    expect((await fetch(`${server.url}/packages/Contoso.Pictures/9.0.0/files/docs/images/logo.png`)).status).toBe(404);
  });

  it('points the readme on the package page at the route, relative to the readme', async () => {
    const page = await (await fetch(`${server.url}/packages/Contoso.Pictures/1.0.0`)).text();
    const sources = [...page.matchAll(/<img [^>]*?src="([^"]+)"/g)].map((m) => m[1]).filter((s) => s!.includes('/files/'));
    expect(sources).toEqual([`${BASE}docs/images/logo.png`, `${BASE}art/drawing.svg`]);
    for (const src of sources) expect((await fetch(server.url + src!)).status, src).toBe(200);
    // The escaping image and the link without a repository lose their URLs instead of breaking.
    expect(page).toContain('<img alt="gone" loading="lazy" />');
    expect(page).toContain('<a rel="nofollow ugc noopener noreferrer">guide</a>');
  });
});
