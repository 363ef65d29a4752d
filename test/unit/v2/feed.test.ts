/**
 * The V2 (OData) feed over HTTP on a loopback server: documents, queries, visibility rules, paging and the push,
 * delete and download routes V2 clients use. Runs on the suite's backend (SQLite, or PostgreSQL + S3).
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, trimValues: false });

interface Entry {
  id: string;
  version: string;
  props: Record<string, string | { '#text'?: string; '@null'?: string; '@type'?: string }>;
  src: string;
}

/** Reads a feed (or a single entry) into entries with their properties as text. */
function entriesOf(xml: string): { entries: Entry[]; next: string | undefined; count: string | undefined } {
  const doc = parser.parse(xml) as Record<string, any>;
  const feed = doc.feed ?? { entry: doc.entry };
  const list: any[] = feed.entry === undefined ? [] : Array.isArray(feed.entry) ? feed.entry : [feed.entry];
  const links: any[] = feed.link === undefined ? [] : Array.isArray(feed.link) ? feed.link : [feed.link];
  return {
    entries: list.map((e) => ({
      id: text(e.properties.Id),
      version: text(e.properties.Version),
      props: e.properties,
      src: e.content['@src'],
    })),
    next: links.find((l) => l['@rel'] === 'next')?.['@href'],
    count: feed.count === undefined ? undefined : text(feed.count),
  };
}

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return (v as { '#text'?: string })['#text'] ?? '';
  return String(v);
}

const prop = (e: Entry, name: string) => text(e.props[name]);
const ids = (es: Entry[]) => es.map((e) => `${e.id} ${e.version}`);

