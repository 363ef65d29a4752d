/**
 * Push throughput as an id grows: pushes/s into new ids, then into one id that already has thousands of versions, and
 * how fast that id's registration index and a page answer next to a 10-version id's. The aims (issue: restore at the
 * speed of static files): the 5,000th version pushes as fast as a new id's first, and at >= 1.5x BaGetter's 227/s
 * (measured once on the same 2-core machine; BaGetter is not installed here, so the figure is a constant); the
 * registration index and a page of the big id answer within 2x of the small id's.
 *
 *   npm run bench:push [-- --versions 5000] [-- --pushes 500] [-- --concurrency 8]
 *
 * (The npm script builds first; `npx tsx bench/push/run.ts` uses dist/ as it is; `BENCH_PAWKET_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=$PWD/.tmp/prof"` profiles the server.) One server process, SQLite and
 * packages on disk (the defaults), log level `warn`. Packages are built before the clock starts, about 1.5 KB each,
 * pushed raw (`PUT /api/v2/package`) with `--concurrency` in flight, as `dotnet nuget push` from several agents would.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachLimit, request } from '../restore/common.js';
import { buildNupkg } from '../../test/support/nupkg.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const bigVersions = arg('--versions', 5000);
const pushes = arg('--pushes', 500);
const concurrency = arg('--concurrency', 8);
const main = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const KEY = 'bench-push-key-0123456789';
/** BaGetter 1.6.5's pushes/s on the same machine, flat as the id grows (the issue's measurement; not measured here). */
const BAGETTER_PUSHES_PER_S = 227;
const WARM_REQUESTS = 200;

const version = (k: number) => `${1 + Math.floor(k / 1000)}.${Math.floor(k / 10) % 100}.${k % 10}`;

function build(id: string, v: string): Promise<Buffer> {
  return buildNupkg({
    id,
    version: v,
    description: `${id} ${v}: a package of the push benchmark.`,
    dependencies: { 'net8.0': [['Microsoft.Extensions.Logging.Abstractions', '8.0.0']] },
    files: [{ name: `lib/net8.0/${id}.dll`, data: Buffer.alloc(1024, 7) }],
  });
}

async function buildAll(id: (k: number) => string, from: number, count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let k = from; k < from + count; k++) out.push(await build(id(k), version(k)));
  return out;
}

