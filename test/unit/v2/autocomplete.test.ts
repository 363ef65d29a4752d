/**
 * V2 autocomplete (`package-ids`, `package-versions/{id}`) over HTTP, with the requests NuGet.Protocol's
 * AutoCompleteResourceV2Feed sends: listed versions only, prerelease and SemVer 2.0.0 filters, at most 30 ids, and a
 * key on a private feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

let server: TestServer;

async function json(path: string): Promise<unknown> {
  const r = await fetch(server.url + path);
  expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  return r.json();
}

async function push(id: string, version: string): Promise<void> {
  expect((await pushRaw(server.url, await buildNupkg({ id, version }))).status).toBe(201);
}

beforeAll(async () => {
  server = await startTestServer();
  for (const version of ['1.0.0', '1.1.0', '2.0.0-beta', '2.1.0-rc.1', '3.0.0+build.5']) await push('Contoso.Json', version);
  await push('Contoso.Core', '1.0.0');
  await push('Contoso.Preview', '0.1.0-alpha');
  await push('Contoso.Gone', '1.0.0');
  await push('Fabrikam.Contoso.Bridge', '1.0.0');
  await push('Fabrikam.SemVer2', '1.0.0+meta');
  // Unlisting: the only version of Contoso.Gone, and Contoso.Json 1.1.0.
  for (const [id, version] of [['Contoso.Gone', '1.0.0'], ['Contoso.Json', '1.1.0']] as const) {
    const r = await fetch(`${server.url}/api/v2/package/${id}/${version}`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect(r.status).toBe(200);
  }
});

afterAll(async () => {
  await server?.close();
});

describe('GET /api/v2/package-ids', () => {
  it('answers the ids starting with the text, then those with a word starting with it, as a JSON array', async () => {
    expect(await json('/api/v2/package-ids?partialId=contoso&includePrerelease=False&semVerLevel=2.0.0')).toEqual([
      'Contoso.Core',
      'Contoso.Json',
      'Fabrikam.Contoso.Bridge',
    ]);
  });

  it('includes ids that have only prerelease versions when includePrerelease is true', async () => {
    const ids = await json('/api/v2/package-ids?partialId=Contoso.&includePrerelease=True&semVerLevel=2.0.0');
    expect(ids).toEqual(['Contoso.Core', 'Contoso.Json', 'Contoso.Preview', 'Fabrikam.Contoso.Bridge']);
  });

  it('hides ids whose versions are all SemVer 2.0.0 unless semVerLevel says 2.0.0', async () => {
    expect(await json('/api/v2/package-ids?partialId=fabrikam.s&includePrerelease=false')).toEqual([]);
    expect(await json('/api/v2/package-ids?partialId=fabrikam.s&includePrerelease=false&semVerLevel=2.0.0')).toEqual(['Fabrikam.SemVer2']);
  });

  it('never offers an id whose versions are all unlisted', async () => {
    expect(await json('/api/v2/package-ids?partialId=Contoso.G&includePrerelease=true&semVerLevel=2.0.0')).toEqual([]);
  });

  it('lists ids without a partialId, and takes parameter names in any case', async () => {
    const ids = (await json('/api/v2/package-ids?PARTIALID=&INCLUDEPRERELEASE=true&SEMVERLEVEL=2.0.0')) as string[];
    expect([...ids].sort()).toEqual(['Contoso.Core', 'Contoso.Json', 'Contoso.Preview', 'Fabrikam.Contoso.Bridge', 'Fabrikam.SemVer2']);
    expect(await json('/api/v2/package-ids')).toEqual(expect.arrayContaining(['Contoso.Core', 'Contoso.Json']));
  });

  it('refuses an includePrerelease that is not a boolean', async () => {
    const r = await fetch(`${server.url}/api/v2/package-ids?partialId=a&includePrerelease=maybe`);
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/includePrerelease parameter must be true or false/);
  });
});

describe('GET /api/v2/package-versions/{id}', () => {
  it('answers the listed stable versions, ascending', async () => {
    expect(await json('/api/v2/package-versions/Contoso.Json?includePrerelease=False&semVerLevel=2.0.0')).toEqual(['1.0.0', '3.0.0+build.5']);
  });

  it('adds prerelease versions when asked, and SemVer 2.0.0 ones only with semVerLevel=2.0.0', async () => {
    expect(await json('/api/v2/package-versions/contoso.json?includePrerelease=True&semVerLevel=2.0.0')).toEqual([
      '1.0.0',
      '2.0.0-beta',
      '2.1.0-rc.1',
      '3.0.0+build.5',
    ]);
    expect(await json('/api/v2/package-versions/Contoso.Json?includePrerelease=true')).toEqual(['1.0.0', '2.0.0-beta']);
  });

  it('answers an empty array for an unknown id or one with only unlisted versions', async () => {
    expect(await json('/api/v2/package-versions/No.Such.Package?includePrerelease=true&semVerLevel=2.0.0')).toEqual([]);
    expect(await json('/api/v2/package-versions/Contoso.Gone?includePrerelease=true&semVerLevel=2.0.0')).toEqual([]);
  });
});

describe('V2 autocomplete bounds and access', () => {
  it('answers at most 30 ids, as nuget.org does', async () => {
    const many = await startTestServer();
    try {
      for (let i = 0; i < 35; i++) expect((await pushRaw(many.url, await buildNupkg({ id: `Many.Ids${i}`, version: '1.0.0' }))).status).toBe(201);
      const r = await fetch(`${many.url}/api/v2/package-ids?partialId=many&includePrerelease=false&semVerLevel=2.0.0`);
      expect(((await r.json()) as string[]).length).toBe(30);
    } finally {
      await many.close();
    }
  });

  it('needs a key on a private feed, as every V2 read does', async () => {
    const closed = await startTestServer({ private: true, badKeyLimit: 0 });
    try {
      expect((await pushRaw(closed.url, await buildNupkg({ id: 'Secret.Lib', version: '1.0.0' }))).status).toBe(201);
      for (const path of ['/api/v2/package-ids?partialId=secret', '/api/v2/package-versions/Secret.Lib']) {
        const anonymous = await fetch(closed.url + path);
        expect(anonymous.status, path).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic/);
        const basic = `Basic ${Buffer.from(`user:${TEST_KEY}`).toString('base64')}`;
        const authorized = await fetch(closed.url + path, { headers: { authorization: basic } });
        expect(authorized.status, path).toBe(200);
      }
      const basic = `Basic ${Buffer.from(`user:${TEST_KEY}`).toString('base64')}`;
      const ids = await fetch(`${closed.url}/api/v2/package-ids?partialId=secret`, { headers: { authorization: basic } });
      expect(await ids.json()).toEqual(['Secret.Lib']);
    } finally {
      await closed.close();
    }
  });
});
