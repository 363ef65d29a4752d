/**
 * Ranking on a realistic feed (test/unit/search/fixture.ts): the package a user means comes first for the queries
 * people type. Pushed and downloaded through a real server, so the index is built the way production builds it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowerId } from '../../../src/nuget/id.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { FIXTURE, buildFixturePackage } from './fixture.js';

let server: TestServer;

interface Result {
  id: string;
  version: string;
  totalDownloads: number;
}

async function search(q: string, params = '&take=50'): Promise<{ totalHits: number; ids: string[]; data: Result[] }> {
  const res = await fetch(`${server.url}/v3/search?q=${encodeURIComponent(q)}${params}`);
  expect(res.status, await res.clone().text()).toBe(200);
  const body = (await res.json()) as { totalHits: number; data: Result[] };
  return { totalHits: body.totalHits, ids: body.data.map((d) => d.id), data: body.data };
}

async function autocomplete(q: string, take = 10): Promise<string[]> {
  const res = await fetch(`${server.url}/v3/autocomplete?q=${encodeURIComponent(q)}&take=${take}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: string[] }).data;
}

beforeAll(async () => {
  server = await startTestServer();
  const queue = [...FIXTURE];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const res = await pushRaw(server.url, await buildFixturePackage(p));
        if (res.status !== 201) throw new Error(`push of ${p.id} ${p.version}: ${res.status} ${await res.text()}`);
      }
    }),
  );
  for (const p of FIXTURE) {
    const lid = lowerId(p.id);
    for (let i = 0; i < (p.downloads ?? 0); i++) {
      const res = await fetch(`${server.url}/v3/flatcontainer/${lid}/${p.version}/${lid}.${p.version}.nupkg`);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    }
  }
  await server.app.pawketSearch.downloads.flush();
}, 120_000);
afterAll(() => server.close());

describe('exact id first', () => {
  it.each([
    ['newtonsoft.json', 'Newtonsoft.Json'],
    ['Newtonsoft.Json', 'Newtonsoft.Json'],
    ['NEWTONSOFT.JSON', 'Newtonsoft.Json'],
    ['serilog', 'Serilog'],
    ['Serilog.Sinks.Console', 'Serilog.Sinks.Console'],
    ['contoso.data', 'Contoso.Data'],
    ['xunit', 'xunit'],
    ['dotnet-ef', 'dotnet-ef'],
    // the id without separators, or its words with spaces
    ['NewtonsoftJson', 'Newtonsoft.Json'],
    ['newtonsoft json', 'Newtonsoft.Json'],
    ['contoso data', 'Contoso.Data'],
    ['system text json', 'System.Text.Json'],
  ])('%s → %s', async (q, first) => {
    expect((await search(q)).ids[0]).toBe(first);
  });

  it('puts an exact id above more downloaded ids that also match', async () => {
    // Contoso.Data has fewer downloads than Microsoft.Data.SqlClient, but it is the id asked for.
    expect((await search('Contoso.Data')).ids.slice(0, 1)).toEqual(['Contoso.Data']);
    expect((await search('Microsoft.Extensions.Logging')).ids.slice(0, 3)).toEqual([
      'Microsoft.Extensions.Logging',
      'Microsoft.Extensions.Logging.Abstractions',
      'Microsoft.Extensions.Logging.Console',
    ]);
  });
});

describe('id words and prefixes, then text', () => {
  it('json: ids with the word json, most downloaded first, before packages that only mention JSON', async () => {
    const { ids } = await search('json');
    expect(ids.slice(0, 4)).toEqual(['Newtonsoft.Json', 'System.Text.Json', 'Newtonsoft.Json.Bson', 'Contoso.Json']);
    const firstTextOnly = ids.indexOf('Acme.Toolkit'); // title "Json Toolkit", 9 downloads
    const lastIdMatch = Math.max(...ids.map((id, i) => (/json/i.test(id) ? i : -1)));
    expect(firstTextOnly).toBeGreaterThan(lastIdMatch);
    // RestSharp only has "json" in its tags
    expect(ids).toContain('RestSharp');
  });

  it.each([
    ['newton', ['Newtonsoft.Json', 'Newtonsoft.Json.Bson']],
    ['sinks console', ['Serilog.Sinks.Console']],
    ['serilog console', ['Serilog.Sinks.Console']],
    ['sqlclient', ['Microsoft.Data.SqlClient', 'System.Data.SqlClient', 'Contoso.Data.SqlClient']],
    ['dependency injection', ['Microsoft.Extensions.DependencyInjection', 'Microsoft.Extensions.DependencyInjection.Abstractions', 'Contoso.DependencyInjection']],
    ['logging', ['Microsoft.Extensions.Logging', 'Microsoft.Extensions.Logging.Abstractions', 'Serilog.Extensions.Logging']],
    ['storage blobs', ['Azure.Storage.Blobs', 'Contoso.Storage.Blobs']],
    ['redis', ['StackExchange.Redis', 'Contoso.Caching.Redis']],
    ['entity framework', ['Microsoft.EntityFrameworkCore', 'Microsoft.EntityFrameworkCore.SqlServer', 'dotnet-ef']],
  ])('%s → %j first', async (q, expected) => {
    expect((await search(q)).ids.slice(0, expected.length)).toEqual(expected);
  });

  it('serilog: the exact id, then ids starting with it by downloads, then ids with the word elsewhere', async () => {
    const { ids } = await search('serilog');
    expect(ids.slice(0, 5)).toEqual(['Serilog', 'Serilog.Sinks.Console', 'Serilog.Sinks.File', 'Serilog.AspNetCore', 'Serilog.Extensions.Logging']);
    expect(ids).toContain('Contoso.Logging.Serilog');
  });

  it('sql: words inside camel-cased ids count (MySqlConnector, SqlServer)', async () => {
    const { ids } = await search('sql');
    expect(ids.slice(0, 3)).toEqual(['Microsoft.Data.SqlClient', 'System.Data.SqlClient', 'Microsoft.EntityFrameworkCore.SqlServer']);
    expect(ids).toContain('MySqlConnector');
  });

  it('several words: packages with all of them first, only those when there are any', async () => {
    const { ids } = await search('contoso data');
    expect(ids).toEqual(expect.arrayContaining(['Contoso.Data', 'Contoso.Data.SqlClient', 'Contoso.Data.Sqlite', 'Contoso.Data.Postgres']));
    expect(ids).not.toContain('Contoso.Web');
    expect(ids).not.toContain('Fabrikam.Data');
  });

  it('falls back to text fields: titles, tags, summaries, descriptions, authors', async () => {
    expect((await search('excel')).ids).toEqual(['Acme.Reports']); // tags
    expect((await search('mocking')).ids[0]).toBe('Moq'); // tags and description, plural folded
    expect((await search('csv')).ids).toEqual(['CsvHelper', 'Acme.Reports']); // id word first, then summary
    expect((await search('James Newton-King')).ids.slice(0, 2)).toEqual(['Newtonsoft.Json', 'Newtonsoft.Json.Bson']);
  });

  it('is case-insensitive everywhere', async () => {
    expect((await search('SERILOG SINKS')).ids.slice(0, 3)).toEqual((await search('serilog sinks')).ids.slice(0, 3));
    expect((await search('EXCEL')).ids).toEqual(['Acme.Reports']);
  });

  it('corrects typos when nothing matches as written', async () => {
    expect((await search('newtonsfot')).ids[0]).toBe('Newtonsoft.Json');
    expect((await search('serilgo')).ids[0]).toBe('Serilog');
    expect((await search('depndencyinjection')).ids[0]).toBe('Microsoft.Extensions.DependencyInjection');
    // short words are not guessed at
    expect((await search('xqz')).totalHits).toBe(0);
  });
});

describe('query syntax', () => {
  it('id: matches words of the id only; packageid: exactly one id', async () => {
    const byId = await search('id:json');
    expect(byId.ids.every((id) => /json/i.test(id))).toBe(true);
    expect(byId.ids).not.toContain('RestSharp');
    expect((await search('packageid:Serilog')).ids).toEqual(['Serilog']);
    expect((await search('PackageId:serilog.sinks.console')).ids).toEqual(['Serilog.Sinks.Console']);
    expect((await search('packageid:Serilog.Sinks')).totalHits).toBe(0);
  });

  it('title:, tags:, author:, owner:, summary:, description: look in that field only', async () => {
    expect((await search('title:"Json Toolkit"')).ids).toEqual(['Acme.Toolkit']);
    expect((await search('title:toolkit')).ids).toEqual(['Acme.Toolkit']);
    expect((await search('tags:redis')).ids.slice(0, 2)).toEqual(['StackExchange.Redis', 'Contoso.Caching.Redis']);
    expect((await search('tags:redis')).totalHits).toBe(8);
    expect((await search('author:"Jimmy Bogard"')).ids.sort()).toEqual(['AutoMapper', 'MediatR']);
    expect((await search('authors:bogard')).ids.sort()).toEqual(['AutoMapper', 'MediatR']);
    expect((await search('owner:fabrikam')).totalHits).toBe(36);
    expect((await search('summary:csv')).ids).toEqual(['Acme.Reports']);
    expect((await search('description:"dependency injection"')).ids).toEqual([
      'Microsoft.Extensions.DependencyInjection',
      'Microsoft.Extensions.DependencyInjection.Abstractions',
      'Acme.Widgets',
    ]);
  });

  it('version: matches the version shown (normalized)', async () => {
    expect((await search('version:13.0.3')).ids).toEqual(['Newtonsoft.Json']);
    expect((await search('version:13.0.3.0')).ids).toEqual(['Newtonsoft.Json']);
    expect((await search('version:not-a-version')).totalHits).toBe(0);
  });

  it('field terms are all required together with free text', async () => {
    expect((await search('owner:fabrikam data')).ids[0]).toBe('Fabrikam.Data');
    expect((await search('owner:fabrikam data')).ids.every((id) => id.startsWith('Fabrikam.'))).toBe(true);
    expect((await search('id:data tags:sqlite')).ids.sort()).toEqual(FIXTURE.filter((p) => p.id.endsWith('.Data.Sqlite')).map((p) => p.id).sort());
    expect((await search('tags:json tags:csv')).ids).toEqual(expect.arrayContaining(['Newtonsoft.Json', 'CsvHelper']));
  });

  it('a quoted phrase needs its words together', async () => {
    expect((await search('"fluent interface"')).ids).toEqual(['FluentValidation']);
    expect((await search('"interface fluent"')).totalHits).toBe(0);
  });
});

describe('browsing and paging', () => {
  it('an empty query lists every id, most downloaded first', async () => {
    const all = await search('', '&take=1000');
    expect(all.totalHits).toBe(FIXTURE.length);
    expect(all.ids.slice(0, 2).sort()).toEqual(['Acme.Toolkit', 'Newtonsoft.Json']);
    const downloads = all.data.map((d) => d.totalDownloads);
    expect(downloads).toEqual([...downloads].sort((a, b) => b - a));
  });

  it('skip and take page through the same order', async () => {
    const whole = (await search('', '&take=30')).ids;
    const pages = [...(await search('', '&skip=0&take=10')).ids, ...(await search('', '&skip=10&take=10')).ids, ...(await search('', '&skip=20&take=10')).ids];
    expect(pages).toEqual(whole);
    const json = await search('json', '&skip=2&take=2');
    expect(json.ids).toEqual((await search('json')).ids.slice(2, 4));
    expect(json.totalHits).toBe((await search('json')).totalHits);
  });
});

describe('autocomplete', () => {
  it('ids starting with the text first, then ids with a word starting with it', async () => {
    expect((await autocomplete('newt')).slice(0, 2)).toEqual(['Newtonsoft.Json', 'Newtonsoft.Json.Bson']);
    expect((await autocomplete('json')).slice(0, 2).sort()).toEqual(['Json.More.Net', 'JsonSubTypes']);
    expect((await autocomplete('json')).slice(2, 4)).toEqual(['Newtonsoft.Json', 'System.Text.Json']);
    expect(await autocomplete('sinks')).toEqual(['Serilog.Sinks.Console', 'Serilog.Sinks.File', 'Serilog.Sinks.Seq']);
    expect((await autocomplete('contoso.d')).slice(0, 4)).toEqual(['Contoso.Data', 'Contoso.Data.Postgres', 'Contoso.Data.SqlClient', 'Contoso.Data.Sqlite']);
    expect((await autocomplete('Microsoft.Ext', 3))).toEqual([
      'Microsoft.Extensions.DependencyInjection',
      'Microsoft.Extensions.Logging',
      'Microsoft.Extensions.Logging.Abstractions',
    ]);
  });
});
