/**
 * A version's own icon and readme: served from the flat container beside the .nupkg (`{id}/{version}/icon`,
 * `…/readme`, as nuget.org serves them), advertised through `ReadmeUriTemplate/6.13.0`, and pointed at by the icon
 * URL of registration, search and V2 entries; legacy `<iconUrl>`s and upstream URLs kept as they are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

/** Bytes that start as a PNG does (the server recognises icons by their signature). */
const ICON = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really pixels')]);
const README = '# Contoso Icons\n\nIcons for **everyone**.\n';
const LEGACY = 'https://example.org/legacy.png';

const PACKAGES = [
  // Both an icon and a legacy iconUrl: the icon wins, as on nuget.org. Paths as nuspecs write them.
  buildNupkg({
    id: 'Contoso.Icons',
    version: '1.0.0',
    extraMetadata: `<icon>images\\icon.png</icon><iconUrl>${LEGACY}</iconUrl><readme>./docs/README.md</readme>`,
    files: [
      { name: 'images/icon.png', data: ICON },
      { name: 'docs/README.md', data: README },
    ],
  }),
  buildNupkg({ id: 'Contoso.Icons', version: '2.0.0-beta.1+build.5', extraMetadata: '<icon>icon.png</icon>', files: [{ name: 'icon.png', data: ICON }] }),
  buildNupkg({ id: 'Contoso.Legacy', version: '1.0.0', extraMetadata: `<iconUrl>${LEGACY}</iconUrl>` }),
  buildNupkg({ id: 'Contoso.Plain', version: '1.0.0' }),
  buildNupkg({ id: 'Contoso.Fake', version: '1.0.0', extraMetadata: '<icon>icon.png</icon>', files: [{ name: 'icon.png', data: '<html>not an image</html>' }] }),
  buildNupkg({
    id: 'Contoso.Huge',
    version: '1.0.0',
    extraMetadata: '<readme>README.md</readme>',
    files: [{ name: 'README.md', data: `# big\n${'x'.repeat(1024 * 1024 + 10)}` }],
  }),
];

