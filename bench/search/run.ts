/**
 * Search benchmark: a feed of 10,000 ids × 10 versions (synthetic, realistic names and descriptions), then
 *  1. the database size;
 *  2. in process: index load time and memory, the indexing cost of one push (re-reading an id), and the pure index
 *     time of each kind of query;
 *  3. a real server process under autocannon: search and autocomplete latency (p50/p99) and requests/s for a mix of
 *     queries, at one connection (latency) and several (throughput);
 *  4. pushes through that server: push latency and the time until a pushed version is found by search.
 *
 *   npm run bench:search [-- --ids 10000 --versions 10 --duration 10 --connections 1,8 --fresh --results FILE]
 *
 * The seeded feed is kept (in the temp dir, per size) and reused by later runs; --fresh seeds it again.
 * Flags (or environment): --ids [BENCH_IDS=10000] --versions [BENCH_VERSIONS=10] --duration S [BENCH_DURATION=10]
 * --warmup S [BENCH_WARMUP=2] --connections LIST [BENCH_CONNECTIONS=1,8] --work DIR [BENCH_WORK] --fresh
 * --results FILE [BENCH_RESULTS] (JSON).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { configSchema } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/open.js';
import { FeedEvents } from '../../src/feed/events.js';
import { openFeed } from '../../src/feed/feed.js';
import { MemorySearchIndex } from '../../src/feed/search/memory-index.js';
import { lowerId } from '../../src/nuget/id.js';
import { buildNupkg } from '../../test/support/nupkg.js';
import { AREAS, VENDORS, buildBenchPackage, packageSpecs, packageVersions, random, type BenchPackageSpec } from './feed-model.js';

// ---------------------------------------------------------------------------------------------------------------
// Settings

const argv = process.argv.slice(2);
function flag(name: string, env: string, fallback: string): string {
  const at = argv.indexOf(`--${name}`);
  if (at >= 0 && argv[at + 1] !== undefined) return argv[at + 1]!;
  return process.env[env] || fallback;
}
const IDS = Number(flag('ids', 'BENCH_IDS', '10000'));
const VERSIONS = Number(flag('versions', 'BENCH_VERSIONS', '10'));
const DURATION = Number(flag('duration', 'BENCH_DURATION', '10'));
const WARMUP = Number(flag('warmup', 'BENCH_WARMUP', '2'));
const CONNECTIONS = flag('connections', 'BENCH_CONNECTIONS', '1,8').split(',').map(Number);
const WORK = flag('work', 'BENCH_WORK', join(tmpdir(), `pawket-bench-search-${IDS}x${VERSIONS}`));
const RESULTS = flag('results', 'BENCH_RESULTS', '');
const FRESH = argv.includes('--fresh');
const KEY = 'bench-search-key';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const MiB = 1024 * 1024;

const log = (line: string) => process.stdout.write(`${line}\n`);
const ms = (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
function summary(samples: number[]): { mean: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return { mean, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 };
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Seeding (through the feed's PublishService: the real push pipeline, without HTTP)

const MARKER = 'bench-search-seeded.json';

async function seed(specs: BenchPackageSpec[], versions: string[]): Promise<void> {
  if (!FRESH && existsSync(join(WORK, MARKER))) {
    log(`Reusing the seeded feed in ${WORK} (--fresh to seed again)`);
    return;
  }
  await rm(WORK, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  const feed = await openFeed(configSchema.parse({ dataDir: WORK, apiKeys: [KEY], logLevel: 'silent' }));
  const principal = await feed.auth.authenticate(KEY);
  const started = performance.now();
  let done = 0;
  let last = started;
  const jobs: [BenchPackageSpec, string][] = [];
  for (const spec of specs) for (const v of versions) jobs.push([spec, v]);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const job = next++;
      const [spec, version] = jobs[job]!;
      const body = await buildBenchPackage(spec, version);
      const file = join(feed.tempDir, `${job}.upload`);
      await writeFile(file, body);
      await feed.publish.publish({ file, size: body.length, sha512: createHash('sha512').update(body).digest('base64') }, principal);
      done++;
      if (performance.now() - last > 15_000) {
        last = performance.now();
        log(`  ... ${done}/${jobs.length} pushed`);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  const seconds = (performance.now() - started) / 1000;
  log(`Seeded ${done} packages (${specs.length} ids × ${versions.length} versions) in ${seconds.toFixed(0)} s (${(done / seconds).toFixed(0)} pushes/s)`);

  // Downloads with a long tail, as real feeds have: a few ids are downloaded a lot, most rarely.
  const rnd = random(7);
  const counts = specs.flatMap((spec, i) =>
    versions.map((v) => ({ lowerId: lowerId(spec.id), lowerVersion: v.toLowerCase(), count: Math.floor((20_000 / (i + 1)) * rnd()) })),
  );
  await feed.db.addDownloadCounts(counts.filter((c) => c.count > 0));
  await feed.close();
  await writeFile(join(WORK, MARKER), JSON.stringify({ ids: specs.length, versions: versions.length, at: new Date().toISOString() }));
}

function databaseSize(): number {
  return ['pawket.sqlite', 'pawket.sqlite-wal'].reduce((sum, f) => sum + (existsSync(join(WORK, f)) ? statSync(join(WORK, f)).size : 0), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Query mixes

type Kind = 'exact id' | 'one word' | 'id prefix' | 'two words' | 'text only' | 'field' | 'empty' | 'typo';

function typo(word: string, rnd: () => number): string {
  const i = 1 + Math.floor(rnd() * (word.length - 2));
  return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}

/** Search queries people type, by kind, with the parameters the dotnet CLI and Visual Studio send. */
function searchQueries(specs: BenchPackageSpec[], count: number): { kind: Kind; q: string; path: string }[] {
  const rnd = random(1234);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const areaWords = AREAS.flatMap((a) => a.words.filter((w) => !w.includes(' ')));
  const textWords = ['production', 'async', 'services', 'contracts', 'helpers', 'integration', 'persistence', 'memoization'];
  const kinds: [Kind, number, () => string][] = [
    ['exact id', 20, () => (rnd() < 0.5 ? pick(specs).id : pick(specs).id.toLowerCase())],
    ['one word', 20, () => (rnd() < 0.6 ? pick(areaWords) : pick(VENDORS).toLowerCase())],
    ['id prefix', 10, () => {
      const id = pick(specs).id;
      return id.slice(0, 3 + Math.floor(rnd() * Math.min(10, id.length - 3)));
    }],
    ['two words', 15, () => `${pick(VENDORS).toLowerCase()} ${pick(areaWords)}`],
    ['text only', 10, () => pick(textWords)],
    ['field', 10, () => pick([`tags:${pick(areaWords)}`, `author:${pick(VENDORS)}`, `id:${pick(areaWords)}`, `packageid:${pick(specs).id}`, `title:"${pick(VENDORS)} ${pick(AREAS).name.split('.')[0]}"`])],
    ['empty', 5, () => ''],
    ['typo', 10, () => typo(rnd() < 0.5 ? pick(VENDORS).toLowerCase() : pick(areaWords.filter((w) => w.length >= 5)), rnd)],
  ];
  const total = kinds.reduce((s, [, w]) => s + w, 0);
  const out: { kind: Kind; q: string; path: string }[] = [];
  for (let i = 0; i < count; i++) {
    let r = rnd() * total;
    const [kind, , make] = kinds.find(([, w]) => (r -= w) < 0) ?? kinds[0]!;
    const q = make();
    const params = rnd() < 0.7 ? 'skip=0&take=20&prerelease=true&semVerLevel=2.0.0' : 'skip=0&take=25&prerelease=false&semVerLevel=2.0.0';
    out.push({ kind, q, path: `/v3/search?q=${encodeURIComponent(q)}&${params}` });
  }
  return out;
}

