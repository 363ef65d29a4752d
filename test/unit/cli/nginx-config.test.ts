/**
 * `pawket nginx-config`: the configuration nginx accepts (`nginx -t`, when nginx is installed), package files that
 * revalidate on feeds that allow overwriting, an open-file cache within the open-file limit, and no configuration for
 * S3 storage (nothing on disk to serve). What it serves is tested end to end in test/e2e/nginx-front.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxConfigOptions, openFileCacheSize, renderNginxConfig } from '../../../src/cli/nginx-config.js';
import { configSchema } from '../../../src/config/schema.js';
import { toDefinition } from '../../../src/feed/feed-definitions.js';
import { nginxBinary } from '../../support/nginx.js';

const config = configSchema.parse({ dataDir: '/srv/pawket', baseUrl: 'https://nuget.example.com', port: 5000 });
const record = (id: number, name: string, settings: Record<string, unknown>, members: number[] | null = null) =>
  toDefinition(config, { id, name, description: '', settings, members, created: '2026-01-01T00:00:00Z' } as never, id === 1);
const feeds = [record(1, 'default', {}), record(2, 'dev', { allowOverwrite: true }), record(3, 'Release', {}), record(4, 'all', {}, [1, 3])];

describe('pawket nginx-config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pawket-nginx-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the settings: nodes, server name, the blob root, and immutable files only where overwrite is off', () => {
    const o = nginxConfigOptions(config, feeds, {});
    expect(o.nodes).toEqual(['127.0.0.1:5000']);
    expect(o.serverName).toBe('nuget.example.com');
    expect(o.blobRoot).toBe('/srv/pawket/blobs');
    expect(o.immutablePrefixes).toEqual(['', '/f/Release']);
    const text = renderNginxConfig(o);
    expect(text).toContain('root "/srv/pawket/blobs/static";');
    expect(text).toContain('root "/srv/pawket/blobs/static-private";');
    expect(text).toContain('"~^/f/Release/v3/flatcontainer/" "public, max-age=31536000, immutable";');
    expect(text).not.toContain('/f/dev/');
    expect(nginxConfigOptions(config, feeds, { node: ['10.0.0.1:5000', '10.0.0.2:5000'] }).nodes).toHaveLength(2);
  });

  it('sizes the open-file cache within the open-file limit, leaving room for connections', () => {
    expect(openFileCacheSize(20_000, 4096)).toBeLessThan(20_000 - 2 * 4096);
    expect(openFileCacheSize(1024, 4096)).toBe(100);
    const o = nginxConfigOptions(config, feeds, { full: true, openFiles: '20000', workerConnections: '1024' });
    expect(o.openFileCache).toBe(20_000 - 2 * 1024 - 64);
    expect(renderNginxConfig(o)).toContain('worker_rlimit_nofile 20000;');
  });

  it('refuses S3 storage and flags nginx would not take', () => {
    const s3 = configSchema.parse({ storage: 's3', s3Bucket: 'packages' });
    expect(() => nginxConfigOptions(s3, feeds, {})).toThrow(/readBaseUrl/);
    expect(() => nginxConfigOptions(config, feeds, { listen: '80; include /etc/passwd' })).toThrow(/--listen/);
    expect(() => nginxConfigOptions(config, feeds, { authCache: '-1' })).toThrow(/--auth-cache/);
  });

  it.skipIf(!nginxBinary)('writes configurations nginx accepts, as an http {} include and as a whole nginx.conf', async () => {
    const o = nginxConfigOptions(config, feeds, { downloadLog: join(dir, 'downloads.log'), authCacheDir: join(dir, 'auth') });
    const include = join(dir, 'include.conf');
    await writeFile(include, renderNginxConfig(o));
    await writeFile(join(dir, 'wrapper.conf'), `pid ${dir}/w.pid; events {} http { include ${include}; }`);
    await writeFile(join(dir, 'nginx.conf'), renderNginxConfig(nginxConfigOptions(config, feeds, { full: true, workers: '1' })));
    for (const file of ['wrapper.conf', 'nginx.conf']) {
      const r = spawnSync(nginxBinary!, ['-t', '-q', '-p', dir, '-c', join(dir, file), '-e', join(dir, 'error.log')], { encoding: 'utf8' });
      expect(r.stderr + r.stdout, file).not.toMatch(/emerg|error/);
      expect(r.status, file).toBe(0);
    }
  });
});
