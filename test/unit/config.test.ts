import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

async function configFile(content: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'pawket-config-')), 'pawket.json');
  await writeFile(file, content);
  return file;
}

describe('configuration', () => {
  it('runs with embedded defaults when nothing is set', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({ port: 5000, dataDir: './data', apiKeys: [], allowOverwrite: false, deleteMode: 'unlist' });
  });

  it('reads several push keys from PAWKET_API_KEY', () => {
    expect(loadConfig({ env: { PAWKET_API_KEY: 'one, two,,three' } }).apiKeys).toEqual(['one', 'two', 'three']);
  });

  it('lets flags win over the environment, and the environment over the file', async () => {
    const file = await configFile(JSON.stringify({ port: 7000, host: '127.0.0.1', dataDir: '/from/file' }));
    const config = loadConfig({ file, env: { PAWKET_PORT: '8000', PAWKET_DATA_DIR: '/from/env' }, flags: { port: '9000' } });
    expect(config).toMatchObject({ port: 9000, dataDir: '/from/env', host: '127.0.0.1' });
  });

  it('names the bad setting and where it came from', () => {
    expect(() => loadConfig({ env: { PAWKET_PORT: 'eighty' } })).toThrow(/"port" \(from environment PAWKET_PORT\)/);
    expect(() => loadConfig({ env: { PAWKET_DELETE_MODE: 'shred' } })).toThrow(/deleteMode/);
    expect(() => loadConfig({ flags: { port: '70000' } })).toThrow(/"port" \(from flag --port\)/);
  });

  it('refuses unknown keys and broken JSON in the config file', async () => {
    const typo = await configFile(JSON.stringify({ prot: 5000 }));
    expect(() => loadConfig({ file: typo })).toThrow(/unknown setting\(s\) prot/);
    const broken = await configFile('{ "port": ');
    expect(() => loadConfig({ file: broken })).toThrow(/not valid JSON/);
  });
});
