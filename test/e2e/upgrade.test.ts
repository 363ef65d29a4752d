/**
 * Upgrade: a data dir, and a PostgreSQL database, written by the release before several feeds (test/fixtures/upgrade,
 * made by its make-fixture.ts) are served unchanged at the old URLs by the current code: the same documents, package
 * files, symbols and download counts; the stored API keys still push, owners and reserved prefixes still apply, and
 * `pawket migrate` finds nothing left to do. One server process per backend, started on a copy of the fixture.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAnswers, FIXTURE_IDS, type Answers } from '../fixtures/upgrade/answers.js';
import { restoreSqlite } from '../fixtures/upgrade/sqlite-dump.js';
import { backend } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { postgresBinDir, startTempPostgres, type TempPostgres } from '../support/postgres.js';
import { requireClients } from './support/dotnet.js';
import { repoRoot } from './support/paths.js';
import { pawketMain, startPawket, type PawketServer } from './support/server.js';

const run = promisify(execFile);
const fixtureDir = join(repoRoot, 'test', 'fixtures', 'upgrade');

interface Recorded {
  readonly keys: { readonly contoso: string; readonly fabrikam: string };
  readonly answers: Answers;
  readonly hashes: Record<string, string>;
}
const expected = JSON.parse(await readFile(join(fixtureDir, 'expected.json'), 'utf8')) as { sqlite: Recorded; postgres: Recorded };

// The file starts its own PostgreSQL cluster, so the SQLite pass of the suite covers both backends; running it again in
// the PostgreSQL + S3 pass would repeat the same work (the fixture's files are on disk, not in a bucket).
const secondPass = backend === 'postgres-s3';
if (secondPass) console.warn('\n--- upgrade.test.ts runs in the SQLite pass only (it starts its own PostgreSQL cluster); skipped here.\n');
const pgBin = await postgresBinDir();
const pgSkip = requireClients('upgrade test on PostgreSQL', pgBin ? [] : ['PostgreSQL server binaries (Debian postgresql)']).skip;

/** Runs the CLI against the copied feed; resolves with its exit code and output. */
async function pawket(dataDir: string, env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [pawketMain, ...args, '--data-dir', dataDir], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

const push = async (server: PawketServer, key: string, id: string, version: string) => {
  const res = await fetch(`${server.baseUrl}/api/v2/package`, {
    method: 'PUT',
    body: new Uint8Array(await buildNupkg({ id, version })),
    headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': key },
  });
  return { status: res.status, text: await res.text() };
};

/** What a backend needs to serve the copied fixture: the data dir and environment, and how to clean up. */
interface Copied {
  readonly dataDir: string;
  readonly env: Record<string, string>;
  cleanUp(): Promise<void>;
}

function upgradeSuite(name: string, recorded: Recorded, copy: (work: string) => Promise<Copied>): void {
  describe(name, () => {
    let work: string;
    let copied: Copied | undefined;
    let server: PawketServer | undefined;

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'pawket-upgrade-'));
      copied = await copy(work);
      server = await startPawket({ dataDir: copied.dataDir, env: copied.env });
    });
    afterAll(async () => {
      await server?.stop();
      await copied?.cleanUp();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('answers every recorded URL as the old release did (documents, listing, deprecations, advisories, symbols)', async () => {
      const now = await collectAnswers(server!.baseUrl);
      expect(Object.keys(now).sort()).toEqual(Object.keys(recorded.answers).sort());
      for (const [path, answer] of Object.entries(recorded.answers)) {
        if (path === '/v3/index.json') {
          // A newer release may advertise more; every resource the old one did stays, at the same URL.
          const { resources, ...rest } = answer as { resources: unknown[] };
          const { resources: nowResources, ...nowRest } = now[path] as { resources: unknown[] };
          expect.soft(nowRest, path).toEqual(rest);
          expect.soft(nowResources, path).toEqual(expect.arrayContaining(resources));
        } else {
          expect.soft(now[path], path).toEqual(answer);
        }
      }
    });

    it('keeps the download counts', async () => {
      const search = (await (await fetch(`${server!.baseUrl}/v3/search?q=contoso.core&prerelease=true&semVerLevel=2.0.0`)).json()) as {
        data: Array<{ id: string; totalDownloads: number; versions: Array<{ version: string; downloads: number }> }>;
      };
      const core = search.data.find((d) => d.id === 'Contoso.Core');
      expect(core?.totalDownloads).toBe(6);
      expect(core?.versions.find((v) => v.version === '1.1.0')?.downloads).toBe(3);
    });

    it('serves the same package and symbols package files', async () => {
      for (const [id, versions] of Object.entries(FIXTURE_IDS)) {
        for (const v of versions) {
          const lower = id.toLowerCase();
          const res = await fetch(`${server!.baseUrl}/v3/flatcontainer/${lower}/${v}/${lower}.${v}.nupkg`);
          expect(res.status, `${id} ${v}`).toBe(200);
          expect(createHash('sha512').update(Buffer.from(await res.arrayBuffer())).digest('base64'), `${id} ${v}`).toBe(recorded.hashes[`${lower}/${v}`]);
        }
      }
      const snupkg = await fetch(`${server!.baseUrl}/v3/flatcontainer/pawket.e2e.core/1.0.0/pawket.e2e.core.1.0.0.snupkg`);
      expect(snupkg.status).toBe(200);
      expect(createHash('sha512').update(Buffer.from(await snupkg.arrayBuffer())).digest('base64')).toBe(recorded.hashes['pawket.e2e.core/1.0.0.snupkg']);
    });

    it('takes pushes with the stored API keys, within their owners and reserved prefixes', async () => {
      const { contoso, fabrikam } = recorded.keys;
      expect(await push(server!, contoso, 'Contoso.Core', '3.0.0')).toMatchObject({ status: 201 });
      expect(await push(server!, contoso, 'Contoso.Upgraded', '1.0.0')).toMatchObject({ status: 201 });
      expect(await push(server!, fabrikam, 'Fabrikam.Legacy', '1.0.0')).toMatchObject({ status: 201 });
      // Contoso.* is reserved for contoso, and Contoso.Core is contoso's.
      expect((await push(server!, fabrikam, 'Contoso.Intruder', '1.0.0')).status).toBe(403);
      expect((await push(server!, fabrikam, 'Contoso.Core', '9.0.0')).status).toBe(403);
      expect((await push(server!, 'not-a-stored-key', 'Fabrikam.Other', '1.0.0')).status).toBe(401);
      const versions = (await (await fetch(`${server!.baseUrl}/v3/flatcontainer/contoso.core/index.json`)).json()) as { versions: string[] };
      expect(versions.versions).toEqual(['1.0.0', '1.0.1', '1.1.0', '2.0.0-beta.1', '3.0.0']);
      expect((await fetch(`${server!.baseUrl}/v3/flatcontainer/contoso.intruder/index.json`)).status).toBe(404);
    });

    it('lists the owners, the reserved prefix and the keys with the CLI', async () => {
      const { dataDir, env } = copied!;
      const [owners, prefixes, keys] = await Promise.all([
        pawket(dataDir, env, ['owners', 'list', 'Contoso.Http']),
        pawket(dataDir, env, ['prefix', 'list', '--json']),
        pawket(dataDir, env, ['keys', 'list', '--json']),
      ]);
      expect(owners.code, owners.stderr).toBe(0);
      expect(owners.stdout.trim().split('\n').sort()).toEqual(['alice', 'contoso']);
      expect(prefixes.code, prefixes.stderr).toBe(0);
      expect((JSON.parse(prefixes.stdout) as Array<{ pattern: string; owner: string }>).map((p) => [p.pattern, p.owner])).toEqual([['contoso.*', 'contoso']]);
      expect(keys.code, keys.stderr).toBe(0);
      expect((JSON.parse(keys.stdout) as Array<{ name: string; owner: string; status: string }>).map((k) => [k.name, k.owner, k.status]).sort()).toEqual([
        ['contoso-ci', 'contoso', 'active'],
        ['fabrikam-ci', 'fabrikam', 'active'],
      ]);
    });

    it('keeps every owner name as an organisation (`pawket orgs list`)', async () => {
      const { dataDir, env } = copied!;
      const listed = await pawket(dataDir, env, ['orgs', 'list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const orgs = (JSON.parse(listed.stdout) as Array<{ name: string }>).map((o) => o.name);
      // The owners of ids, of the reserved prefix and of the stored keys.
      expect(orgs).toEqual(expect.arrayContaining(['alice', 'contoso', 'fabrikam']));
    });

    it('leaves `pawket migrate` nothing to do once the server has upgraded the database', async () => {
      await server!.stop();
      const migrate = await pawket(copied!.dataDir, copied!.env, ['migrate']);
      expect(migrate.code, migrate.stderr).toBe(0);
      expect(migrate.stdout).toContain('The database schema is up to date.');
    });
  });
}

describe.skipIf(secondPass)('upgrade from the release before several feeds', () => {
  upgradeSuite('a SQLite data dir', expected.sqlite, async (work) => {
    const dataDir = join(work, 'data');
    await cp(join(fixtureDir, 'sqlite', 'blobs'), join(dataDir, 'blobs'), { recursive: true });
    restoreSqlite(await readFile(join(fixtureDir, 'sqlite', 'pawket.sql'), 'utf8'), join(dataDir, 'pawket.sqlite'));
    return { dataDir, env: {}, cleanUp: async () => {} };
  });

  describe.skipIf(pgSkip)('on PostgreSQL', () => {
    upgradeSuite('a PostgreSQL database', expected.postgres, async (work) => {
      const dataDir = join(work, 'data');
      await cp(join(fixtureDir, 'postgres', 'blobs'), join(dataDir, 'blobs'), { recursive: true });
      let cluster: TempPostgres | undefined = await startTempPostgres();
      try {
        const admin = new pg.Client({ connectionString: cluster.url });
        await admin.connect();
        await admin.query('CREATE DATABASE pawket_upgraded');
        await admin.end();
        const url = cluster.url.replace(/\/postgres$/, '/pawket_upgraded');
        await run(join(pgBin!, 'psql'), ['--quiet', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '--dbname', url, '--file', join(fixtureDir, 'postgres', 'pawket.sql')]);
        const started = cluster;
        cluster = undefined;
        return { dataDir, env: { PAWKET_DATABASE: url }, cleanUp: () => started.stop() };
      } finally {
        await cluster?.stop();
      }
    });
  });
});
