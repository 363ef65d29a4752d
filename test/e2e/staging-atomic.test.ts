/**
 * A staging group promotes atomically, as restore clients see it (docs/STAGING.md, Promotion). Two `pawket serve`
 * nodes share one database and storage behind nginx round-robin, with the default change poll interval. 50 ids have
 * 1.0.0 published and read on both nodes (their versions lists and registration indexes are cached there); 2.0.0 of
 * every id is staged into one group, which one node promotes through the API while 8 readers restore through nginx:
 * versions lists (`flatcontainer/{id}/index.json`) and registration indexes of the ids in a new random order each pass,
 * and the 2.0.0 `.nupkg` of ids where the reader has seen 2.0.0.
 *
 * The property, on the test's one clock: each reader sends its requests one after another. A response is "new" when it
 * shows 2.0.0 of its id (a download: when it succeeds). Once any response is new, every response started after it
 * ended — from any reader, through either node — is new: no reader can see part of the group, whichever node answers.
 * No response is new before the promotion started, and every response started after the promotion returned is new.
 * Each reader sees 2.0.0 of all 50 ids by the end.
 *
 * Without the read fence, the node that did not commit answers from its caches until its next change poll while the
 * other already serves the group: this test sees it whenever the committing node answers a reader before the other
 * polls (most runs on an idle machine; on a saturated one, both nodes re-reading 50 ids at once can hide it).
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxBinary } from '../support/nginx.js';
import { buildNupkg } from '../support/nupkg.js';
import { startCluster, type PawketCluster } from './support/cluster.js';
import { requireClients } from './support/dotnet.js';

const KEY = 'atomic-promotion-key';
const GROUP = 'release-2';
const IDS = Array.from({ length: 50 }, (_, i) => `Atomic.P${String(i).padStart(2, '0')}`);
const READERS = 8;
/** How long readers run before the promotion starts, and at least how long after it returned, in ms. */
const BEFORE_MS = 1000;
const AFTER_MS = 1500;

const { skip } = requireClients('staging atomicity (2 Pawket nodes behind nginx)', nginxBinary ? [] : ['nginx']);

type Kind = 'versions' | 'registration' | 'nupkg';

/** One response a reader got; times are `performance.now()` of the test process. */
interface Sample {
  readonly reader: number;
  readonly id: string;
  readonly kind: Kind;
  readonly start: number;
  readonly end: number;
  /** The node that answered (nginx's `X-Upstream`). */
  readonly node: string;
  readonly status: number;
  /** What the response shows of the id: `1.0.0` and `2.0.0`, or a download's outcome. */
  readonly versions: readonly string[];
}

const isNew = (s: Sample) => s.versions.includes('2.0.0');

interface RegistrationIndex {
  readonly items: ReadonlyArray<{ readonly upper: string; readonly items?: ReadonlyArray<{ readonly catalogEntry: { readonly version: string } }> }>;
}

