/**
 * A node killed (SIGKILL) while it materializes a burst of pushes and unlists, then started again: after
 * `pawket materialize --verify`, every materialized document is byte for byte what the node's own route serves for
 * the same base URL, every `.gz` is its document gzipped, and no materialized document points at a file that is not
 * there (each version a versions list names has its `.nupkg` and `.nuspec`, each registration leaf and page an index
 * links to exists, each `packageContent` a leaf names exists). Runs on both backends: the filesystem store and S3 write
 * differently (renames, object puts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/blobs/blob-store.js';
import { openBlobStore } from '../../src/blobs/open.js';
import { configSchema } from '../../src/config/schema.js';
import { freshBackendSettings } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import { freePort } from '../support/postgres.js';
import { describeRun, run } from './support/dotnet.js';
import { pawketMain, startPawket, type PawketServer } from './support/server.js';
import { repoRoot } from './support/paths.js';

const KEY = 'crash-key';
const IDS = Array.from({ length: 6 }, (_, i) => `Crash.Pkg${i}`);
const VERSIONS = ['1.0.0', '1.0.1', '1.1.0', '2.0.0-beta.1', '2.0.0', '2.1.0+build.3', '3.0.0', '3.0.1'];
/** Answered pushes before the kill: the burst is well under way, with more in flight. */
const KILL_AFTER = 18;
const IN_FLIGHT = 8;

const PREFIX = 'static/';