describe('icons and readmes inside packages', () => {
  let server: TestServer;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });
  const json = async (path: string) => (await get(path)).json() as Promise<any>;
  const flat = () => `${server.url}/v3/flatcontainer/`;

  beforeAll(async () => {
    server = await startTestServer();
    for (const p of PACKAGES) expect((await pushRaw(server.url, await p)).status).toBe(201);
  });
  afterAll(() => server?.close());

  it('advertises ReadmeUriTemplate/6.13.0 with the flat container readme URL', async () => {
    const index = await json('/v3/index.json');
    const readme = index.resources.filter((r: any) => r['@type'] === 'ReadmeUriTemplate/6.13.0');
    expect(readme).toHaveLength(1);
    expect(readme[0]['@id']).toBe(`${flat()}{lower_id}/{lower_version}/readme`);
  });

  it('serves the icon from the flat container, typed by its bytes, with the cache headers of package files', async () => {
    for (const path of ['contoso.icons/1.0.0/icon', 'Contoso.Icons/1.0/ICON', 'contoso.icons/2.0.0-beta.1/icon']) {
      const res = await get(`/v3/flatcontainer/${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('cache-control')).toMatch(/immutable/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(Buffer.from(await res.arrayBuffer()).equals(ICON)).toBe(true);
    }
    const first = await get('/v3/flatcontainer/contoso.icons/1.0.0/icon');
    const again = await get('/v3/flatcontainer/contoso.icons/1.0.0/icon', { 'if-none-match': first.headers.get('etag')! });
    expect(again.status).toBe(304);
  });

  it('serves the readme from the flat container as Markdown', async () => {
    const res = await get('/v3/flatcontainer/contoso.icons/1.0.0/readme');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(res.headers.get('cache-control')).toMatch(/immutable/);
    expect(await res.text()).toBe(README);
  });

  it('answers 404 for versions without one, unknown versions, icons that are no image and files over the cap', async () => {
    for (const path of [
      'contoso.plain/1.0.0/icon',
      'contoso.plain/1.0.0/readme',
      'contoso.legacy/1.0.0/icon',
      'contoso.icons/2.0.0-beta.1/readme',
      'contoso.icons/9.9.9/icon',
      'contoso.none/1.0.0/readme',
      'contoso.fake/1.0.0/icon',
      'contoso.huge/1.0.0/readme',
    ]) {
      const res = await get(`/v3/flatcontainer/${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('cache-control'), path).toBeNull();
    }
  });

  it('answers icons and readmes after the restore fast path has the package in memory', async () => {
    expect((await get('/v3/flatcontainer/contoso.icons/1.0.0/contoso.icons.1.0.0.nupkg')).status).toBe(200);
    expect((await get('/v3/flatcontainer/contoso.icons/1.0.0/contoso.icons.1.0.0.nupkg')).status).toBe(200);
    expect((await get('/v3/flatcontainer/contoso.icons/1.0.0/icon')).headers.get('content-type')).toBe('image/png');
    expect(await (await get('/v3/flatcontainer/contoso.icons/1.0.0/readme')).text()).toBe(README);
  });

  it('points registration at the served icon and readme in every hive; legacy icon URLs stay', async () => {
    for (const hive of ['registration', 'registration-gz', 'registration-gz-semver2']) {
      const entries = async (lid: string) =>
        (await json(`/v3/${hive}/${lid}/index.json`)).items.flatMap((p: any) => p.items.map((i: any) => i.catalogEntry));
      const [icons] = await entries('contoso.icons');
      expect(icons.iconUrl, hive).toBe(`${flat()}contoso.icons/1.0.0/icon`);
      expect(icons.readmeUrl, hive).toBe(`${flat()}contoso.icons/1.0.0/readme`);
      const [legacy] = await entries('contoso.legacy');
      expect(legacy.iconUrl).toBe(LEGACY);
      expect(legacy).not.toHaveProperty('readmeUrl');
      const [plain] = await entries('contoso.plain');
      expect(plain.iconUrl).toBe('');
    }
    const semVer2 = (await json('/v3/registration-gz-semver2/contoso.icons/index.json')).items[0].items[1].catalogEntry;
    expect(semVer2.iconUrl).toBe(`${flat()}contoso.icons/2.0.0-beta.1/icon`);
    expect(semVer2).not.toHaveProperty('readmeUrl');
  });

  it('points search results at the served icon of the version shown', async () => {
    const icons = async (query: string) =>
      Object.fromEntries((await json(`/v3/search?q=${query}&prerelease=true&semVerLevel=2.0.0`)).data.map((d: any) => [d.id, d.iconUrl]));
    expect(await icons('contoso')).toMatchObject({
      'Contoso.Icons': `${flat()}contoso.icons/2.0.0-beta.1/icon`,
      'Contoso.Legacy': LEGACY,
      'Contoso.Plain': undefined,
    });
    expect((await json('/v3/search?q=contoso.icons')).data[0].iconUrl).toBe(`${flat()}contoso.icons/1.0.0/icon`);
  });

  it('shows the same icon on the web pages, and the default icon for one that is no image', async () => {
    const page = await get('/packages/Contoso.Icons/1.0.0/icon');
    expect(page.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await page.arrayBuffer()).equals(ICON)).toBe(true);
    expect((await get('/packages/Contoso.Fake/1.0.0/icon')).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('points the V2 IconUrl at the served icon', async () => {
    const entry = async (id: string) => (await get(`/api/v2/Packages(Id='${id}',Version='1.0.0')`)).text();
    expect(await entry('Contoso.Icons')).toContain(`<d:IconUrl>${flat()}contoso.icons/1.0.0/icon</d:IconUrl>`);
    expect(await entry('Contoso.Legacy')).toContain(`<d:IconUrl>${LEGACY}</d:IconUrl>`);
    expect(await entry('Contoso.Plain')).toContain('<d:IconUrl m:null="true"');
    const selected = await (await get(`/api/v2/FindPackagesById()?id='Contoso.Icons'&$select=Id,IconUrl`)).text();
    expect(selected).toContain(`<d:IconUrl>${flat()}contoso.icons/1.0.0/icon</d:IconUrl>`);
  });

});

describe('icons of versions from an upstream', () => {
  let origin: TestServer;
  let proxy: TestServer;
  const get = (s: TestServer, path: string) => fetch(`${s.url}${path}`);
  const entry = async (s: TestServer) => ((await (await get(s, '/v3/registration/up.icons/index.json')).json()) as any).items[0].items[0].catalogEntry;

  beforeAll(async () => {
    origin = await startTestServer();
    const pkg = buildNupkg({
      id: 'Up.Icons',
      version: '1.0.0',
      extraMetadata: '<icon>icon.png</icon><readme>README.md</readme>',
      files: [
        { name: 'icon.png', data: ICON },
        { name: 'README.md', data: README },
      ],
    });
    expect((await pushRaw(origin.url, await pkg)).status).toBe(201);
    proxy = await startTestServer({ upstreams: [{ url: `${origin.url}/v3/index.json`, timeoutMs: 2_000, metadataTtlSeconds: 1 }] });
  });
  afterAll(async () => {
    await proxy?.close();
    await origin?.close();
  });

  it("keep the upstream's icon URL until mirrored, then point at the copy this feed stores", async () => {
    expect((await entry(proxy)).iconUrl).toBe(`${origin.url}/v3/flatcontainer/up.icons/1.0.0/icon`);
    // Not fetched from the upstream for its icon or readme alone.
    expect((await get(proxy, '/v3/flatcontainer/up.icons/1.0.0/icon')).status).toBe(404);
    expect(await proxy.feed.db.getPackage('up.icons', '1.0.0')).toBeNull();

    expect((await get(proxy, '/v3/flatcontainer/up.icons/1.0.0/up.icons.1.0.0.nupkg')).status).toBe(200);
    const mirrored = await entry(proxy);
    expect(mirrored.iconUrl).toBe(`${proxy.url}/v3/flatcontainer/up.icons/1.0.0/icon`);
    expect(mirrored.readmeUrl).toBe(`${proxy.url}/v3/flatcontainer/up.icons/1.0.0/readme`);
    const icon = await get(proxy, '/v3/flatcontainer/up.icons/1.0.0/icon');
    expect(Buffer.from(await icon.arrayBuffer()).equals(ICON)).toBe(true);
    expect(await (await get(proxy, '/v3/flatcontainer/up.icons/1.0.0/readme')).text()).toBe(README);
  });
});