/** Autocomplete as a user types an id (prefixes of 1 to 12 characters, some of later words), and version lookups. */
function autocompletePaths(specs: BenchPackageSpec[], count: number): string[] {
  const rnd = random(99);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const spec = specs[Math.floor(rnd() * specs.length)]!;
    const r = rnd();
    if (r < 0.15) {
      out.push(`/v3/autocomplete?id=${encodeURIComponent(spec.id.toLowerCase())}&prerelease=true&semVerLevel=2.0.0`);
      continue;
    }
    const words = spec.id.split('.');
    const text = r < 0.35 ? words[1 + Math.floor(rnd() * (words.length - 1))]! : spec.id;
    const q = text.slice(0, 1 + Math.floor(rnd() * Math.min(12, text.length))).toLowerCase();
    out.push(`/v3/autocomplete?q=${encodeURIComponent(q)}&take=20&prerelease=true&semVerLevel=2.0.0`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. In process: load, memory, indexing cost per push, pure query time

function gc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

async function inProcess(specs: BenchPackageSpec[]) {
  const collect = gc();
  const db = await openDatabase('sqlite', WORK);
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const index = new MemorySearchIndex(db, new FeedEvents());
  await index.whenLoaded();
  const loadMs = performance.now() - started;
  collect();
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / MiB;
  const stats = index.stats();

  // The work one push makes the index do: read the id's versions and counts again, rebuild its entry.
  const rnd = random(5);
  const refresh: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const id = lowerId(specs[Math.floor(rnd() * specs.length)]!.id);
    const t = performance.now();
    await index.refresh(id);
    refresh.push(performance.now() - t);
  }

  // Pure index time per kind of query (no HTTP, no JSON), after a warm-up pass (JIT, caches).
  for (const { q } of searchQueries(specs, 1000)) await index.search({ query: q, skip: 0, take: 20, prerelease: true, semVer2: true, packageType: null });
  const byKind = new Map<Kind, number[]>();
  for (const { kind, q } of searchQueries(specs, 4000)) {
    const t = performance.now();
    await index.search({ query: q, skip: 0, take: 20, prerelease: true, semVer2: true, packageType: null });
    const list = byKind.get(kind) ?? [];
    list.push(performance.now() - t);
    byKind.set(kind, list);
  }
  const auto: number[] = [];
  for (const path of autocompletePaths(specs, 4000)) {
    const q = new URL(path, 'http://x').searchParams;
    const t = performance.now();
    if (q.has('id')) await index.autocompleteVersions(q.get('id')!, { prerelease: true, semVer2: true, packageType: null });
    else await index.autocompleteIds({ query: q.get('q')!, skip: 0, take: 20, prerelease: true, semVer2: true, packageType: null });
    auto.push(performance.now() - t);
  }
  await index.close();
  await db.close();
  return { loadMs, heapMiB, stats, refresh: summary(refresh), byKind: [...byKind].map(([kind, s]) => ({ kind, ...summary(s) })), autocomplete: summary(auto) };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. A real server under load

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
}

async function startServer(): Promise<Server> {
  const main = join(repoRoot, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error('dist/cli/main.js is missing: run `npm run build` first (npm run bench:search does)');
  const child = spawn(process.execPath, [main, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', WORK], {
    // Hard deletes, so the versions the push measurement adds can be removed and the seeded feed stays as seeded.
    env: { ...process.env, PAWKET_API_KEY: KEY, PAWKET_LOG_LEVEL: 'warn', PAWKET_DELETE_MODE: 'delete' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      output += c;
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/v3\/index\.json/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${output}`)));
  });
  return { url, child, output: () => output };
}

async function stopServer(server: Server): Promise<void> {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { average: number; p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}

async function load(server: Server, paths: readonly string[], connections: number, seconds: number) {
  // autocannon ships no types; a non-literal specifier keeps the compiler from looking for them.
  const name: string = 'autocannon';
  const autocannon = ((await import(name)) as { default: (o: Record<string, unknown>) => Promise<AutocannonResult> }).default;
  let next = 0;
  const r = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [{ setupRequest: (req: { path: string }) => ({ ...req, path: paths[next++ % paths.length]! }) }],
  });
  return {
    connections,
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

/**
 * One request at a time with a sub-millisecond clock (autocannon reports whole milliseconds): the latency a single
 * user sees, including HTTP and JSON, on an otherwise idle server.
 */
async function sequential(server: Server, paths: readonly string[], seconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      http
        .get(server.url + path, { agent }, (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        })
        .on('error', reject);
    });
  const samples: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const t = performance.now();
    if ((await get(paths[i % paths.length]!)) !== 200) errors++;
    samples.push(performance.now() - t);
  }
  agent.destroy();
  return { rps: samples.length / seconds, errors, ...summary(samples) };
}

/** Pushes new versions of existing ids and measures the push and the time until search shows the new version. */
async function pushes(server: Server, specs: BenchPackageSpec[], count: number) {
  const rnd = random(77);
  const push: number[] = [];
  const visible: number[] = [];
  for (let i = 0; i < count; i++) {
    const spec = specs[Math.floor(rnd() * specs.length)]!;
    const version = `9.${i}.0`;
    const body = await buildNupkg({ id: spec.id, version, description: spec.description });
    const t = performance.now();
    const res = await fetch(`${server.url}/api/v2/package`, { method: 'PUT', body: new Uint8Array(body), headers: { 'x-nuget-apikey': KEY } });
    if (res.status !== 201) throw new Error(`push answered ${res.status}: ${await res.text()}`);
    push.push(performance.now() - t);
    for (;;) {
      const found = (await (await fetch(`${server.url}/v3/search?q=packageid:${encodeURIComponent(spec.id)}&prerelease=true&semVerLevel=2.0.0`)).json()) as {
        data: { version: string }[];
      };
      if (found.data[0]?.version === version) break;
    }
    visible.push(performance.now() - t);
    const removed = await fetch(`${server.url}/api/v2/package/${spec.id}/${version}`, { method: 'DELETE', headers: { 'x-nuget-apikey': KEY } });
    if (removed.status !== 200) throw new Error(`delete answered ${removed.status}: ${await removed.text()}`);
  }
  return { push: summary(push), visible: summary(visible) };
}

// ---------------------------------------------------------------------------------------------------------------

const specs = packageSpecs(IDS);
const versions = packageVersions(VERSIONS);
log(`Search benchmark: ${IDS} ids × ${VERSIONS} versions, work dir ${WORK}`);
await seed(specs, versions);
const dbBytes = databaseSize();
log(`Database: ${(dbBytes / MiB).toFixed(1)} MiB (${((dbBytes / (IDS * VERSIONS)) / 1024).toFixed(2)} KiB per package)`);

log('\nIn process (index only, no HTTP):');
const inproc = await inProcess(specs);
log(`  load ${(inproc.loadMs / 1000).toFixed(2)} s, heap +${inproc.heapMiB.toFixed(0)} MiB for ${inproc.stats.ids} ids, ${inproc.stats.documents} documents, ${inproc.stats.idWords} id words, ${inproc.stats.textWords} text words`);
log(`  indexing cost per push (re-read one id): mean ${ms(inproc.refresh.mean)}, p50 ${ms(inproc.refresh.p50)}, p99 ${ms(inproc.refresh.p99)}`);
for (const k of inproc.byKind) log(`  search ${k.kind.padEnd(10)} p50 ${ms(k.p50).padStart(9)}  p99 ${ms(k.p99).padStart(9)}  max ${ms(k.max)}`);
log(`  autocomplete          p50 ${ms(inproc.autocomplete.p50).padStart(9)}  p99 ${ms(inproc.autocomplete.p99).padStart(9)}  max ${ms(inproc.autocomplete.max)}`);

log('\nServer process under load (autocannon, loopback):');
const started = performance.now();
const server = await startServer();
let readyMs = 0;
for (;;) {
  const res = await fetch(`${server.url}/v3/search?q=contoso&take=1`);
  await res.arrayBuffer();
  if (res.status === 200) break;
}
readyMs = performance.now() - started;
log(`  start-up until search answers: ${(readyMs / 1000).toFixed(2)} s`);

const searchPaths = searchQueries(specs, 5000).map((s) => s.path);
const autoPaths = autocompletePaths(specs, 5000);
const runs: Record<string, unknown>[] = [];
try {
  await load(server, searchPaths, 4, WARMUP);
  await load(server, autoPaths, 4, WARMUP);
  for (const [what, paths] of [['search', searchPaths], ['autocomplete', autoPaths]] as const) {
    const r = await sequential(server, paths, DURATION);
    runs.push({ what, connections: 'sequential', ...r });
    log(`  ${what.padEnd(12)} one at a time: ${r.rps.toFixed(0).padStart(6)} req/s  mean ${ms(r.mean)}  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}  max ${ms(r.max)}${r.errors ? `  ERRORS ${r.errors}` : ''}`);
  }
  for (const c of CONNECTIONS) {
    for (const [what, paths] of [['search', searchPaths], ['autocomplete', autoPaths]] as const) {
      const r = await load(server, paths, c, DURATION);
      runs.push({ what, ...r });
      log(`  ${what.padEnd(12)} ${String(c).padStart(2)} conn: ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${ms(r.p50).padStart(9)}  p90 ${ms(r.p90).padStart(9)}  p99 ${ms(r.p99).padStart(9)}  max ${ms(r.max)}${r.errors ? `  ERRORS ${r.errors}` : ''}`);
    }
  }
  const p = await pushes(server, specs, 200);
  log(`  push (HTTP, 200 new versions of existing ids): p50 ${ms(p.push.p50)}, p99 ${ms(p.push.p99)}; found by search after p50 ${ms(p.visible.p50)}, p99 ${ms(p.visible.p99)}`);
  runs.push({ what: 'push', ...p });
} finally {
  await stopServer(server);
}

if (RESULTS) {
  await writeFile(RESULTS, JSON.stringify({ ids: IDS, versions: VERSIONS, databaseBytes: dbBytes, inProcess: inproc, startupMs: readyMs, runs }, null, 2));
  log(`\nResults written to ${RESULTS}`);
}
