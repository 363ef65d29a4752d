/**
 * `pawket keys|owners|prefix|audit` on the database of a running server (in process: the commands are parsed by
 * commander as the real binary does; test/e2e/private-feed.test.ts runs the built binary).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPawket } from '../../support/cli.js';
import { accessCommands } from '../../../src/cli/access.js';
import { configSchema, type ConfigInput } from '../../../src/config/schema.js';
import { startTestServer, type TestServer } from '../../support/app.js';
import { freshBackendSettings } from '../../support/backend.js';
import { pushRaw } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { push } from './support.js';

let server: TestServer;
let settings: Partial<ConfigInput>;

beforeAll(async () => {
  settings = { ...(await freshBackendSettings()), badKeyLimit: 0 };
  server = await startTestServer(settings);
});
afterAll(async () => {
  await server?.close();
});

/** Runs `pawket ARGS` against the server's database; answers what it printed and the exit code it set. */
function pawket(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const configOf = (flags: { dataDir?: string }) => configSchema.parse({ ...settings, dataDir: flags.dataDir ?? server.dataDir, logLevel: 'silent' });
  return runPawket((program) => accessCommands(program, configOf), server.dataDir, args);
}

describe('the access commands', () => {
  it('create, list, rotate and revoke keys that the running server honours', async () => {
    const created = await pawket('keys', 'create', '--name', 'ci', '--owner', 'Contoso', '--scopes', 'push-new,unlist', '--patterns', 'Contoso.*', '--expires', '30d');
    expect(created.code).toBe(0);
    const key = /\n {2}(pwk_\S+)\n/.exec(created.stdout)?.[1];
    expect(key, created.stdout).toBeDefined();
    expect(created.stdout).toMatch(/only time the key is shown/);
    const keyId = /Created API key (k[0-9a-f]+)/.exec(created.stdout)![1]!;
    expect((await push(server, key!, 'Contoso.Cli', '1.0.0')).status).toBe(201);

    const list = await pawket('keys', 'list');
    expect(list.stdout).toMatch(new RegExp(`${keyId} +ci +contoso +push-new,unlist +Contoso\\.\\* +\\* +active`));
    expect(list.stdout).not.toContain(key);

    const rotated = await pawket('keys', 'rotate', keyId, '--json');
    const newKey = (JSON.parse(rotated.stdout) as { key: string }).key;
    // the server forgets a key it looked up within 5 s; this key was looked up a moment ago
    await new Promise((resolve) => setTimeout(resolve, 5_200));
    expect((await push(server, key!, 'Contoso.Cli', '1.0.1')).status).toBe(401);
    expect((await push(server, newKey, 'Contoso.Cli', '1.0.1')).status).toBe(201);

    expect((await pawket('keys', 'revoke', keyId)).stdout).toMatch(/Revoked API key/);
    const again = await pawket('keys', 'revoke', keyId);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/revoked already/);
    expect((await pawket('keys', 'create', '--name', 'x', '--owner', 'a', '--scopes', 'root')).stderr).toMatch(/'root' is not a scope/);
  }, 30_000);

  it('manage owners and prefixes, and show the audit log', async () => {
    const key = (JSON.parse((await pawket('keys', 'create', '--name', 'ops', '--owner', 'alpha', '--scopes', 'push-new', '--json')).stdout) as { key: string }).key;
    expect((await push(server, key, 'Alpha.Lib', '1.0.0')).status).toBe(201);
    expect((await pawket('owners', 'list', 'Alpha.Lib')).stdout.trim()).toBe('alpha');
    expect((await pawket('owners', 'add', 'Alpha.Lib', 'beta')).stdout).toMatch(/Owners: alpha, beta/);
    expect((await pawket('owners', 'remove', 'Alpha.Lib', 'alpha')).stdout).toMatch(/Owners: beta\./);
    expect((await pawket('owners', 'list', '--owner', 'beta')).stdout.trim()).toBe('alpha.lib');
    expect((await pawket('owners', 'remove', 'Alpha.Lib', 'beta')).code).toBe(1);
    expect((await push(server, key, 'Alpha.Lib', '1.1.0')).status).toBe(403);

    expect((await pawket('prefix', 'reserve', 'Gamma.*', 'gamma')).code).toBe(0);
    expect((await pawket('prefix', 'list')).stdout).toMatch(/gamma\.\* +gamma/);
    expect((await push(server, key, 'Gamma.Lib', '1.0.0')).status).toBe(403);
    expect((await pawket('prefix', 'release', 'Gamma.*')).code).toBe(0);
    expect((await pawket('prefix', 'list')).stdout).toMatch(/No reserved prefixes/);

    const audit = await pawket('audit', '--id', 'Alpha.Lib');
    expect(audit.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(/ {2,}/)[3])).toEqual([
      'push.denied',
      'owner.remove',
      'owner.add',
      'push',
    ]);
    expect(audit.stdout).toMatch(/cli \(/);
    expect((await pawket('audit', '--limit', 'x')).code).toBe(1);
  });

  it('create keys for the feeds they name, by name, and list them with their feeds', async () => {
    const hub = server.feed.hub;
    for (const name of ['dev', 'release']) await hub.feedDb.createFeed({ name, description: '', settings: {}, members: null, created: new Date().toISOString() });
    await hub.reloadDefinitions();
    const created = await pawket('keys', 'create', '--name', 'ci-feeds', '--owner', 'alpha', '--scopes', 'push-new', '--feeds', 'dev,Release');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/valid on feeds dev, release/);
    const key = /\n {2}(pwk_\S+)\n/.exec(created.stdout)![1]!;
    const keyId = /Created API key (k[0-9a-f]+)/.exec(created.stdout)![1]!;
    expect((await pushRaw(`${server.url}/f/release`, await buildNupkg({ id: 'Cli.Feeds', version: '1.0.0' }), key)).status).toBe(201);
    expect((await push(server, key, 'Cli.Feeds', '1.0.0')).status).toBe(403);

    const every = await pawket('keys', 'create', '--name', 'ci-every', '--owner', 'alpha', '--scopes', 'push', '--feeds', '*', '--json');
    expect((JSON.parse(every.stdout) as { feeds: unknown }).feeds).toBe('*');
    const list = await pawket('keys', 'list');
    expect(list.stdout).toMatch(/FEEDS/);
    expect(list.stdout).toMatch(new RegExp(`${keyId} +ci-feeds +alpha +push-new +\\* +dev,release +active`));
    expect(list.stdout).toMatch(/ci-every +alpha +push +\* +\* +active/);

    const unknown = await pawket('keys', 'create', '--name', 'x', '--owner', 'alpha', '--scopes', 'push', '--feeds', 'dev,staging');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/There is no feed 'staging'/);
  });
});
