/**
 * Drives the load: for each resource, the same URL list against Pawket and then nginx, with the same load generator,
 * connection count and duration. Records requests/s, latency percentiles, the server's CPU use, and Pawket's peak
 * RSS (VmHWM), then prints a table per resource and a summary.
 *
 * Environment (run.sh sets these): BENCH_WORK, BENCH_PAWKET_URL (a node, or the load balancer in front of the nodes),
 * BENCH_PAWKET_PIDS (the Pawket node processes, comma-separated), BENCH_NGINX_URL, BENCH_NGINX_PID, optionally
 * BENCH_BACKEND_PIDS (PostgreSQL postmaster, the s3rver process: they and their children count as "backend CPU"),
 * BENCH_LB_PID (the load balancer in front of the nodes, counted as backend CPU too), BENCH_MODE (a label, e.g.
 * `sqlite, 1 node`) and BENCH_MODE_RESULTS (a JSON file this run's results are also written to), and the knobs BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_THREADS, BENCH_LOADGEN
 * (wrk | autocannon), BENCH_LOADGEN_CPUS (taskset list for wrk), BENCH_CLK_TCK.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envInt, envString, RESOURCES, request, shuffled, type Resource } from './common.js';

const here = dirname(fileURLToPath(import.meta.url));
const work = envString('BENCH_WORK');
const duration = envInt('BENCH_DURATION', 10);
const warmup = Number(process.env.BENCH_WARMUP ?? 2);
const connections = envInt('BENCH_CONNECTIONS', 50);
const rounds = envInt('BENCH_ROUNDS', 1);
const threads = envInt('BENCH_THREADS', 1);
const loadgen = process.env.BENCH_LOADGEN ?? 'wrk';
const loadgenCpus = process.env.BENCH_LOADGEN_CPUS ?? '';
const clkTck = envInt('BENCH_CLK_TCK', 100);
const cpus = availableParallelism();
if (loadgen !== 'wrk' && loadgen !== 'autocannon') throw new Error(`BENCH_LOADGEN must be wrk or autocannon, not ${loadgen}`);
if (!(warmup >= 0)) throw new Error('BENCH_WARMUP must be a number of seconds >= 0');

interface Server {
  readonly name: 'Pawket' | 'nginx';
  readonly url: string;
  /** Processes whose CPU time counts as this server's (nginx: master and workers). */
  readonly pids: () => number[];
}

const pidList = (name: string) => (process.env[name] ?? '').split(',').filter(Boolean).map(Number);
const pawketPids = pidList('BENCH_PAWKET_PIDS');
if (!pawketPids.length) pawketPids.push(envInt('BENCH_PAWKET_PID', 1));
const nodes = pawketPids.length;
const mode = process.env.BENCH_MODE ?? `sqlite, ${nodes} node${nodes > 1 ? 's' : ''}`;
const nginxPid = envInt('BENCH_NGINX_PID', 1);
/** What Pawket leans on besides its own processes: database, object store, load balancer (with their children). */
const backendPids = () => {
  const roots = [...pidList('BENCH_BACKEND_PIDS'), ...pidList('BENCH_LB_PID')];
  return [...roots, ...roots.flatMap((p) => childrenOf(p))];
};
const servers: readonly Server[] = [
  { name: 'Pawket', url: envString('BENCH_PAWKET_URL'), pids: () => pawketPids },
  { name: 'nginx', url: envString('BENCH_NGINX_URL'), pids: () => [nginxPid, ...childrenOf(nginxPid)] },
];

interface Run {
  readonly requests: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Server CPU time over wall time, 1.0 = one core busy. */
  readonly cpu: number;
  /** The load generator's CPU time over wall time. */
  readonly loadgenCpu: number;
  /** Database, object store and load balancer processes (BENCH_BACKEND_PIDS, BENCH_LB_PID), over wall time. */
  readonly backendCpu: number;
  /** Everything else the machine did meanwhile (other processes, interrupts), over wall time. */
  readonly otherCpu: number;
}

/** What a load generator reports; the CPU shares are computed around it. */
type LoadResult = Omit<Run, 'cpu' | 'loadgenCpu' | 'backendCpu' | 'otherCpu'> & { readonly loadgenCpuSeconds: number };

// ---------------------------------------------------------------------------------------------------------------
// /proc readings

function procStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStat(Number(entry));
    if (fields && Number(fields[1]) === parent) out.push(Number(entry));
  }
  return out;
}

/** User + system CPU seconds of these processes (all their threads). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = procStat(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / clkTck;
}

function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS' | 'RssAnon' | 'RssFile'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Resets the kernel's peak-RSS mark so VmHWM covers only what follows (Linux >= 4.0). */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// load generators

