import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBackendSettings } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { run } from './support/dotnet.js';
import { pawketMain, startPawket, type PawketServer } from './support/server.js';

const KEY = 'copy-test-key';
const embedded = { PAWKET_DATABASE: 'sqlite', PAWKET_STORAGE: 'filesystem', PAWKET_API_KEY: KEY };
const settingsEnv = (settings: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(settings).map(([k, v]) => [`PAWKET_${k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}`, String(v)]));

/** Every package's registration document and bytes, with the server's own address taken out. */
async function snapshot(server: PawketServer, ids: string[]) {
  const out: Record<string, string> = {};
  for (const id of ids) {
    const registration = await (await fetch(`${server.baseUrl}/v3/registration-gz-semver2/${id}/index.json`)).text();
    out[`${id}/registration`] = registration.replaceAll(server.baseUrl, 'BASE');
    const { versions } = (await (await fetch(`${server.baseUrl}/v3/flatcontainer/${id}/index.json`)).json()) as { versions: string[] };
    for (const v of versions) {
      const bytes = Buffer.from(await (await fetch(`${server.baseUrl}/v3/flatcontainer/${id}/${v}/${id}.${v}.nupkg`)).arrayBuffer());
      out[`${id}/${v}`] = bytes.toString('base64');
    }
  }
  return out;
}

describe('pawket copy', () => {
  let work: string;
  const ids = ['contoso.copy.a', 'contoso.copy.b'];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-copy-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('moves an embedded feed to another backend: identical bytes and registration JSON, and resumes', async () => {
    const sourceDir = join(work, 'source');
    const source = await startPawket({ dataDir: sourceDir, env: embedded });
    try {
      const packages = [
        buildNupkg({ id: 'Contoso.Copy.A', version: '1.0.0' }),
        buildNupkg({ id: 'Contoso.Copy.A', version: '2.0.0-beta.1+sha.1' }),
        buildNupkg({ id: 'Contoso.Copy.B', version: '3.1.0', dependencies: { 'net8.0': [['Contoso.Copy.A', '[1.0,2.0)']] } }),
      ];
      for (const p of packages) {
        const res = await fetch(`${source.baseUrl}/api/v2/package`, { method: 'PUT', body: new Uint8Array(await p), headers: { 'x-nuget-apikey': KEY } });
        expect(res.status).toBe(201);
      }
      await fetch(`${source.baseUrl}/api/v2/package/Contoso.Copy.A/1.0.0`, { method: 'DELETE', headers: { 'x-nuget-apikey': KEY } });
    } finally {
      await source.stop();
    }

    const targetDir = join(work, 'target');
    const targetSettings = { dataDir: targetDir, ...(await freshBackendSettings()) };
    await writeFile(join(work, 'from.json'), JSON.stringify({ dataDir: sourceDir }));
    await writeFile(join(work, 'to.json'), JSON.stringify(targetSettings));
    const copy = () => run(process.execPath, [pawketMain, 'copy', '--from', join(work, 'from.json'), '--to', join(work, 'to.json')], { timeoutMs: 120_000 });
    const first = await copy();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Copied 3 packages, 0 were already there, 0 failed (of 3)');
    const again = await copy();
    expect(again.stdout).toContain('Copied 0 packages, 3 were already there, 0 failed (of 3)');
    // The pushes and the delete were audited; a second run appends none of them again.
    expect(first.stdout).toMatch(/New at the target: [1-9]\d* id registrations or owners, 0 prefix reservations/);
    expect(first.stdout).toMatch(/; [1-9]\d* audit log entries new at the target/);
    expect(again.stdout).toContain('New at the target: 0 id registrations or owners, 0 prefix reservations');
    expect(again.stdout).toContain('; 0 audit log entries new at the target');

    const sourceAgain = await startPawket({ dataDir: sourceDir, env: embedded });
    const target = await startPawket({ dataDir: targetDir, env: { ...settingsEnv(targetSettings), PAWKET_API_KEY: KEY } });
    try {
      const [a, b] = await Promise.all([snapshot(sourceAgain, ids), snapshot(target, ids)]);
      expect(Object.keys(a)).toHaveLength(5);
      expect(b).toEqual(a);
    } finally {
      await Promise.all([sourceAgain.stop(), target.stop()]);
    }
  });
});