describe('the V2 feed', () => {
  let server: TestServer;

  async function get(path: string): Promise<{ status: number; body: string; type: string }> {
    const r = await fetch(server.url + path);
    return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
  }

  async function feed(path: string) {
    const r = await get(path);
    expect(r.status, `${path}: ${r.body}`).toBe(200);
    return entriesOf(r.body);
  }

  beforeAll(async () => {
    server = await startTestServer();
    const push = async (o: Parameters<typeof buildNupkg>[0]) => expect((await pushRaw(server.url, await buildNupkg(o))).status).toBe(201);
    for (const version of ['1.0.0', '1.1.0', '2.0.0-beta', '2.0.0-rc.1']) {
      await push({
        id: 'Contoso.Json',
        version,
        description: 'Json &lt;tools&gt; &amp; "more"',
        extraMetadata: '<tags>json serializer</tags><title>Contoso Json</title><summary>Fast json</summary><licenseUrl>https://example.test/license</licenseUrl>',
        dependencies: { net8: [['Contoso.Core', '1.0']], netstandard2: [] },
      });
    }
    await push({ id: 'Contoso.Core', version: '1.0.0' });
    await push({ id: 'Contoso.Core', version: '1.0.1+build.7' });
    await push({ id: 'Other.Thing', version: '3.0.0', extraMetadata: '<tags>PSModule</tags>' });
    // 1.1.0 unlisted: stable latest is 1.0.0
    const del = await fetch(`${server.url}/api/v2/package/Contoso.Json/1.1.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(del.status).toBe(200);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('serves the service document and $metadata, which declare what clients look for', async () => {
    for (const path of ['/api/v2', '/api/v2/']) {
      const r = await get(path);
      expect(r.status).toBe(200);
      expect(r.body).toContain('<collection href="Packages">');
      expect(r.body).toContain(`xml:base="${server.url}/api/v2/"`);
    }
    const meta = await get('/api/v2/$metadata');
    expect(meta.status).toBe(200);
    // NuGet.Client uses Search() only when declared, IsAbsoluteLatestVersion only when the entity has it
    expect(meta.body).toContain('<FunctionImport Name="Search"');
    expect(meta.body).toContain('<Property Name="IsAbsoluteLatestVersion" Type="Edm.Boolean"');
    expect(meta.body).toMatch(/<EntityContainer[^>]*><EntitySet Name="Packages"/);
  });

  it('FindPackagesById lists every version, unlisted ones with the 1900 publish date, SemVer 2.0.0 only when asked', async () => {
    const plain = await feed("/api/v2/FindPackagesById()?id='contoso.json'");
    expect(ids(plain.entries)).toEqual(['Contoso.Json 1.0.0', 'Contoso.Json 1.1.0', 'Contoso.Json 2.0.0-beta']);
    const unlisted = plain.entries[1]!;
    expect(prop(unlisted, 'Listed')).toBe('false');
    expect(prop(unlisted, 'Published')).toMatch(/^1900-01-01T00:00:00/);
    expect(prop(plain.entries[0]!, 'IsLatestVersion')).toBe('true');
    expect(prop(plain.entries[2]!, 'IsAbsoluteLatestVersion')).toBe('true');

    const semVer2 = await feed("/api/v2/FindPackagesById()?id='Contoso.Json'&semVerLevel=2.0.0");
    expect(ids(semVer2.entries).at(-1)).toBe('Contoso.Json 2.0.0-rc.1');
    expect(prop(semVer2.entries.at(-1)!, 'IsAbsoluteLatestVersion')).toBe('true');
    expect(prop(semVer2.entries[2]!, 'IsAbsoluteLatestVersion')).toBe('false');

    expect((await feed("/api/v2/FindPackagesById()?id='No.Such.Package'")).entries).toEqual([]);
    expect((await get('/api/v2/FindPackagesById()')).status).toBe(400);
  });

  it('writes entries as V2 clients read them, escaping the metadata', async () => {
    const { entries } = await feed("/api/v2/FindPackagesById()?id='Contoso.Json'");
    const e = entries[0]!;
    expect(e.src).toBe(`${server.url}/api/v2/package/Contoso.Json/1.0.0`);
    expect(prop(e, 'Description')).toBe('Json <tools> & "more"');
    expect(prop(e, 'Title')).toBe('Contoso Json');
    expect(prop(e, 'Tags')).toBe(' json serializer ');
    expect(prop(e, 'Dependencies')).toBe('Contoso.Core:[1.0.0, ):net8.0|::netstandard2.0');
    expect(prop(e, 'PackageHashAlgorithm')).toBe('SHA512');
    expect(prop(e, 'NormalizedVersion')).toBe('1.0.0');
    expect(e.props.IconUrl).toMatchObject({ '@null': 'true' });
  });

  it('answers Packages(Id,Version) in any case and version form, 404 when unknown', async () => {
    const r = await get("/api/v2/Packages(Id='contoso.json',Version='1.0')");
    expect(r.status).toBe(200);
    expect(r.type).toContain('type=entry');
    expect(ids(entriesOf(r.body).entries)).toEqual(['Contoso.Json 1.0.0']);
    // SemVer 2.0.0 versions answer by key without semVerLevel (the client asked for exactly that version)
    expect(ids(entriesOf((await get("/api/v2/Packages(Id='Contoso.Core',Version='1.0.1')")).body).entries)).toEqual([
      'Contoso.Core 1.0.1+build.7',
    ]);
    expect((await get("/api/v2/Packages(Id='Contoso.Json',Version='9.9.9')")).status).toBe(404);
    expect((await get("/api/v2/Packages(Id='Contoso.Json')")).status).toBe(404);
  });

  it('filters Packages by id and version as Paket asks', async () => {
    for (const filter of [
      "Id eq 'Contoso.Json'",
      "tolower(Id) eq 'contoso.json'",
      "(Id eq 'CONTOSO.JSON') and (NormalizedVersion eq '1.0.0')",
      "(tolower(Id) eq 'contoso.json') and (Version eq '1.0')",
    ]) {
      const { entries } = await feed(`/api/v2/Packages?semVerLevel=2.0.0&$filter=${encodeURIComponent(filter)}`);
      expect(entries.length, filter).toBeGreaterThan(0);
      expect(entries.every((e) => e.id === 'Contoso.Json'), filter).toBe(true);
    }
    const one = await feed(`/api/v2/Packages?$filter=${encodeURIComponent("(Id eq 'Contoso.Json') and (NormalizedVersion eq '1.0.0')")}`);
    expect(ids(one.entries)).toEqual(['Contoso.Json 1.0.0']);
    const newest = await feed(`/api/v2/FindPackagesById()?semVerLevel=2.0.0&id='Contoso.Json'&$orderby=${encodeURIComponent('Published desc')}`);
    expect(newest.entries[0]!.version).toBe('2.0.0-rc.1');
  });

  it('lists latest versions across ids, ordered by id, with counts', async () => {
    const latest = await feed('/api/v2/Packages()?$filter=IsLatestVersion&$orderby=Id&$inlinecount=allpages');
    expect(ids(latest.entries)).toEqual(['Contoso.Core 1.0.0', 'Contoso.Json 1.0.0', 'Other.Thing 3.0.0']);
    expect(latest.count).toBe('3');
    const absolute = await feed('/api/v2/Packages()?$filter=IsAbsoluteLatestVersion&$orderby=Id%20desc&semVerLevel=2.0.0');
    expect(ids(absolute.entries)).toEqual(['Other.Thing 3.0.0', 'Contoso.Json 2.0.0-rc.1', 'Contoso.Core 1.0.1+build.7']);
    expect((await get('/api/v2/Packages()/$count')).body).toBe('5');
    expect((await get('/api/v2/Packages/$count?semVerLevel=2.0.0&$filter=IsLatestVersion')).body).toBe('3');
  });

  it('searches with the search index: terms, prerelease, latest flags, ordering, paging', async () => {
    const stable = await feed("/api/v2/Search()?$filter=IsLatestVersion&searchTerm='json'&targetFramework=''&includePrerelease=false&$skip=0&$top=30&semVerLevel=2.0.0");
    expect(ids(stable.entries)).toEqual(['Contoso.Json 1.0.0']);
    const pre = await feed("/api/v2/Search()?$filter=IsAbsoluteLatestVersion&searchTerm='json'&includePrerelease=true&semVerLevel=2.0.0");
    expect(ids(pre.entries)).toEqual(['Contoso.Json 2.0.0-rc.1']);
    const noSemVer2 = await feed("/api/v2/Search()?$filter=IsAbsoluteLatestVersion&searchTerm='json'&includePrerelease=true");
    expect(ids(noSemVer2.entries)).toEqual(['Contoso.Json 2.0.0-beta']);
    // every listed version allowed (nuget.exe list -AllVersions), unlisted 1.1.0 left out
    const all = await feed("/api/v2/Search()?$orderby=Id&searchTerm='contoso'&includePrerelease=true&semVerLevel=2.0.0");
    expect(ids(all.entries)).toEqual([
      'Contoso.Core 1.0.0',
      'Contoso.Core 1.0.1+build.7',
      'Contoso.Json 1.0.0',
      'Contoso.Json 2.0.0-beta',
      'Contoso.Json 2.0.0-rc.1',
    ]);
    const tagged = await feed(`/api/v2/Search()?$filter=${encodeURIComponent("IsLatestVersion and substringof('PSModule', Tags)")}&searchTerm=''&includePrerelease=false`);
    expect(ids(tagged.entries)).toEqual(['Other.Thing 3.0.0']);
    expect((await get("/api/v2/Search()/$count?searchTerm='contoso'&includePrerelease=true&semVerLevel=2.0.0")).body).toBe('5');

    const page1 = await feed("/api/v2/Search()?$orderby=Id&searchTerm='contoso'&includePrerelease=true&semVerLevel=2.0.0&$skip=0&$top=2");
    expect(ids(page1.entries)).toEqual(['Contoso.Core 1.0.0', 'Contoso.Core 1.0.1+build.7']);
    const page2 = await feed("/api/v2/Search()?$orderby=Id&searchTerm='contoso'&includePrerelease=true&semVerLevel=2.0.0&$skip=2&$top=2");
    expect(ids(page2.entries)).toEqual(['Contoso.Json 1.0.0', 'Contoso.Json 2.0.0-beta']);
  });

  it('pages large answers with next links that clients follow', async () => {
    const seen: string[] = [];
    let url: string | undefined = "/api/v2/FindPackagesById()?id='Contoso.Json'&semVerLevel=2.0.0&$top=3";
    // $top above the page size is served in pages; here the client asks for 3 of 4 and gets them in one page
    const first = await feed(url);
    expect(first.entries).toHaveLength(3);
    expect(first.next).toBeUndefined();
    // many versions: pages of 100 with next links
    for (let i = 0; i < 105; i++) await pushRaw(server.url, await buildNupkg({ id: 'Many.Versions', version: `1.0.${i}` }));
    url = "/api/v2/FindPackagesById()?id='Many.Versions'";
    while (url) {
      const page = await feed(url.startsWith('http') ? url.slice(server.url.length) : url);
      seen.push(...page.entries.map((e) => e.version));
      url = page.next;
      if (url) expect(url.startsWith(`${server.url}/api/v2/FindPackagesById()?`)).toBe(true);
    }
    expect(seen).toHaveLength(105);
    expect(new Set(seen).size).toBe(105);
    expect(seen[0]).toBe('1.0.0');
    expect(seen.at(-1)).toBe('1.0.104');
  });

  it('answers GetUpdates with the newest newer version, or all of them', async () => {
    const newest = await feed("/api/v2/GetUpdates()?packageIds='Contoso.Json|Contoso.Core'&versions='1.0.0|1.0.0'&includePrerelease=true&includeAllVersions=false&targetFrameworks=''&versionConstraints='|'&semVerLevel=2.0.0");
    expect(ids(newest.entries).sort()).toEqual(['Contoso.Core 1.0.1+build.7', 'Contoso.Json 2.0.0-rc.1']);
    const stableOnly = await feed("/api/v2/GetUpdates()?packageIds='Contoso.Json'&versions='1.0.0'&includePrerelease=false&includeAllVersions=true");
    expect(ids(stableOnly.entries)).toEqual([]); // 1.1.0 is unlisted
    const constrained = await feed("/api/v2/GetUpdates()?packageIds='Contoso.Json'&versions='0.1'&includePrerelease=true&includeAllVersions=true&versionConstraints='[1.0,2.0)'");
    // NuGet ranges: 2.0.0-beta is below 2.0.0, so inside [1.0,2.0); rc.1 is SemVer 2.0.0, hidden without semVerLevel
    expect(ids(constrained.entries)).toEqual(['Contoso.Json 1.0.0', 'Contoso.Json 2.0.0-beta']);
    expect((await get("/api/v2/GetUpdates()?packageIds='a|b'&versions='1.0'")).status).toBe(400);
  });

  it('returns only the selected properties with $select', async () => {
    const { entries } = await feed("/api/v2/FindPackagesById()?id='Contoso.Core'&$select=Id,Version");
    expect(Object.keys(entries[0]!.props).sort()).toEqual(['Id', 'Version']);
  });

  it('refuses unknown properties, functions and malformed options with 400', async () => {
    for (const path of [
      "/api/v2/Packages()?$filter=Nope eq 'x'",
      '/api/v2/Packages()?$filter=frob(Id)',
      '/api/v2/Packages()?$orderby=Nope',
      '/api/v2/Packages()?$top=-1',
      "/api/v2/Search()?searchTerm='x'&includePrerelease=maybe",
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.body.length, path).toBeGreaterThan(10);
    }
    expect((await get('/api/v2/Nothing()')).status).toBe(404);
  });

  it('downloads from the V2 URL (unlisted versions too), counting the download', async () => {
    const r = await fetch(`${server.url}/api/v2/package/contoso.json/1.1.0`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(100);
    expect((await fetch(`${server.url}/api/v2/package/contoso.json/7.0.0`)).status).toBe(404);
    await server.app.pawketSearch.downloads.flush();
    const { entries } = await feed("/api/v2/Packages(Id='Contoso.Json',Version='1.1.0')");
    expect(prop(entries[0]!, 'VersionDownloadCount')).toBe('1');
  });

  it('takes pushes at the feed root and deletes below it, as V2 clients send them', async () => {
    const nupkg = await buildNupkg({ id: 'Root.Pushed', version: '1.0.0' });
    const push = await fetch(`${server.url}/api/v2/`, {
      method: 'PUT',
      body: new Uint8Array(nupkg),
      headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': TEST_KEY },
    });
    expect(push.status).toBe(201);
    expect((await feed("/api/v2/FindPackagesById()?id='Root.Pushed'")).entries).toHaveLength(1);
    const noKey = await fetch(`${server.url}/api/v2/Root.Pushed/1.0.0`, { method: 'DELETE' });
    expect(noKey.status).toBe(401);
    const del = await fetch(`${server.url}/api/v2/Root.Pushed/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(del.status).toBe(200);
    const [entry] = (await feed("/api/v2/FindPackagesById()?id='Root.Pushed'")).entries;
    expect(prop(entry!, 'Listed')).toBe('false');
  });
});

describe('the V2 feed of a private feed', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ private: true });
    expect((await pushRaw(server.url, await buildNupkg({ id: 'Secret.Thing', version: '1.0.0' }))).status).toBe(201);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('keeps the root and $metadata anonymous (clients read them before sending credentials)', async () => {
    for (const path of ['/api/v2', '/api/v2/', '/api/v2/$metadata']) expect((await fetch(server.url + path)).status, path).toBe(200);
  });

  it('asks for a key everywhere else, and answers with one as Basic auth password', async () => {
    for (const path of ["/api/v2/FindPackagesById()?id='Secret.Thing'", '/api/v2/Packages()', '/api/v2/package/Secret.Thing/1.0.0']) {
      const r = await fetch(server.url + path);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate'), path).toMatch(/^Basic/);
    }
    const basic = `Basic ${Buffer.from(`user:${TEST_KEY}`).toString('base64')}`;
    const r = await fetch(`${server.url}/api/v2/FindPackagesById()?id='Secret.Thing'`, { headers: { authorization: basic } });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<d:Id>Secret.Thing</d:Id>');
  });
});
