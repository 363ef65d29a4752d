/**
 * `pawket gc` without `--feed` applies retention to every feed that holds packages, each with its own settings; a
 * feed without a policy (here the default one) is left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorPrincipal } from '../../../src/feed/auth.js';
import { retainEveryFeed } from '../../../src/feed/retention.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

describe('retention with several feeds', () => {
  let server: TestServer;
  const principal = operatorPrincipal('pawket gc (test)');
  const status = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    await res.arrayBuffer();
    return res.status;
  };
  const versions = async (feed: string) =>
    ((await (await fetch(`${server.url}${feed}/v3/flatcontainer/lib/index.json`)).json()) as { versions: string[] }).versions;

  beforeAll(async () => {
    server = await startTestServer();
    const { feedDb } = server.feed.hub;
    const created = new Date().toISOString();
    const dev = (await feedDb.createFeed({ name: 'dev', description: '', settings: { retentionKeepStable: 1, retentionAction: 'delete' }, members: null, created }))!;
    await feedDb.createFeed({ name: 'qa', description: '', settings: { retentionKeepPrerelease: 1 }, members: null, created });
    await feedDb.createFeed({ name: 'all', description: '', settings: { retentionKeepStable: 1 }, members: [dev.id], created });
    await server.feed.hub.reloadDefinitions();
    for (const [feed, version] of [
      ['', '1.0.0'],
      ['', '2.0.0'],
      ['/f/dev', '1.0.0'],
      ['/f/dev', '2.0.0'],
      ['/f/qa', '1.0.0-a'],
      ['/f/qa', '1.0.0-b'],
    ] as const) {
      expect((await pushRaw(`${server.url}${feed}`, await buildNupkg({ id: 'Lib', version }))).status).toBe(201);
    }
  });
  afterAll(() => server?.close());

  it('lists, then applies, each feed its own policy', async () => {
    const planned = await retainEveryFeed(server.feed.hub, principal, true);
    const summary = (list: typeof planned) => list.map((r) => [r.feed.scope.name, r.steps]);
    expect(summary(planned)).toEqual([
      ['default', null],
      ['dev', [{ id: 'Lib', version: '1.0.0', action: 'delete' }]],
      ['qa', [{ id: 'Lib', version: '1.0.0-a', action: 'unlist' }]],
    ]);
    expect(await versions('/f/dev')).toEqual(['1.0.0', '2.0.0']);

    expect(summary(await retainEveryFeed(server.feed.hub, principal, false))).toEqual(summary(planned));
    expect(await versions('')).toEqual(['1.0.0', '2.0.0']);
    expect(await versions('/f/dev')).toEqual(['2.0.0']);
    expect(await status('/f/dev/v3/flatcontainer/lib/1.0.0/lib.1.0.0.nupkg')).toBe(404);
    // Unlisted: still restorable when pinned.
    expect(await versions('/f/qa')).toEqual(['1.0.0-a', '1.0.0-b']);
    const qa = (await server.feed.hub.feed('qa'))!;
    expect((await qa.db.listVersions('lib')).map((v) => [v.version, v.listed]).sort()).toEqual([
      ['1.0.0-a', false],
      ['1.0.0-b', true],
    ]);

    const again = await retainEveryFeed(server.feed.hub, principal, true);
    expect(again.map((r) => r.steps?.length ?? null)).toEqual([null, 0, 0]);
  });
});
