/**
 * Materialization on several nodes sharing one database and blob store (both backends): concurrent pushes of one id
 * through two nodes converge on documents equal to what the routes serve, and changes made by a process that does not
 * materialize (an older node, a command) are written by a serving node's sweep of the change log.
 */
import { gunzipSync } from 'node:zlib';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { startNode, stopNodes, type Node } from '../../support/nodes.js';
import { documentPaths } from '../../../src/materialize/layout.js';
import { freshBackendSettings } from '../../support/backend.js';
import { buildNupkg } from '../../support/nupkg.js';

const KEY = 'materialize-nodes-key-0123456789';
const BASE = 'http://restore.example.test';

let dataDir: string;
const nodes: Node[] = [];

const push = async (node: Node, id: string, version: string) => {
  const res = await fetch(`${node.url}/api/v2/package`, { method: 'PUT', headers: { 'x-nuget-apikey': KEY }, body: new Uint8Array(await buildNupkg({ id, version })) });
  expect(res.status).toBe(201);
};

const read = async (node: Node, key: string) => {
  const content = await node.feed.blobs.open(key);
  if (!content) return null;
  const chunks: Buffer[] = [];
  for await (const c of content.stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/** The materialized documents of an id equal the routes' answers (and the gzip twins their plain bytes). */
async function expectConverged(node: Node, lid: string): Promise<string[]> {
  const flat = await fetch(`${node.url}/${documentPaths.flatIndex(lid)}`, { headers: { 'accept-encoding': 'identity' } });
  const versions = ((await flat.json()) as { versions: string[] }).versions;
  const paths = [
    documentPaths.flatIndex(lid),
    ...['/v3/registration/', '/v3/registration-gz-semver2/'].map((h) => documentPaths.registrationIndex(h, lid)),
    ...versions.map((v) => documentPaths.leaf('/v3/registration/', lid, v)),
  ];
  for (const path of paths) {
    const res = await fetch(`${node.url}/${path}`, { headers: { 'accept-encoding': 'identity' } });
    const expected = Buffer.from(await res.arrayBuffer());
    expect(await read(node, `static/${path}`), path).toEqual(expected);
    expect(gunzipSync((await read(node, `static/${path}.gz`))!), `${path}.gz`).toEqual(expected);
  }
  return versions;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pawket-materialize-nodes-'));
  const settings = { dataDir, apiKeys: [KEY], logLevel: 'silent', baseUrl: BASE, changePollInterval: 100, ...(await freshBackendSettings()) };
  nodes.push(await startNode(configSchema.parse({ ...settings, materialize: true })));
  nodes.push(await startNode(configSchema.parse({ ...settings, materialize: true })));
  // A node of a release before materialization (or one with it off): its changes reach the documents by the sweep.
  nodes.push(await startNode(configSchema.parse({ ...settings, materialize: false })));
});

afterAll(async () => {
  await stopNodes(nodes);
  await rm(dataDir, { recursive: true, force: true });
});

describe('materialization on several nodes', () => {
  it('concurrent pushes of one id through two nodes converge on the documents the routes serve', async () => {
    const [a, b] = nodes as [Node, Node];
    await Promise.all(Array.from({ length: 12 }, (_, i) => push(i % 2 ? a : b, 'Shared.Id', `1.${i}.0`)));
    await Promise.all([a, b].map((n) => n.feed.hub.shared.materializer!.idle()));
    expect(await expectConverged(a, 'shared.id')).toHaveLength(12);
  });

  it("a change made where nothing materializes is written by a serving node's sweep", async () => {
    const [a, , old] = nodes as [Node, Node, Node];
    await a.feed.hub.shared.materializer!.start();
    await push(old, 'Old.Node', '1.0.0');
    await expect.poll(() => read(a, `static/${documentPaths.flatIndex('old.node')}`), { timeout: 15_000, interval: 200 }).not.toBeNull();
    await a.feed.hub.shared.materializer!.idle();
    expect(await expectConverged(a, 'old.node')).toEqual(['1.0.0']);
  });
});