describe('a node killed while it materializes', () => {
  let work: string;
  let dataDir: string;
  let env: Record<string, string>;
  let server: PawketServer | undefined;
  let blobs: BlobStore;
  /** The public URL the documents link to (the node's own, on a port kept across the restart). */
  let base: string;
  let port: number;
  /** Pushes the killed node answered 201: they must be in every document. */
  const acknowledged: Array<{ id: string; version: string }> = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-crash-'));
    dataDir = join(work, 'data');
    const backend = await freshBackendSettings();
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...Object.fromEntries(Object.entries(backend).map(([k, v]) => [`PAWKET_${k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}`, String(v)])),
      PAWKET_API_KEY: KEY,
      PAWKET_MATERIALIZE: 'true',
      PAWKET_BASE_URL: base,
    };
    blobs = await openBlobStore(configSchema.parse({ dataDir, ...backend }), dataDir);
    const packages = IDS.flatMap((id) => VERSIONS.map((version) => ({ id, version })));

    const killed = await startPawket({ dataDir, env, args: ['--port', String(port)] });
    // A package per id first, so that the burst also rewrites documents that exist (and unlists in them).
    const queue = [...packages];
    let answered = 0;
    const send = async (op: { id: string; version: string }): Promise<void> => {
      const body = await buildNupkg({ id: op.id, version: op.version, description: `${op.id} ${op.version}` });
      const res = await fetch(`${killed.baseUrl}/api/v2/package`, { method: 'PUT', body: new Uint8Array(body), headers: { 'x-nuget-apikey': KEY } }).catch(() => null);
      if (res?.status === 201) acknowledged.push(op);
      // Every third version of an id is unlisted as soon as it is in: documents change in place too.
      if (res?.status === 201 && VERSIONS.indexOf(op.version) % 3 === 1) {
        await fetch(`${killed.baseUrl}/api/v2/package/${op.id}/${op.version}`, { method: 'DELETE', headers: { 'x-nuget-apikey': KEY } }).catch(() => null);
      }
      if (++answered === KILL_AFTER) killed.kill();
    };
    const worker = async () => {
      for (let op = queue.shift(); op; op = queue.shift()) await send(op);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await killed.stop();
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER - IN_FLIGHT);
    expect(acknowledged.length).toBeLessThan(packages.length);

    server = await startPawket({ dataDir, env, args: ['--port', String(port)] });
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    blobs?.close?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** `pawket materialize ARGS` beside the running node, on its data dir and database. */
  const materialize = (args: readonly string[]) =>
    run(process.execPath, [pawketMain, 'materialize', ...args, '--data-dir', dataDir], { cwd: repoRoot, env, timeoutMs: 120_000 });

  it('verifies and repairs, after which every document equals the dynamic answer and points only at files that exist', async () => {
    // Exit code 1 when it found (and repaired) differences, which the crash may or may not have left.
    const repaired = await materialize(['--verify']);
    expect([0, 1], describeRun(repaired)).toContain(repaired.code);
    expect(repaired.stdout).toMatch(/^Verified \d+ ids in 1 feeds/m);
    const again = await materialize(['--verify']);
    expect(again.code, describeRun(again)).toBe(0);
    expect(again.stdout).toMatch(/0 documents differed and were rewritten, 0 stray files removed/);

    const keys: string[] = [];
    for await (const { key } of blobs.list()) if (key.startsWith(PREFIX)) keys.push(key);
    const present = new Set(keys);
    const read = async (key: string): Promise<Buffer> => {
      const content = await blobs.open(key);
      expect(content, key).not.toBeNull();
      const chunks: Buffer[] = [];
      for await (const c of content!.stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const pathOf = (key: string) => `/${key.slice(PREFIX.length)}`;
    const keyOf = (url: string) => `${PREFIX}${url.slice(base.length + 1)}`;

    // Each acknowledged push is in the materialized versions list of its id.
    for (const { id, version } of acknowledged) {
      const lower = id.toLowerCase();
      const key = `${PREFIX}v3/flatcontainer/${lower}/index.json`;
      expect(present.has(key), key).toBe(true);
      expect((JSON.parse((await read(key)).toString('utf8')) as { versions: string[] }).versions).toContain(version.split('+')[0]);
    }

    const missing: string[] = [];
    const differing: string[] = [];
    let documents = 0;
    for (const key of keys) {
      const bytes = await read(key);
      if (key.endsWith('.gz')) {
        const plain = key.slice(0, -3);
        if (!present.has(plain)) missing.push(`${plain} (beside ${key})`);
        else if (!gunzipSync(bytes).equals(await read(plain))) differing.push(key);
        continue;
      }
      const answer = await fetch(server!.baseUrl + pathOf(key), { headers: { 'accept-encoding': 'identity' } });
      if (answer.status !== 200 || !Buffer.from(await answer.arrayBuffer()).equals(bytes)) {
        differing.push(`${key} (node: ${answer.status})`);
        continue;
      }
      if (!key.endsWith('.json')) continue;
      documents++;
      if (!present.has(`${key}.gz`)) missing.push(`${key}.gz`);
      const doc = JSON.parse(bytes.toString('utf8')) as unknown;
      if (key.startsWith(`${PREFIX}v3/flatcontainer/`)) {
        const folder = key.slice(0, -'index.json'.length);
        const lower = folder.split('/').at(-2)!;
        for (const v of (doc as { versions: string[] }).versions) {
          for (const file of [`${v}/${lower}.${v}.nupkg`, `${v}/${lower}.nuspec`]) if (!present.has(folder + file)) missing.push(`${folder}${file} (listed in ${key})`);
        }
        continue;
      }
      // Registration: every link into the hives or the flat container is a file that is there.
      // (Icons and readmes are read from inside the package by the nodes; a fragment names a part of a document; a
      // page inlined in its index is never fetched, so only linked pages are files.)
      for (const url of links(doc, base)) {
        const file = url.split('#')[0]!;
        if (!/\/v3\/(registration[a-z0-9-]*|flatcontainer)\//.test(file) || /\/(icon|readme)$/.test(file)) continue;
        if (!present.has(keyOf(file))) missing.push(`${keyOf(file)} (linked from ${key})`);
      }
    }
    expect(documents).toBeGreaterThan(IDS.length);
    expect(differing).toEqual([]);
    expect(missing).toEqual([]);
  }, 180_000);
});

/**
 * Every string in a document that is a URL under `base` a client may fetch: not the `@id` of a registration page
 * inlined in its index (one with its `items`), which clients read where it is.
 */
function links(value: unknown, base: string, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.startsWith(`${base}/`)) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) links(v, base, out);
  } else if (value && typeof value === 'object') {
    const inlinedPage = (value as { '@type'?: unknown })['@type'] === 'catalog:CatalogPage' && Array.isArray((value as { items?: unknown }).items);
    for (const [k, v] of Object.entries(value)) if (!(inlinedPage && k === '@id')) links(v, base, out);
  }
  return out;
}
