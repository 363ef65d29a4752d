import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { run } from './support/dotnet.js';
import { pawketMain, startPawket } from './support/server.js';

const KEY = 'backup-test-key';
const embedded = { PAWKET_DATABASE: 'sqlite', PAWKET_STORAGE: 'filesystem', PAWKET_API_KEY: KEY };

// Backups of embedded feeds only; a PostgreSQL + S3 feed is backed up with the database's and the store's own tools.
describe.skipIf(backend !== 'sqlite')('pawket backup and restore', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-backup-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('takes a backup during a stream of pushes that restores to a feed where every package downloads and matches its hash', async () => {
    const dataDir = join(work, 'live');
    const live = await startPawket({ dataDir, env: embedded });
    let pushing = true;
    let pushed = 0;
    const stream = (async () => {
      for (let i = 0; pushing || i < 20; i++) {
        const body = await buildNupkg({ id: `Contoso.Stream${i % 7}`, version: `1.0.${i}` });
        const res = await fetch(`${live.baseUrl}/api/v2/package`, { method: 'PUT', body: new Uint8Array(body), headers: { 'x-nuget-apikey': KEY } });
        expect(res.status).toBe(201);
        pushed++;
      }
    })();
    try {
      while (pushed < 10) await new Promise((r) => setTimeout(r, 20));
      const backupFile = join(work, 'feed.tar');
      const backup = await run(process.execPath, [pawketMain, 'backup', backupFile, '--data-dir', dataDir], { timeoutMs: 120_000 });
      expect(backup.code, backup.output).toBe(0);
      expect(backup.stdout).toMatch(/Backed up \d+ packages/);
      pushing = false;
      await stream;

      const restoredDir = join(work, 'restored');
      const restore = await run(process.execPath, [pawketMain, 'restore', backupFile, '--data-dir', restoredDir], { timeoutMs: 120_000 });
      expect(restore.code, restore.output).toBe(0);
      const again = await run(process.execPath, [pawketMain, 'restore', backupFile, '--data-dir', restoredDir]);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/not empty/);

      const restored = await startPawket({ dataDir: restoredDir, env: embedded });
      try {
        let count = 0;
        for (let n = 0; n < 7; n++) {
          const id = `contoso.stream${n}`;
          const reg = await fetch(`${restored.baseUrl}/v3/registration-gz-semver2/${id}/index.json`);
          if (reg.status === 404) continue;
          const index = (await reg.json()) as { items: Array<{ items: Array<{ catalogEntry: { version: string; packageHash: string }; packageContent: string }> }> };
          for (const leaf of index.items.flatMap((p) => p.items)) {
            const bytes = Buffer.from(await (await fetch(leaf.packageContent)).arrayBuffer());
            expect(createHash('sha512').update(bytes).digest('base64')).toBe(leaf.catalogEntry.packageHash);
            count++;
          }
        }
        expect(count).toBeGreaterThanOrEqual(10);
        expect(count).toBe(Number(/Backed up (\d+) packages/.exec(backup.stdout)![1]));
      } finally {
        await restored.stop();
      }
    } finally {
      pushing = false;
      await stream.catch(() => {});
      await live.stop();
    }
  });
});