function runWrk(server: Server, resource: Resource, seconds: number): Promise<LoadResult> {
  const args = [
    '-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s',
    '-s', join(here, 'urls.lua'), server.url, '--', join(work, resource.urlFile), resource.headers['accept-encoding'] ?? '',
  ];
  const wrk = loadgenCpus ? ['taskset', '-c', loadgenCpus, 'wrk'] : ['wrk'];
  // Through a shell that prints its own /proc stat after waiting for wrk: its cutime/cstime are wrk's CPU time.
  const script = `${wrk.join(' ')} "$@"; rc=$?; echo "SH_STAT $(cat /proc/$$/stat)" >&2; exit $rc`;
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script, 'sh', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (exit ${code}):\n${out}\n${err}`));
      const r = JSON.parse(line.slice('WRK_JSON '.length)) as {
        requests: number; duration_us: number; bytes: number; p50_us: number; p99_us: number; max_us: number;
        errors: Record<string, number>;
      };
      const stat = /^SH_STAT .*\) (.*)$/m.exec(err)?.[1]?.split(' ');
      resolve({
        loadgenCpuSeconds: stat ? (Number(stat[13]) + Number(stat[14])) / clkTck : NaN,
        requests: r.requests,
        seconds: r.duration_us / 1e6,
        bytes: r.bytes,
        errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
        p50Ms: r.p50_us / 1000,
        p99Ms: r.p99_us / 1000,
        maxMs: r.max_us / 1000,
      });
    });
  });
}

interface AutocannonResult {
  requests: { total: number };
  throughput: { total: number };
  duration: number;
  latency: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

async function runAutocannon(server: Server, resource: Resource, seconds: number): Promise<LoadResult> {
  // A non-literal specifier: autocannon ships no types, and this path is only taken on request.
  const name: string = 'autocannon';
  const autocannon = ((await import(name)) as { default: Autocannon }).default;
  const cpuBefore = process.cpuUsage();
  const paths = readFileSync(join(work, resource.urlFile), 'utf8').split('\n').filter(Boolean);
  let next = 0;
  const r = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    timeout: 10,
    headers: { ...resource.headers },
    requests: [
      {
        setupRequest: (req: { path: string }) => {
          req.path = paths[next++ % paths.length]!;
          return req;
        },
      },
    ],
  });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    loadgenCpuSeconds: (cpu.user + cpu.system) / 1e6,
    requests: r.requests.total,
    seconds: r.duration,
    bytes: r.throughput.total,
    errors: r.errors + r.timeouts + r.non2xx,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
  };
}

/** Busy CPU time of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clkTck;
}

async function load(server: Server, resource: Resource, seconds: number): Promise<Run> {
  const before = cpuSeconds(server.pids());
  const backendBefore = cpuSeconds(backendPids());
  const machineBefore = machineBusySeconds();
  const started = process.hrtime.bigint();
  const { loadgenCpuSeconds, ...result } =
    loadgen === 'wrk' ? await runWrk(server, resource, seconds) : await runAutocannon(server, resource, seconds);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const serverCpu = cpuSeconds(server.pids()) - before;
  // Backend processes may come and go (PostgreSQL forks one per connection): a gone one's time is lost, never negative.
  const backendCpu = Math.max(0, cpuSeconds(backendPids()) - backendBefore);
  const machine = machineBusySeconds() - machineBefore;
  return {
    ...result,
    cpu: serverCpu / wall,
    loadgenCpu: loadgenCpuSeconds / wall,
    backendCpu: backendCpu / wall,
    otherCpu: Math.max(0, machine - serverCpu - loadgenCpuSeconds - backendCpu) / wall,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// checks, runs, report

/** Both servers must answer the same bytes (and encoding) for a sample of the URLs, or the comparison is void. */
async function verifySameBytes(resource: Resource) {
  const paths = readFileSync(join(work, resource.urlFile), 'utf8').split('\n').filter(Boolean);
  for (const path of shuffled(paths, 7).slice(0, 25)) {
    const [a, b] = await Promise.all(servers.map((s) => request(s.url + path, { headers: { ...resource.headers } })));
    if (a!.status !== 200 || b!.status !== 200) throw new Error(`${path}: Pawket ${a!.status}, nginx ${b!.status}`);
    if (!a!.body.equals(b!.body)) throw new Error(`${path}: Pawket and nginx answered different bytes`);
    if (a!.headers['content-encoding'] !== b!.headers['content-encoding']) {
      throw new Error(`${path}: Content-Encoding differs (Pawket ${a!.headers['content-encoding']}, nginx ${b!.headers['content-encoding']})`);
    }
  }
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => `${n.toFixed(2)} ms`;
const fmtPct = (n: number) => `${Math.round(n * 100)}%`;
const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

function table(rows: string[][], rightAligned: (i: number) => boolean): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (rightAligned(i) ? lpad(c, widths[i]!) : pad(c, widths[i]!))).join('   ')).join('\n');
}

const snapshot = JSON.parse(readFileSync(join(work, 'snapshot.json'), 'utf8')) as Record<string, { urls: number; avgBytes: number }>;

for (const resource of RESOURCES) await verifySameBytes(resource);
process.stdout.write('Checked: both servers answer byte-identical bodies for a sample of every resource.\n');

const seedingPeakKiB = pawketPids.map((pid) => statusKiB(pid, 'VmHWM'));
const peakReset = pawketPids.map((pid) => resetPeakRss(pid)).every(Boolean);
const sampledPeakKiB = pawketPids.map((pid) => statusKiB(pid, 'VmRSS') ?? 0);
const sampler = setInterval(() => {
  pawketPids.forEach((pid, i) => (sampledPeakKiB[i] = Math.max(sampledPeakKiB[i]!, statusKiB(pid, 'VmRSS') ?? 0)));
}, 100);

const results: Array<{ resource: Resource; runs: Record<Server['name'], Run>; rounds: Record<Server['name'], Run[]> }> = [];
const rate = (r: Run) => r.requests / r.seconds;
for (const resource of RESOURCES) {
  const all: Record<Server['name'], Run[]> = { Pawket: [], nginx: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const server of servers) {
      process.stdout.write(`  ${resource.label}: ${server.name}${rounds > 1 ? ` (round ${round}/${rounds})` : ''} ...`);
      if (warmup > 0) await load(server, resource, warmup);
      const run = await load(server, resource, duration);
      all[server.name].push(run);
      process.stdout.write(` ${fmtInt(rate(run))} req/s\n`);
    }
  }
  // With several rounds, each server's median run (by req/s) stands for it.
  const median = (list: Run[]) => [...list].sort((a, b) => rate(a) - rate(b))[Math.floor((list.length - 1) / 2)]!;
  results.push({ resource, runs: { Pawket: median(all.Pawket), nginx: median(all.nginx) }, rounds: all });
}
clearInterval(sampler);
const loadPeaksKiB = pawketPids.map((pid, i) => (peakReset ? statusKiB(pid, 'VmHWM') : sampledPeakKiB[i]!));
const wholeRunPeaksKiB = loadPeaksKiB.map((kib, i) => Math.max(seedingPeakKiB[i] ?? 0, kib ?? 0));
const loadPeakKiB = loadPeaksKiB.every((k) => k !== null) ? Math.max(...(loadPeaksKiB as number[])) : null;

const lines: string[] = [];
const generator = loadgen === 'wrk' ? `wrk (${threads} thread${threads > 1 ? 's' : ''}${loadgenCpus ? `, CPUs ${loadgenCpus}` : ''})` : 'autocannon (in-process, 1 thread)';
lines.push(
  '',
  `Mode: ${mode}.`,
  `Restore benchmark: ${snapshot.flat?.urls ?? '?'} ids, ${snapshot.nupkg?.urls ?? '?'} packages; loopback; ${generator}, ` +
    `${connections} connections, ${duration} s per run after ${warmup} s warm-up, same URL list for both servers` +
    (rounds > 1 ? `; ${rounds} rounds alternating the servers, each server's median run shown.` : '.'),
  (nodes > 1
    ? `Pawket is ${nodes} Node processes behind nginx as a round-robin load balancer (the load goes to the balancer; ` +
      'CPU = the nodes together; the balancer counts as backend CPU)'
    : 'Pawket is one Node process (its GC and libuv threads included in its CPU)') +
    '; the nginx reference runs 1 worker process' +
    (process.env.BENCH_SERVER_CPUS ? `; both pinned to CPUs ${process.env.BENCH_SERVER_CPUS}.` : '.'),
  `CPU = server CPU time / wall time (100% = one core; this machine has ${cpus} cores). req/CPU-s = requests per ` +
    'second of server CPU. loadgen CPU = the load generator; backend CPU = database, object store and load balancer ' +
    'processes; other CPU = everything else running on the machine.',
);