/** Reads one URL of one id and says which versions of it the response shows. */
async function read(base: string, id: string, kind: Kind): Promise<{ status: number; node: string; versions: string[] }> {
  const lower = id.toLowerCase();
  const path =
    kind === 'versions'
      ? `/v3/flatcontainer/${lower}/index.json`
      : kind === 'registration'
        ? `/v3/registration-gz-semver2/${lower}/index.json`
        : `/v3/flatcontainer/${lower}/2.0.0/${lower}.2.0.0.nupkg`;
  const res = await fetch(base + path);
  const node = res.headers.get('x-upstream') ?? base;
  if (res.status !== 200) {
    await res.arrayBuffer();
    return { status: res.status, node, versions: [] };
  }
  if (kind === 'nupkg') return { status: 200, node, versions: (await res.arrayBuffer()).byteLength > 0 ? ['2.0.0'] : [] };
  if (kind === 'versions') return { status: 200, node, versions: ((await res.json()) as { versions: string[] }).versions };
  const index = (await res.json()) as RegistrationIndex;
  // Pages list their leaves when they are small (these are); a page without them still names its highest version.
  return { status: 200, node, versions: index.items.flatMap((page) => page.items?.map((leaf) => leaf.catalogEntry.version) ?? [page.upper]) };
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe.skipIf(skip)('promotion of a staging group seen through a load balancer', () => {
  let cluster: PawketCluster | undefined;

  beforeAll(async () => {
    cluster = await startCluster(2, { PAWKET_API_KEY: KEY, PAWKET_STAGING_API_PROMOTION: 'true' });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('never shows part of a 50-package group to readers on either node', { timeout: 120_000 }, async () => {
    const { nodes, lb } = cluster!;
    const [a] = nodes;
    const auth = { 'x-nuget-apikey': KEY };
    const upload = async (path: string, id: string, version: string, groupId?: string) => {
      const form = new FormData();
      form.append('package', new Blob([new Uint8Array(await buildNupkg({ id, version }))]), `${id}.${version}.nupkg`);
      if (groupId) form.append('groupId', groupId);
      const res = await fetch(`${a!.baseUrl}${path}`, { method: 'PUT', body: form, headers: auth });
      expect(res.status, `${path} ${id} ${version}: ${await res.text()}`).toBe(201);
    };
    const group = await fetch(`${a!.baseUrl}/v3/staging/groups`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: GROUP, name: 'Release 2' }),
    });
    expect(group.status, await group.text()).toBe(201);
    for (let i = 0; i < IDS.length; i += 5) {
      await Promise.all(
        IDS.slice(i, i + 5).map(async (id) => {
          await upload('/api/v2/package', id, '1.0.0');
          await upload('/v3/staging/package', id, '2.0.0', GROUP);
        }),
      );
    }
    // Both nodes read every id once: their versions lists and registration indexes are cached, with 1.0.0 only.
    for (const node of nodes) {
      for (const id of IDS) {
        for (const kind of ['versions', 'registration'] as const) expect((await read(node.baseUrl, id, kind)).versions).toEqual(['1.0.0']);
      }
    }

    const samples: Sample[] = [];
    let promoteStart = Infinity;
    let promoteEnd = Infinity;
    const reader = async (r: number) => {
      const seenNew = new Set<string>();
      for (;;) {
        const passStart = performance.now();
        for (const id of shuffled(IDS)) {
          const kind: Kind = seenNew.has(id) && Math.random() < 0.25 ? 'nupkg' : Math.random() < 0.5 ? 'versions' : 'registration';
          const start = performance.now();
          const got = await read(lb.url, id, kind).catch((err: unknown) => ({ status: 0, node: String(err), versions: [] }));
          const sample = { reader: r, id, kind, start, end: performance.now(), ...got };
          samples.push(sample);
          if (isNew(sample)) seenNew.add(id);
        }
        // Done after a whole pass that started once the promotion had returned, and a while after it.
        if (passStart > promoteEnd && performance.now() > promoteEnd + AFTER_MS) return;
      }
    };
    const readers = Promise.all(Array.from({ length: READERS }, (_, r) => reader(r)));

    await new Promise((resolve) => setTimeout(resolve, BEFORE_MS));
    promoteStart = performance.now();
    let promoted: Response;
    try {
      promoted = await fetch(`${a!.baseUrl}/v3/staging/groups/${GROUP}/promote`, { method: 'POST', headers: auth });
    } finally {
      // The readers stop a while after this, whatever the promotion answered.
      promoteEnd = performance.now();
    }
    await readers;
    const promotion = await promoted.text();
    expect(promoted.status, promotion).toBe(200);
    expect((JSON.parse(promotion) as { packages: unknown[] }).packages).toHaveLength(IDS.length);

    const rel = (t: number) => `${Math.round(t - promoteStart)} ms`;
    const show = (s: Sample) => `reader ${s.reader} ${s.kind} ${s.id} via ${s.node}: [${s.versions.join(', ')}] (${rel(s.start)} to ${rel(s.end)})`;
    // Every answer was a good one: 200, with the published 1.0.0 (downloads are of 2.0.0 only).
    const failed = samples.filter((s) => s.status !== 200 || (s.kind !== 'nupkg' && !s.versions.includes('1.0.0')));
    expect(failed.map(show)).toEqual([]);

    const news = samples.filter(isNew);
    const early = news.filter((s) => s.end < promoteStart);
    expect(early.map(show), 'responses showing 2.0.0 before the promotion started').toEqual([]);
    expect(news.length, 'responses showing 2.0.0').toBeGreaterThan(0);
    const firstNew = news.reduce((first, s) => (s.end < first.end ? s : first));
    const partial = samples.filter((s) => s.start > firstNew.end && !isNew(s));
    expect(partial.map(show), `responses without 2.0.0 after ${show(firstNew)}`).toEqual([]);
    const late = samples.filter((s) => s.start > promoteEnd && !isNew(s));
    expect(late.map(show), 'responses without 2.0.0 after the promotion returned').toEqual([]);

    const firstPerReader = Array.from({ length: READERS }, (_, r) => news.find((s) => s.reader === r));
    for (let r = 0; r < READERS; r++) {
      expect(new Set(news.filter((s) => s.reader === r).map((s) => s.id)).size, `ids reader ${r} saw with 2.0.0`).toBe(IDS.length);
    }
    const during = samples.filter((s) => s.end > promoteStart && s.start < promoteEnd);
    const took = during.map((s) => s.end - s.start).sort((x, y) => x - y);
    const quantile = (q: number) => Math.round(took[Math.min(took.length - 1, Math.floor(took.length * q))] ?? NaN);
    const perNode = new Map<string, number>();
    for (const s of samples) perNode.set(s.node, (perNode.get(s.node) ?? 0) + 1);
    expect(perNode.size, 'both nodes answered readers').toBe(2);
    console.log(
      [
        `staging atomicity: promotion of ${IDS.length} packages took ${Math.round(promoteEnd - promoteStart)} ms;`,
        `${samples.length} requests by ${READERS} readers (${during.length} overlapping the promotion, taking`,
        `p50 ${quantile(0.5)} / p90 ${quantile(0.9)} / max ${quantile(1)} ms;`,
        `per node ${[...perNode.values()].join(' / ')}; ${samples.filter((s) => s.kind === 'nupkg').length} downloads);`,
        `first response with 2.0.0 per reader ended at ${firstPerReader.map((s) => rel(s!.end)).join(', ')} after the promotion started`,
      ].join(' '),
    );
  });
});