/** Pushes every package, `concurrency` in flight; returns pushes/s, and calls `each` with the running count. */
async function pushAll(base: string, bodies: Buffer[], each?: (done: number, ms: number) => void): Promise<number> {
  const started = performance.now();
  let done = 0;
  await forEachLimit(bodies, concurrency, async (body) => {
    const res = await request(`${base}/api/v2/package`, {
      method: 'PUT',
      headers: { 'x-nuget-apikey': KEY, 'content-type': 'application/octet-stream', 'content-length': body.length },
      body,
    });
    if (res.status !== 201) throw new Error(`push answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
    each?.(++done, performance.now() - started);
  });
  return bodies.length / ((performance.now() - started) / 1000);
}

async function get(url: string): Promise<number> {
  const started = performance.now();
  const res = await request(url, { headers: { 'accept-encoding': 'gzip' } });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - started;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** First answer after a push into the id (its documents rendered again), and the median of warm answers. */
async function readTimes(base: string, url: string, pushInto: Buffer): Promise<{ cold: number; warm: number }> {
  await pushAll(base, [pushInto]);
  const cold = await get(url);
  const warm: number[] = [];
  for (let i = 0; i < WARM_REQUESTS; i++) warm.push(await get(url));
  return { cold, warm: median(warm) };
}

const work = await mkdtemp(join(tmpdir(), 'pawket-bench-push-'));
/** Extra Node flags for the Pawket process, e.g. `--cpu-prof --cpu-prof-dir=.tmp/prof`. */
const nodeArgs = (process.env.BENCH_PAWKET_NODE_ARGS ?? '').split(' ').filter(Boolean);
const server = spawn(process.execPath, [...nodeArgs, main, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(work, 'data')], {
  env: { ...process.env, PAWKET_API_KEY: KEY, PAWKET_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/v3\/index\.json/.exec(out);
      if (m) resolve(m[1]!);
    });
    server.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${out}`)));
  });
  const loadBefore = loadavg()[0]!;
  process.stderr.write(`building ${pushes * 2 + bigVersions + 12} packages...\n`);
  const fresh = await buildAll((k) => `Bench.New${k}`, 0, pushes);
  const seed = await buildAll(() => 'Bench.Big', 0, bigVersions);
  const grown = await buildAll(() => 'Bench.Big', bigVersions, pushes + 2);
  const small = await buildAll(() => 'Bench.Small', 0, 12);

  const intoNew = await pushAll(base, fresh);
  process.stderr.write(`into new ids: ${intoNew.toFixed(0)} pushes/s\n`);

  // The big id grows; its push rate per 1,000 versions shows whether a push costs more as the id grows.
  const step = Math.max(1, Math.min(1000, Math.floor(bigVersions / 5)));
  const growth: string[] = [];
  let last = { done: 0, ms: 0 };
  await pushAll(base, seed, (done, ms) => {
    if (done % step !== 0 && done !== bigVersions) return;
    growth.push(`  versions ${String(last.done).padStart(5)}-${String(done).padEnd(5)} ${((done - last.done) / ((ms - last.ms) / 1000)).toFixed(0).padStart(6)} pushes/s`);
    last = { done, ms };
  });
  const intoBig = await pushAll(base, grown.slice(0, pushes));
  await pushAll(base, small.slice(0, 10));

  const hive = `${base}/v3/registration-gz-semver2`;
  const bigIndex = await readTimes(base, `${hive}/bench.big/index.json`, grown[pushes]!);
  const smallIndex = await readTimes(base, `${hive}/bench.small/index.json`, small[10]!);
  const page = JSON.parse((await request(`${hive.replace('-gz-semver2', '')}/bench.big/index.json`)).body.toString()) as {
    items: Array<{ '@id': string }>;
  };
  const pageUrl = page.items[Math.floor(page.items.length / 2)]!['@id'].replace('/v3/registration/', '/v3/registration-gz-semver2/');
  const bigPage = await readTimes(base, pageUrl, grown[pushes + 1]!);
  const smallPage = await readTimes(base, `${hive}/bench.small/index.json`, small[11]!);

  const lines = [
    `Pushes (${concurrency} in flight, ~${(fresh[0]!.length / 1024).toFixed(1)} KB packages, Node ${process.version}, ${cpus().length} cores)`,
    `  into ${pushes} new ids:                    ${intoNew.toFixed(0).padStart(6)} pushes/s`,
    `  into an id with ${bigVersions} versions (+${pushes}): ${intoBig.toFixed(0).padStart(6)} pushes/s   (${(intoBig / intoNew).toFixed(2)}x the new ids; aim >= 1.0x)`,
    `  BaGetter 1.6.5 (reference from the issue, not measured here): ${BAGETTER_PUSHES_PER_S} pushes/s flat; big id / BaGetter: ${(intoBig / BAGETTER_PUSHES_PER_S).toFixed(2)}x (aim >= 1.5x)`,
    `Seeding the id, per ${step} versions:`,
    ...growth,
    `Registration (gzip, SemVer 2 hive), one request at a time: first answer after a push into the id / warm median of ${WARM_REQUESTS}`,
    `  index, ${bigVersions + pushes + 1} versions: ${bigIndex.cold.toFixed(1).padStart(7)} ms / ${bigIndex.warm.toFixed(2)} ms`,
    `  index, 11 versions:   ${smallIndex.cold.toFixed(1).padStart(7)} ms / ${smallIndex.warm.toFixed(2)} ms   -> big/small ${(bigIndex.cold / smallIndex.cold).toFixed(1)}x / ${(bigIndex.warm / smallIndex.warm).toFixed(1)}x (aim <= 2x)`,
    `  a page of the big id:  ${bigPage.cold.toFixed(1).padStart(7)} ms / ${bigPage.warm.toFixed(2)} ms   -> vs the small index ${(bigPage.cold / smallPage.cold).toFixed(1)}x / ${(bigPage.warm / smallPage.warm).toFixed(1)}x (aim <= 2x)`,
    `load average (1 min): ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`,
  ];
  console.log(lines.join('\n'));
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await rm(work, { recursive: true, force: true });
}