for (const { resource, runs } of results) {
  const s = snapshot[resource.key];
  const ratio = runs.Pawket.requests / runs.Pawket.seconds / (runs.nginx.requests / runs.nginx.seconds);
  lines.push('', `${resource.label}: ${resource.pattern}`, `  ${s?.urls ?? '?'} distinct URLs, ${s?.avgBytes ?? '?'} B average body on the wire`);
  const rows = [['', 'req/s', 'p50', 'p99', 'max', 'CPU', 'req/CPU-s', 'loadgen CPU', 'backend CPU', 'other CPU', 'errors']];
  for (const server of servers) {
    const r = runs[server.name];
    rows.push([
      server.name, fmtInt(r.requests / r.seconds), fmtMs(r.p50Ms), fmtMs(r.p99Ms), fmtMs(r.maxMs), fmtPct(r.cpu),
      fmtInt(r.requests / r.seconds / Math.max(r.cpu, 0.01)), fmtPct(r.loadgenCpu), fmtPct(r.backendCpu), fmtPct(r.otherCpu),
      fmtInt(r.errors),
    ]);
  }
  lines.push(...table(rows, (i) => i > 0).split('\n').map((l) => `  ${l}`));
  lines.push(`  Pawket/nginx: ${ratio.toFixed(2)}  (aim >= ${resource.aim.toFixed(1)}: ${ratio >= resource.aim ? 'met' : 'NOT met'})`);
  for (const server of servers) {
    const r = runs[server.name];
    if (r.loadgenCpu >= 0.9 * threads) {
      lines.push(`  note: the load generator was CPU-bound during the ${server.name} run, so ${server.name}'s req/s is a floor.`);
    }
    if (r.otherCpu >= 0.2) {
      lines.push(`  note: other processes used ${fmtPct(r.otherCpu)} of a core during the ${server.name} run: numbers are noisy.`);
    }
  }
}

