/**
 * Cold start: how long `pawket serve` takes, on a fresh data dir, from the moment it is spawned to its first 200 on
 * /v3/index.json, with the CPU time it used and its RSS at that moment. In the same run, alternating with it, the same
 * is measured for a bare Node HTTP server (`node -e`, http.createServer answering 200): the floor of starting a Node
 * process that answers HTTP on this machine, so the ratio travels better than the milliseconds.
 *
 *   npm run bench:startup [-- --runs 10] [-- --main OTHER/dist/cli/main.js] [-- --packages 100000]
 *
 * With `--packages N`, Pawket starts on a data dir holding a feed of N packages (N/10 ids x 10 versions, rows and
 * files made directly, once, before the runs) instead of a fresh one: the first 200 must not wait for anything that
 * grows with the store. For those runs it also prints when search answered (the index loads in the background after
 * listening) and the CPU the server used in the 3 s after its first 200 (a sweep listing the store would show there).
 *
 * (The npm script builds first; `npx tsx bench/startup/run.ts` uses dist/ as it is.)
 *
 * The client polls the port every 5 ms (a refused connection costs next to nothing), so times are ±5 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStore } from './store.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? process.env.BENCH_RUNS ?? 10);
const packages = Number(arg('--packages') ?? process.env.BENCH_PACKAGES ?? 0);
/** How long after its first 200 a server with a store is watched. */
const WATCH_MS = 3000;
/** Extra Node flags for the Pawket process, e.g. `--cpu-prof --cpu-prof-dir=.tmp/prof`. */
const nodeArgs = (process.env.BENCH_PAWKET_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** The CLI to start: this checkout's build, or another build's (`--main OTHER/dist/cli/main.js`) to compare two. */
const main = arg('--main') ?? join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const POLL_MS = 5;
const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** The bare reference: what any Node HTTP server costs to start here. */
const BARE_SERVER = `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{}'); }).listen(Number(process.argv[1]), '127.0.0.1');`;

interface Sample {
  readonly ms: number;
  readonly cpuMs: number;
  readonly rssMiB: number;
  /** With a store: when search first answered 200 (ms from spawn), and CPU used in the WATCH_MS after the first 200. */
  readonly searchMs?: number;
  readonly laterCpuMs?: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Status of one GET, or 0 when nothing answers yet. */
function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** CPU time (user + system) and resident memory of a process, from /proc. */
function usage(pid: number): { cpuMs: number; rssMiB: number } {
  // Fields after the command name (which may hold spaces) start at index 3 of stat(5): utime is 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuMs, rssMiB: rssKiB / 1024 };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

/** Spawns a server, polls until it answers 200, and returns the time from spawn to that answer. */
async function measure(args: (port: number) => string[], path: string, watch = false): Promise<Sample> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${path}`;
  let output = '';
  const started = performance.now();
  const child = spawn(process.execPath, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    for (;;) {
      const status = await probe(url);
      if (status === 200) {
        const ms = performance.now() - started;
        const first = usage(child.pid!);
        if (!watch) return { ms, ...first };
        let searchMs: number | undefined;
        const search = `http://127.0.0.1:${port}/v3/search?q=package&take=1`;
        while (performance.now() - started < ms + WATCH_MS) {
          if (searchMs === undefined && (await probe(search)) === 200) searchMs = performance.now() - started;
          await new Promise((r) => setTimeout(r, 20));
        }
        const laterCpuMs = usage(child.pid!).cpuMs - first.cpuMs;
        while (searchMs === undefined && performance.now() - started < 60_000) {
          if ((await probe(search)) === 200) searchMs = performance.now() - started;
          else await new Promise((r) => setTimeout(r, 20));
        }
        return { ms, ...first, searchMs, laterCpuMs };
      }
      if (status !== 0) throw new Error(`${url} answered ${status}`);
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before it answered:\n${output}`);
      if (performance.now() - started > 60_000) throw new Error(`no 200 within 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    await stop(child);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function row(name: string, samples: Sample[]): string {
  const ms = samples.map((s) => s.ms);
  const cells = [
    median(ms).toFixed(0),
    Math.min(...ms).toFixed(0),
    Math.max(...ms).toFixed(0),
    median(samples.map((s) => s.cpuMs)).toFixed(0),
    median(samples.map((s) => s.rssMiB)).toFixed(1),
  ];
  return `${name.padEnd(26)}${cells.map((c) => c.padStart(10)).join('')}`;
}

const work = await mkdtemp(join(tmpdir(), 'pawket-bench-startup-'));
const store = join(work, 'store');
if (packages > 0) {
  process.stderr.write(`making a store of ${packages} packages...\n`);
  await buildStore(store, packages, (what) => process.stderr.write(`  ${what}\n`));
}
const pawket: Sample[] = [];
const bare: Sample[] = [];
const loadBefore = loadavg()[0]!;
try {
  // One untimed start of each first: it warms the page cache with the files every later start reads.
  await measure((port) => ['-e', BARE_SERVER, String(port)], '/');
  await measure((port) => [...nodeArgs, main, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', join(work, 'warm-up')], '/v3/index.json');
  for (let i = 0; i < runs; i++) {
    // Alternate, so both see the same moments of a machine whose load changes.
    bare.push(await measure((port) => ['-e', BARE_SERVER, String(port)], '/'));
    const dataDir = packages > 0 ? store : join(work, `run-${i}`);
    pawket.push(
      await measure((port) => [...nodeArgs, main, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], '/v3/index.json', packages > 0),
    );
    if (packages === 0) await rm(dataDir, { recursive: true, force: true });
    process.stderr.write('.');
  }
  process.stderr.write('\n');
} finally {
  await rm(work, { recursive: true, force: true });
}

const header = ['median ms', 'min ms', 'max ms', 'CPU ms', 'RSS MiB'];
console.log(
  `Cold start to the first 200 (${runs} runs each, alternating; Node ${process.version}; ${packages > 0 ? `a store of ${packages} packages and their files` : 'fresh data dir each run'})`,
);
console.log(`${''.padEnd(26)}${header.map((h) => h.padStart(10)).join('')}`);
console.log(row('pawket serve', pawket));
console.log(row('bare node:http server', bare));
console.log(`pawket / bare (median time): ${(median(pawket.map((s) => s.ms)) / median(bare.map((s) => s.ms))).toFixed(1)}x`);
if (packages > 0) {
  const searchMs = pawket.map((s) => s.searchMs).filter((x): x is number => x !== undefined);
  console.log(`search answering (index loaded in the background): median ${searchMs.length ? median(searchMs).toFixed(0) : 'never'} ms after spawn`);
  console.log(`server CPU in the ${WATCH_MS / 1000} s after the first 200: median ${median(pawket.map((s) => s.laterCpuMs ?? 0)).toFixed(0)} ms (search index load included)`);
}
console.log(`load average (1 min): ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after, on ${cpus().length} cores`);
if (loadBefore / cpus().length > 0.5) console.log('note: the machine was busy before the run; times are inflated (CPU ms and the ratio less so)');
