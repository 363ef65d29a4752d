/**
 * Seeds a running Pawket with the benchmark feed over HTTP, the way `dotnet nuget push` does: a raw-body PUT to the
 * publish URL with the key in `X-NuGet-ApiKey`, several pushes in flight.
 *
 * Environment: BENCH_PAWKET_URL, BENCH_API_KEY, BENCH_PACKAGES (ids), BENCH_VERSIONS (per id),
 * BENCH_SEED_CONCURRENCY (pushes in flight).
 */
import { performance } from 'node:perf_hooks';
import { envInt, envString, forEachLimit, MiB, request } from './common.js';
import { buildBenchPackage, packageVersions } from './feed-model.js';

const base = envString('BENCH_PAWKET_URL');
const key = envString('BENCH_API_KEY');
const packages = envInt('BENCH_PACKAGES', 1000);
const versions = packageVersions(envInt('BENCH_VERSIONS', 10));
const concurrency = envInt('BENCH_SEED_CONCURRENCY', 8);

const jobs: Array<{ i: number; version: string; k: number }> = [];
for (let i = 0; i < packages; i++) versions.forEach((version, k) => jobs.push({ i, version, k }));

const started = performance.now();
let bytes = 0;
let done = 0;
let lastReport = started;

await forEachLimit(jobs, concurrency, async ({ i, version, k }) => {
  const body = await buildBenchPackage(i, version, k);
  const res = await request(`${base}/api/v2/package`, {
    method: 'PUT',
    headers: { 'x-nuget-apikey': key, 'content-type': 'application/octet-stream', 'content-length': body.length },
    body,
  });
  if (res.status !== 201) {
    throw new Error(`push of package #${i} ${version} answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
  }
  bytes += body.length;
  done++;
  const now = performance.now();
  if (now - lastReport > 10_000) {
    lastReport = now;
    process.stdout.write(`  ... ${done}/${jobs.length} pushed\n`);
  }
});

const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `Seeded ${done} packages (${packages} ids x ${versions.length} versions, ${(bytes / MiB).toFixed(1)} MiB, ` +
    `avg ${((bytes / done) / 1024).toFixed(1)} KiB) in ${seconds.toFixed(1)} s ` +
    `(${(done / seconds).toFixed(0)} pushes/s, ${concurrency} in flight)\n`,
);