lines.push('', 'Summary');
const summaryRows = [['resource', 'Pawket req/s', 'nginx req/s', 'Pawket/nginx', 'aim', 'p99 Pawket', 'p99 nginx']];
for (const { resource, runs } of results) {
  const p = runs.Pawket.requests / runs.Pawket.seconds;
  const n = runs.nginx.requests / runs.nginx.seconds;
  summaryRows.push([resource.label, fmtInt(p), fmtInt(n), (p / n).toFixed(2), `>= ${resource.aim.toFixed(1)}`, fmtMs(runs.Pawket.p99Ms), fmtMs(runs.nginx.p99Ms)]);
}
lines.push(...table(summaryRows, (i) => i > 0).split('\n').map((l) => `  ${l}`));
const mib = (kib: number | null) => (kib === null ? '?' : `${(kib / 1024).toFixed(1)} MiB`);
lines.push('');
pawketPids.forEach((pid, i) => {
  const who = nodes > 1 ? `Pawket node ${i + 1}` : 'Pawket';
  const peak = loadPeaksKiB[i] ?? null;
  lines.push(
    `${who} peak RSS (VmHWM): ${mib(peak)} during the load runs` +
      `${peakReset ? '' : ' (sampled every 100 ms: could not reset VmHWM)'} ` +
      `(aim < 150 MiB: ${peak !== null && peak < 150 * 1024 ? 'met' : 'NOT met'}); ` +
      `${mib(wholeRunPeaksKiB[i]!)} over the whole process life${i === 0 ? ', seeding included' : ''}.`,
    `${who} RSS now: ${mib(statusKiB(pid, 'VmRSS'))} (anonymous ${mib(statusKiB(pid, 'RssAnon'))}, ` +
      `file-backed ${mib(statusKiB(pid, 'RssFile'))}: mostly the node binary and shared libraries).`,
  );
});
const failed = results.some(({ runs }) => runs.Pawket.errors > 0 || runs.nginx.errors > 0);
if (failed) lines.push('WARNING: some requests failed (see the errors column); those runs do not measure what they claim.');
process.stdout.write(lines.join('\n') + '\n');

const json = {
  mode,
  nodes,
  settings: { loadgen, threads, connections, duration, warmup, rounds, loadgenCpus: loadgenCpus || null },
  snapshot,
  resources: results.map(({ resource, runs, rounds: all }) => ({ resource: resource.key, pattern: resource.pattern, aim: resource.aim, runs, rounds: all })),
  pawketPeakRssMiB: { load: loadPeakKiB === null ? null : loadPeakKiB / 1024, wholeRun: Math.max(...wholeRunPeaksKiB) / 1024 },
  pawketPeakRssMiBPerNode: pawketPids.map((_, i) => ({
    load: loadPeaksKiB[i] == null ? null : loadPeaksKiB[i]! / 1024,
    wholeRun: wholeRunPeaksKiB[i]! / 1024,
  })),
};
writeFileSync(join(work, 'results.json'), JSON.stringify(json, null, 2));
if (process.env.BENCH_MODE_RESULTS) writeFileSync(process.env.BENCH_MODE_RESULTS, JSON.stringify(json, null, 2));
else if (process.env.BENCH_RESULTS) writeFileSync(process.env.BENCH_RESULTS, JSON.stringify(json, null, 2));
