/**
 * `pawket promote` on a server's data dir while the server runs (both backends): the running server serves the promoted
 * version from the target feed byte for byte, refusals exit 1 with their reason, `--move` empties the source; and
 * `dotnet nuget push` into a feed at its quota shows the 403 with the quota named.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../../src/config/schema.js';
import { FeedHub } from '../../src/feed/hub.js';
import { freshBackendSettings } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { createNuGetSandbox, describeRun, hasDotnet, run, writePawketOnlyConfig } from './support/dotnet.js';
import { pawketMain, startPawket, type PawketServer } from './support/server.js';

const KEY = 'promote-e2e-admin-key';

/** Settings as PAWKET_* variables, for the server and the command line to share one database and storage. */
const asEnv = (settings: Partial<ConfigInput>) =>
  Object.fromEntries(Object.entries(settings).map(([k, v]) => [`PAWKET_${k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}`, String(v)]));

const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('base64');

describe('pawket promote', () => {
  let work: string;
  let dataDir: string;
  let env: Record<string, string>;
  let server: PawketServer;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-promote-'));
    dataDir = join(work, 'data');
    const settings = await freshBackendSettings();
    env = { ...asEnv(settings), PAWKET_API_KEY: KEY };
    // The feeds exist before the server starts, as `pawket feeds create` would leave them.
    const hub = await FeedHub.open(configSchema.parse({ dataDir, ...settings }));
    for (const [name, feedSettings] of [['dev', {}], ['release', {}], ['small', { quotaPackages: 1 }]] as const) {
      await hub.feedDb.createFeed({ name, description: '', settings: feedSettings, members: null, created: new Date().toISOString() });
    }
    await hub.close();
    server = await startPawket({ dataDir, env });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const cli = (args: readonly string[]) => run(process.execPath, [pawketMain, 'promote', ...args, '--data-dir', dataDir], { env, timeoutMs: 60_000 });
  const nupkgUrl = (feed: string, id: string, version: string) =>
    `${server.baseUrl}/f/${feed}/v3/flatcontainer/${id.toLowerCase()}/${version}/${id.toLowerCase()}.${version}.nupkg`;

  async function push(feed: string, body: Buffer): Promise<void> {
    const res = await fetch(`${server.baseUrl}/f/${feed}/api/v2/package`, {
      method: 'PUT',
      body: new Uint8Array(body),
      headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': KEY },
    });
    expect(res.status, await res.text()).toBe(201);
  }

  /** The status and bytes a feed serves, once it stops answering `unwanted` (changes reach the server by its change feed). */
  async function served(url: string, unwanted: number): Promise<{ status: number; bytes: Buffer }> {
    for (let i = 0; ; i++) {
      const res = await fetch(url);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (res.status !== unwanted || i >= 100) return { status: res.status, bytes };
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('promotes a version; the running server serves it from the target with the same bytes', async () => {
    const pkg = await buildNupkg({ id: 'Contoso.Cli', version: '1.0.0' });
    await push('dev', pkg);
    expect((await fetch(nupkgUrl('release', 'Contoso.Cli', '1.0.0'))).status).toBe(404);

    const r = await cli(['Contoso.Cli', '1.0.0', '--from', 'dev', '--to', 'release']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toBe(`Promoted 1 package version from dev to release:\n  Contoso.Cli 1.0.0  sha512 ${sha512(pkg)}\n`);

    const release = await served(nupkgUrl('release', 'Contoso.Cli', '1.0.0'), 404);
    expect(release.status).toBe(200);
    expect(sha512(release.bytes)).toBe(sha512(pkg));
    expect((await served(nupkgUrl('dev', 'Contoso.Cli', '1.0.0'), 404)).bytes.equals(pkg)).toBe(true);
  });

  it('exits 1 with the reason when the target has the version already, or the source does not', async () => {
    const again = await cli(['Contoso.Cli', '1.0.0', '--from', 'dev', '--to', 'release']);
    expect(again.code).toBe(1);
    // (stderr may also carry runtime warnings, e.g. the AWS SDK's about Node versions.)
    expect(again.stderr).toContain("pawket: Package Contoso.Cli 1.0.0 is already in feed 'release' and a promotion never replaces a version: nothing was promoted.\n");
    const missing = await cli(['Contoso.Cli', '9.9.9', '--from', 'dev', '--to', 'release']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("pawket: Package Contoso.Cli 9.9.9 is not in feed 'dev': nothing was promoted.\n");
    const odd = await cli(['Contoso.Cli', '--from', 'dev', '--to', 'release']);
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/pairs: ID VERSION/);
  });

  it('moves several versions at once with --move', async () => {
    const a = await buildNupkg({ id: 'Contoso.Moved', version: '1.0.0' });
    const b = await buildNupkg({ id: 'Contoso.Moved', version: '2.0.0-beta' });
    await push('dev', a);
    await push('dev', b);
    const r = await cli(['Contoso.Moved', '1.0.0', 'Contoso.Moved', '2.0.0-beta', '--from', 'dev', '--to', 'release', '--move', '--json']);
    expect(r.code, describeRun(r)).toBe(0);
    const result = JSON.parse(r.stdout) as { moved: boolean; packages: Array<{ version: string; sha512: string }> };
    expect(result.moved).toBe(true);
    expect(result.packages.map((p) => [p.version, p.sha512])).toEqual([['1.0.0', sha512(a)], ['2.0.0-beta', sha512(b)]]);
    expect((await served(nupkgUrl('release', 'Contoso.Moved', '2.0.0-beta'), 404)).bytes.equals(b)).toBe(true);
    expect((await served(nupkgUrl('dev', 'Contoso.Moved', '1.0.0'), 200)).status).toBe(404);
    const index = await fetch(`${server.baseUrl}/f/dev/v3/flatcontainer/contoso.moved/index.json`);
    expect(index.status).toBe(404);
  });

  it.skipIf(!hasDotnet)('dotnet nuget push into a feed at its quota shows the 403 with the quota named', async () => {
    await push('small', await buildNupkg({ id: 'Contoso.Small', version: '1.0.0' }));
    const sandbox = await createNuGetSandbox(join(work, 'nuget'));
    const feedUrl = `${server.baseUrl}/f/small/v3/index.json`;
    const config = await writePawketOnlyConfig(join(work, 'client'), feedUrl);
    const file = join(work, 'Contoso.Small.2.0.0.nupkg');
    await writeFile(file, await buildNupkg({ id: 'Contoso.Small', version: '2.0.0' }));
    const r = await run('dotnet', ['nuget', 'push', file, '--source', feedUrl, '--api-key', KEY, '--configfile', config, '--force-english-output'], {
      env: sandbox.env,
      timeoutMs: 120_000,
    });
    expect(r.code, describeRun(r)).not.toBe(0);
    const line = r.output.split('\n').find((l) => l.includes('status code does not indicate success: 403'));
    expect(line, describeRun(r)).toContain("(Feed 'small' has a quota of 1 package and holds 1: this push would make 2.");
  }, 180_000);
});
