import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KyselyMaterializeDatabase } from '../../../src/db/kysely-materialize-database.js';
import { materializeFeeds } from '../../../src/materialize/feeds.js';
import { documentPaths } from '../../../src/materialize/layout.js';
import type { Materializer } from '../../../src/materialize/materializer.js';
import { startTestServer, pushRaw, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

const BASE = 'http://nuget.example.test';

describe('materialized restore documents', () => {
  let server: TestServer;
  let materializer: Materializer;

  /** A materialized file's bytes, or null. */
  const stored = async (key: string) => {
    const content = await server.feed.blobs.open(key);
    if (!content) return null;
    if (content.bytes) return content.bytes;
    const chunks: Buffer[] = [];
    for await (const c of content.stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  /** What the dynamic route answers for a path (no compression). */
  const dynamic = async (path: string) => {
    const res = await fetch(`${server.url}/${path}`, { headers: { 'accept-encoding': 'identity' } });
    return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : null;
  };
  /** Every document of an id equals the route's answer, and each gzip twin its plain bytes. */
  const expectSameAsRoutes = async (lid: string, versions: string[]) => {
    const paths = [
      documentPaths.flatIndex(lid),
      ...['/v3/registration/', '/v3/registration-gz/', '/v3/registration-gz-semver2/'].map((h) => documentPaths.registrationIndex(h, lid)),
      ...versions.flatMap((v) => [documentPaths.nupkg(lid, v), documentPaths.nuspec(lid, v), documentPaths.leaf('/v3/registration-gz-semver2/', lid, v)]),
    ];
    for (const path of paths) {
      const expected = await dynamic(path);
      expect(await stored(`static/${path}`), path).toEqual(expected);
      if (path.endsWith('.json') && expected) expect(gunzipSync((await stored(`static/${path}.gz`))!), `${path}.gz`).toEqual(expected);
    }
  };
  const push = async (id: string, version: string, extra = {}) => {
    const res = await pushRaw(server.url, await buildNupkg({ id, version, ...extra }));
    expect(res.status).toBe(201);
  };

  beforeAll(async () => {
    server = await startTestServer({ materialize: true, baseUrl: BASE, deleteMode: 'delete' });
    materializer = server.feed.hub.shared.materializer!;
  });
  afterAll(() => server?.close());

  it('writes every restore document of a pushed id before the push is answered, equal to what the routes serve', async () => {
    await push('Contoso.Core', '1.0.0');
    await push('Contoso.Core', '2.0.0-beta.1');
    await push('Contoso.Core', '3.0.0');
    // No idle() here: the push answers once its documents are written.
    await expectSameAsRoutes('contoso.core', ['1.0.0', '2.0.0-beta.1', '3.0.0']);
    expect(JSON.parse((await stored('static/v3/flatcontainer/contoso.core/index.json'))!.toString()).versions).toEqual(['1.0.0', '2.0.0-beta.1', '3.0.0']);
  });

  it('follows an unlist, a relist and a delete; a deleted version leaves no file behind', async () => {
    const del = (v: string) => fetch(`${server.url}/api/v2/package/Contoso.Core/${v}`, { method: 'DELETE', headers: { 'x-nuget-apikey': TEST_KEY } });
    expect((await del('2.0.0-beta.1')).status).toBe(200);
    await expectSameAsRoutes('contoso.core', ['1.0.0', '3.0.0']);
    expect(await stored(`static/${documentPaths.nupkg('contoso.core', '2.0.0-beta.1')}`)).toBeNull();
    expect(await stored(`static/${documentPaths.leaf('/v3/registration/', 'contoso.core', '2.0.0-beta.1')}.gz`)).toBeNull();
    // The last version gone: the id's indexes go too.
    expect((await del('1.0.0')).status).toBe(200);
    expect((await del('3.0.0')).status).toBe(200);
    expect(await stored('static/v3/flatcontainer/contoso.core/index.json')).toBeNull();
    expect(await stored('static/v3/registration/contoso.core/index.json')).toBeNull();
  });

  it('links registration pages for ids with many versions and rewrites only what changed', async () => {
    // Ten at a time: concurrent changes of one id share materializations.
    for (let i = 0; i < 130; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => push('Many.Versions', `1.0.${i + j}`)));
    await materializer.idle();
    const index = JSON.parse((await stored('static/v3/registration/many.versions/index.json'))!.toString());
    expect(index.items).toHaveLength(3);
    for (const page of index.items) {
      const path = new URL(page['@id']).pathname.slice(1);
      expect(await stored(`static/${path}`), path).toEqual(await dynamic(path));
    }
    await expectSameAsRoutes('many.versions', ['1.0.0', '1.0.129']);
  }, 120_000);

  it('verify finds a tampered or missing document and a stray file, and repairs them', async () => {
    await push('Verify.Me', '1.0.0');
    const leaf = `static/${documentPaths.leaf('/v3/registration/', 'verify.me', '1.0.0')}`;
    await server.feed.blobs.putBytes(leaf, Buffer.from('{"tampered":true}'), { contentType: 'application/json', cacheControl: 'no-cache' });
    await server.feed.blobs.delete(`static/${documentPaths.nuspec('verify.me', '1.0.0')}`);
    await server.feed.blobs.putBytes('static/v3/flatcontainer/verify.me/9.9.9/verify.me.9.9.9.nupkg', Buffer.from('stray'), { contentType: 'x', cacheControl: 'x' });
    const db = new KyselyMaterializeDatabase(server.feed.hub.shared.kysely);
    const report = await materializeFeeds(server.feed.hub, materializer, db, { mode: 'verify' });
    expect(report.mismatched).toEqual(expect.arrayContaining([documentPaths.leaf('/v3/registration/', 'verify.me', '1.0.0'), documentPaths.nuspec('verify.me', '1.0.0')]));
    expect(report.removed).toBeGreaterThanOrEqual(1);
    expect(await stored('static/v3/flatcontainer/verify.me/9.9.9/verify.me.9.9.9.nupkg')).toBeNull();
    await expectSameAsRoutes('verify.me', ['1.0.0']);
    const again = await materializeFeeds(server.feed.hub, materializer, db, { mode: 'verify' });
    expect(again.mismatched, again.mismatched.join(', ')).toEqual([]);
    expect(again.removed).toBe(0);
  });

  it("keeps a private feed's documents under their own root, and moves them when the feed's privacy changes", async () => {
    const admin = { 'x-nuget-apikey': TEST_KEY, 'content-type': 'application/json' };
    expect((await fetch(`${server.url}/api/admin/feeds`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'Team', settings: { private: true } }) })).status).toBe(201);
    const res = await fetch(`${server.url}/f/Team/v3/package`, { method: 'PUT', headers: { 'x-nuget-apikey': TEST_KEY }, body: new Uint8Array(await buildNupkg({ id: 'Team.Lib', version: '1.0.0' })) });
    expect(res.status).toBe(201);
    expect(await stored('static-private/f/Team/v3/flatcontainer/team.lib/index.json')).not.toBeNull();
    expect(await stored('static/f/Team/v3/flatcontainer/team.lib/index.json')).toBeNull();
    const leaf = JSON.parse((await stored(`static-private/f/Team/${documentPaths.leaf('/v3/registration/', 'team.lib', '1.0.0')}`))!.toString());
    expect(leaf.packageContent).toBe(`${BASE}/f/Team/v3/flatcontainer/team.lib/1.0.0/team.lib.1.0.0.nupkg`);
  });
});
