/**
 * Promotion seen by two nodes on one database (both backends): the read fence makes a node that had the ids cached
 * answer with the promoted packages as soon as the promotion returned, not one change poll later.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { startNode, stopNodes, type Node } from '../../support/nodes.js';
import { freshBackendSettings } from '../../support/backend.js';
import { buildNupkg } from '../../support/nupkg.js';

const KEY = 'fence-test-key-0123456789';
let dataDir: string;
const nodes: Node[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pawket-fence-'));
  const settings = { dataDir, apiKeys: [KEY], logLevel: 'silent', stagingApiPromotion: true, ...(await freshBackendSettings()) };
  // The second node polls the change log once a second: without the fence, a read just after the promotion would be
  // answered from its cache for up to that long.
  nodes.push(await startNode(configSchema.parse({ ...settings, changePollInterval: 100 })));
  nodes.push(await startNode(configSchema.parse({ ...settings, changePollInterval: 1000 })));
});

afterAll(async () => {
  await stopNodes(nodes);
  await rm(dataDir, { recursive: true, force: true });
});

async function versionsOn(node: Node, id: string): Promise<string[]> {
  const res = await fetch(`${node.url}/v3/flatcontainer/${id.toLowerCase()}/index.json`);
  if (res.status === 404) return [];
  return ((await res.json()) as { versions: string[] }).versions;
}

describe('promotion on several nodes', () => {
  it('a node with the ids cached serves the promoted group as soon as the promotion returns', async () => {
    const [a, b] = nodes as [Node, Node];
    const ids = Array.from({ length: 8 }, (_, i) => `Fenced.Pkg${i}`);
    const send = async (path: string, id: string, version: string, groupId?: string) => {
      const form = new FormData();
      form.append('package', new Blob([new Uint8Array(await buildNupkg({ id, version }))]), 'x.nupkg');
      if (groupId) form.append('groupId', groupId);
      return (await fetch(`${a.url}${path}`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': KEY } })).status;
    };
    for (const id of ids) {
      expect(await send('/api/v2/package', id, '1.0.0')).toBe(201);
      expect(await send('/v3/staging/package', id, '2.0.0', 'fenced')).toBe(201);
    }
    // Node b has every id's versions list cached.
    await expect.poll(async () => (await Promise.all(ids.map((id) => versionsOn(b, id)))).flat().length, { timeout: 5000 }).toBe(ids.length);
    for (const id of ids) expect(await versionsOn(b, id)).toEqual(['1.0.0']);

    const promoted = await fetch(`${a.url}/v3/staging/groups/fenced/promote`, { method: 'POST', headers: { 'x-nuget-apikey': KEY } });
    expect(promoted.status).toBe(200);
    // Read right away on b, in reverse order and all at once: every id has its new version.
    const seen = await Promise.all([...ids].reverse().map((id) => versionsOn(b, id)));
    expect(seen.every((v) => v.join() === '1.0.0,2.0.0'), JSON.stringify(seen)).toBe(true);
  });

  it('raising a fence waits for every live node, and each node holds it until it is lowered', async () => {
    const [a, b] = nodes as [Node, Node];
    const raised = await a.feed.hub.fence.raise();
    expect(raised.unacknowledged).toEqual([]);
    expect(b.feed.hub.fence.isRaised).toBe(true);
    let admitted = false;
    b.feed.hub.fence.admit(() => (admitted = true));
    // While raised, a request waits for a poll of the change log.
    expect(admitted).toBe(false);
    await expect.poll(() => admitted, { timeout: 5000 }).toBe(true);
    await a.feed.hub.fence.lower(raised);
    await expect.poll(() => b.feed.hub.fence.isRaised, { timeout: 5000 }).toBe(false);
    let now = false;
    b.feed.hub.fence.admit(() => (now = true));
    expect(now).toBe(true);
  });
});
