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
 *
 * With `--baseline`, also BENCH_BASELINE_URL and BENCH_BASELINE_PID (another build of Pawket serving its own copy of
 * the same feed; its snapshot summary in BENCH_WORK/baseline), BENCH_BASELINE_LABEL and BENCH_CURRENT_LABEL (the
 * revisions): the rounds alternate current, baseline and nginx, and the report adds current/baseline ratios.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envInt, envString, RESOURCES, request, shuffled, type Resource } from './common.js';
import { formatBreakdown, memoryBreakdown, rssKiB, type MemoryBreakdown } from './memory.js';

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
  readonly name: 'Pawket' | 'baseline' | 'nginx';
  /** How the report names it: with a baseline, `Pawket` is the current build. */
  readonly label: string;
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
const baselinePid = Number(process.env.BENCH_BASELINE_PID) || null;
/** `--front nginx`: the load goes to nginx with the generated configuration (BENCH_LB_PID), which serves the files itself. */
const front = process.env.BENCH_FRONT === 'nginx';
const aimOf = (resource: Resource) => (front ? 0.95 : resource.aim);
const baselineLabel = process.env.BENCH_BASELINE_LABEL ?? 'baseline';
const currentLabel = process.env.BENCH_CURRENT_LABEL ?? 'working tree';
const servers: readonly Server[] = [
  { name: 'Pawket', label: baselinePid ? 'current' : 'Pawket', url: envString('BENCH_PAWKET_URL'), pids: () => pawketPids },
  ...(baselinePid
    ? [{ name: 'baseline', label: 'baseline', url: envString('BENCH_BASELINE_URL'), pids: () => [baselinePid] } as const]
    : []),
  { name: 'nginx', label: 'nginx', url: envString('BENCH_NGINX_URL'), pids: () => [nginxPid, ...childrenOf(nginxPid)] },
];
/** Every Pawket process whose memory is reported: the nodes, then the baseline. */
const pawketProcesses = [
  ...pawketPids.map((pid, i) => ({ pid, who: baselinePid ? 'Current Pawket' : nodes > 1 ? `Pawket node ${i + 1}` : 'Pawket' })),
  ...(baselinePid ? [{ pid: baselinePid, who: 'Baseline Pawket' }] : []),
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

const serverNamed = (name: Server['name']) => servers.find((s) => s.name === name)!;

/**
 * Pawket and nginx must answer the same bytes (and encoding) for a sample of the URLs, or the comparison is void. A
 * baseline build may answer other bytes (documents change between releases, and carry the host they were asked
 * through), so it must only answer them with the same encoding; the body sizes of both builds are printed.
 */
async function verifySameBytes(resource: Resource) {
  const paths = readFileSync(join(work, resource.urlFile), 'utf8').split('\n').filter(Boolean);
  const get = (name: Server['name'], path: string) => request(serverNamed(name).url + path, { headers: { ...resource.headers } });
  for (const path of shuffled(paths, 7).slice(0, 25)) {
    const [a, b] = await Promise.all([get('Pawket', path), get('nginx', path)]);
    if (a.status !== 200 || b.status !== 200) throw new Error(`${path}: Pawket ${a.status}, nginx ${b.status}`);
    if (!a.body.equals(b.body)) throw new Error(`${path}: Pawket and nginx answered different bytes`);
    if (a.headers['content-encoding'] !== b.headers['content-encoding']) {
      throw new Error(`${path}: Content-Encoding differs (Pawket ${a.headers['content-encoding']}, nginx ${b.headers['content-encoding']})`);
    }
    if (!baselinePid) continue;
    const c = await get('baseline', path);
    if (c.status !== 200) throw new Error(`${path}: the baseline answered ${c.status}`);
    if (c.headers['content-encoding'] !== a.headers['content-encoding']) {
      throw new Error(`${path}: Content-Encoding differs (current ${a.headers['content-encoding']}, baseline ${c.headers['content-encoding']})`);
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

type Snapshot = Record<string, { urls: number; avgBytes: number }>;
const snapshot = JSON.parse(readFileSync(join(work, 'snapshot.json'), 'utf8')) as Snapshot;
const baselineSnapshot = baselinePid ? (JSON.parse(readFileSync(join(work, 'baseline', 'snapshot.json'), 'utf8')) as Snapshot) : null;

for (const resource of RESOURCES) await verifySameBytes(resource);
process.stdout.write(
  baselinePid
    ? 'Checked: the current build and nginx answer byte-identical bodies, the baseline the same statuses and encodings, for a sample of every resource.\n'
    : 'Checked: both servers answer byte-identical bodies for a sample of every resource.\n',
);

const seedingPeakKiB = pawketProcesses.map(({ pid }) => statusKiB(pid, 'VmHWM'));
const peakReset = pawketProcesses.map(({ pid }) => resetPeakRss(pid)).every(Boolean);
const sampledPeakKiB = pawketProcesses.map(({ pid }) => statusKiB(pid, 'VmRSS') ?? 0);
const sampler = setInterval(() => {
  pawketProcesses.forEach(({ pid }, i) => (sampledPeakKiB[i] = Math.max(sampledPeakKiB[i]!, statusKiB(pid, 'VmRSS') ?? 0)));
}, 100);

/** One value per server measured; `baseline` only with --baseline. */
type PerServer<T> = Record<'Pawket' | 'nginx', T> & { baseline?: T };
const perServer = <T>(value: (server: Server) => T) => Object.fromEntries(servers.map((s) => [s.name, value(s)])) as PerServer<T>;

const results: Array<{ resource: Resource; runs: PerServer<Run>; rounds: PerServer<Run[]> }> = [];
const rate = (r: Run) => r.requests / r.seconds;
for (const resource of RESOURCES) {
  const all = perServer((): Run[] => []);
  for (let round = 1; round <= rounds; round++) {
    for (const server of servers) {
      process.stdout.write(`  ${resource.label}: ${server.label}${rounds > 1 ? ` (round ${round}/${rounds})` : ''} ...`);
      if (warmup > 0) await load(server, resource, warmup);
      const run = await load(server, resource, duration);
      all[server.name]!.push(run);
      process.stdout.write(` ${fmtInt(rate(run))} req/s\n`);
    }
  }
  // With several rounds, each server's median run (by req/s) stands for it.
  const median = (list: Run[]) => [...list].sort((a, b) => rate(a) - rate(b))[Math.floor((list.length - 1) / 2)]!;
  results.push({ resource, runs: perServer((s) => median(all[s.name]!)), rounds: all });
}
clearInterval(sampler);
const loadPeaksKiB = pawketProcesses.map(({ pid }, i) => (peakReset ? statusKiB(pid, 'VmHWM') : sampledPeakKiB[i]!));
const wholeRunPeaksKiB = loadPeaksKiB.map((kib, i) => Math.max(seedingPeakKiB[i] ?? 0, kib ?? 0));
// The JSON's Pawket figures are the nodes' (the baseline, when there is one, comes after them).
const nodeLoadPeaksKiB = loadPeaksKiB.slice(0, nodes);
const loadPeakKiB = nodeLoadPeaksKiB.every((k) => k !== null) ? Math.max(...(nodeLoadPeaksKiB as number[])) : null;

// ---------------------------------------------------------------------------------------------------------------
// current against baseline

/** (max - min) / median of a build's req/s over the rounds: how much one build varies within this run. */
function spread(list: readonly Run[]): number {
  const rates = list.map(rate).sort((a, b) => a - b);
  return (rates[rates.length - 1]! - rates[0]!) / rates[Math.floor((rates.length - 1) / 2)]!;
}

const NOISE_RULE =
  'current/baseline is within noise when |1 - ratio| <= the larger spread ((max - min) / median req/s over the rounds) ' +
  'of the two builds: a difference no larger than how much one build varies from round to round cannot be told from it.';

interface BuildComparison {
  /** Median current req/s over median baseline req/s. */
  readonly ratio: number;
  /** The lowest and highest ratio of a round's current run to the baseline run right after it. */
  readonly roundLow: number;
  readonly roundHigh: number;
  /** The larger spread of the two builds; null with one round (nothing to estimate it from). */
  readonly noise: number | null;
  readonly verdict: 'within noise' | 'slower, beyond noise' | 'faster, beyond noise' | 'no verdict (1 round)';
}

function compareBuilds(medians: PerServer<Run>, all: PerServer<Run[]>): BuildComparison {
  const current = all.Pawket;
  const baseline = all.baseline!;
  const ratio = rate(medians.Pawket) / rate(medians.baseline!);
  const paired = current.map((run, i) => rate(run) / rate(baseline[i]!));
  const noise = current.length > 1 ? Math.max(spread(current), spread(baseline)) : null;
  const verdict =
    noise === null ? 'no verdict (1 round)'
    : Math.abs(1 - ratio) <= noise ? 'within noise'
    : ratio < 1 ? 'slower, beyond noise'
    : 'faster, beyond noise';
  return { ratio, roundLow: Math.min(...paired), roundHigh: Math.max(...paired), noise, verdict };
}

const comparisons = baselinePid ? results.map(({ runs, rounds: all }) => compareBuilds(runs, all)) : [];

function comparisonLine(c: BuildComparison): string {
  const perRound = rounds > 1 ? ` (per round ${c.roundLow.toFixed(2)} to ${c.roundHigh.toFixed(2)})` : '';
  const noise = c.noise === null ? '' : `; noise ±${fmtPct(c.noise)}`;
  return `  current/baseline: ${c.ratio.toFixed(2)}${perRound}${noise}: ${c.verdict}`;
}

// ---------------------------------------------------------------------------------------------------------------
// report

const lines: string[] = [];
const generator = loadgen === 'wrk' ? `wrk (${threads} thread${threads > 1 ? 's' : ''}${loadgenCpus ? `, CPUs ${loadgenCpus}` : ''})` : 'autocannon (in-process, 1 thread)';
lines.push(
  '',
  `Mode: ${mode}.`,
  `Restore benchmark: ${snapshot.flat?.urls ?? '?'} ids, ${snapshot.nupkg?.urls ?? '?'} packages; loopback; ${generator}, ` +
    `${connections} connections, ${duration} s per run after ${warmup} s warm-up, same URL list for ${baselinePid ? 'all three' : 'both'} servers` +
    (rounds > 1 ? `; ${rounds} rounds alternating the servers, each server's median run shown.` : '.'),
  (front
    ? 'Pawket is nginx with the configuration `pawket nginx-config` writes (1 worker; its CPU counts as backend CPU) in ' +
      'front of one Node process (the CPU column), answering restore from the files Pawket materialized'
    : nodes > 1
    ? `Pawket is ${nodes} Node processes behind nginx as a round-robin load balancer (the load goes to the balancer; ` +
      'CPU = the nodes together; the balancer counts as backend CPU)'
    : baselinePid
      ? 'Each Pawket build is one Node process (its GC and libuv threads included in its CPU)'
      : 'Pawket is one Node process (its GC and libuv threads included in its CPU)') +
    '; the nginx reference runs 1 worker process' +
    (process.env.BENCH_SERVER_CPUS ? `; ${baselinePid ? 'all' : 'both'} pinned to CPUs ${process.env.BENCH_SERVER_CPUS}.` : '.'),
  `CPU = server CPU time / wall time (100% = one core; this machine has ${cpus} cores). req/CPU-s = requests per ` +
    'second of server CPU. loadgen CPU = the load generator; backend CPU = database, object store and load balancer ' +
    'processes; other CPU = everything else running on the machine.',
);
if (baselinePid) {
  lines.push(
    `current = this checkout's build (${currentLabel}); baseline = ${baselineLabel}. The baseline seeded the feed; each ` +
      'build serves its own copy of it (the current build migrated its copy at start-up). nginx serves the current ' +
      "build's bytes.",
    `Noise rule: ${NOISE_RULE}`,
  );
}

results.forEach(({ resource, runs }, k) => {
  const s = snapshot[resource.key];
  const ratio = runs.Pawket.requests / runs.Pawket.seconds / (runs.nginx.requests / runs.nginx.seconds);
  const baselineBytes = baselineSnapshot ? ` (baseline: ${baselineSnapshot[resource.key]?.avgBytes ?? '?'} B)` : '';
  lines.push('', `${resource.label}: ${resource.pattern}`, `  ${s?.urls ?? '?'} distinct URLs, ${s?.avgBytes ?? '?'} B average body on the wire${baselineBytes}`);
  const rows = [['', 'req/s', 'p50', 'p99', 'max', 'CPU', 'req/CPU-s', 'loadgen CPU', 'backend CPU', 'other CPU', 'errors']];
  for (const server of servers) {
    const r = runs[server.name]!;
    rows.push([
      server.label, fmtInt(r.requests / r.seconds), fmtMs(r.p50Ms), fmtMs(r.p99Ms), fmtMs(r.maxMs), fmtPct(r.cpu),
      fmtInt(r.requests / r.seconds / Math.max(r.cpu, 0.01)), fmtPct(r.loadgenCpu), fmtPct(r.backendCpu), fmtPct(r.otherCpu),
      fmtInt(r.errors),
    ]);
  }
  lines.push(...table(rows, (i) => i > 0).split('\n').map((l) => `  ${l}`));
  const pawket = baselinePid ? 'current' : 'Pawket';
  lines.push(`  ${pawket}/nginx: ${ratio.toFixed(2)}  (aim >= ${aimOf(resource).toFixed(2)}: ${ratio >= aimOf(resource) ? 'met' : 'NOT met'})`);
  if (runs.baseline) {
    lines.push(`  baseline/nginx: ${(rate(runs.baseline) / rate(runs.nginx)).toFixed(2)}`, comparisonLine(comparisons[k]!));
  }
  for (const server of servers) {
    const r = runs[server.name]!;
    if (r.loadgenCpu >= 0.9 * threads) {
      lines.push(`  note: the load generator was CPU-bound during the ${server.label} run, so ${server.label}'s req/s is a floor.`);
    }
    if (r.otherCpu >= 0.2) {
      lines.push(`  note: other processes used ${fmtPct(r.otherCpu)} of a core during the ${server.label} run: numbers are noisy.`);
    }
  }
});

lines.push('', 'Summary');
const summaryRows = baselinePid
  ? [['resource', 'current req/s', 'baseline req/s', 'nginx req/s', 'current/baseline', 'current/nginx', 'baseline/nginx', 'verdict']]
  : [['resource', 'Pawket req/s', 'nginx req/s', 'Pawket/nginx', 'aim', 'p99 Pawket', 'p99 nginx']];
results.forEach(({ resource, runs }, k) => {
  const p = runs.Pawket.requests / runs.Pawket.seconds;
  const n = runs.nginx.requests / runs.nginx.seconds;
  if (runs.baseline) {
    const b = rate(runs.baseline);
    const c = comparisons[k]!;
    summaryRows.push([resource.label, fmtInt(p), fmtInt(b), fmtInt(n), c.ratio.toFixed(2), (p / n).toFixed(2), (b / n).toFixed(2), c.verdict]);
  } else {
    summaryRows.push([resource.label, fmtInt(p), fmtInt(n), (p / n).toFixed(2), `>= ${aimOf(resource).toFixed(2)}`, fmtMs(runs.Pawket.p99Ms), fmtMs(runs.nginx.p99Ms)]);
  }
});
lines.push(...table(summaryRows, (i) => i > 0).split('\n').map((l) => `  ${l}`));
const mib = (kib: number | null) => (kib === null ? '?' : `${(kib / 1024).toFixed(1)} MiB`);
lines.push('');
pawketProcesses.forEach(({ pid, who }, i) => {
  const peak = loadPeaksKiB[i] ?? null;
  // With a baseline, both processes were restarted after the seeding (see run.sh): their life covers the snapshot.
  const life = baselinePid ? ', snapshot pass included' : i === 0 ? ', seeding included' : '';
  lines.push(
    `${who} peak RSS (VmHWM): ${mib(peak)} during the load runs` +
      `${peakReset ? '' : ' (sampled every 100 ms: could not reset VmHWM)'} ` +
      `(aim < 200 MiB: ${peak !== null && peak < 200 * 1024 ? 'met' : 'NOT met'}); ` +
      `${mib(wholeRunPeaksKiB[i]!)} over the whole process life${life}.`,
    `${who} RSS now: ${mib(statusKiB(pid, 'VmRSS'))} (anonymous ${mib(statusKiB(pid, 'RssAnon'))}, ` +
      `file-backed ${mib(statusKiB(pid, 'RssFile'))}: mostly the node binary and shared libraries).`,
  );
});
// Idle memory: what the process keeps once the load is over (caches full, garbage collected by then or not).
const idleSeconds = Number(process.env.BENCH_IDLE ?? 10);
const addresses = (process.env.BENCH_PAWKET_ADDRS ?? '').split(',').filter(Boolean);
const startKiB = (process.env.BENCH_PAWKET_START_KIB ?? '').split(',').map(Number);
const idle: Array<{ rssMiB: number | null; breakdown: MemoryBreakdown | null }> = [];
if (addresses.length && !baselinePid) {
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  for (const [i, address] of addresses.entries()) {
    const { pid, who } = pawketProcesses[i]!;
    const breakdown = await memoryBreakdown(pid, address);
    const rss = rssKiB(pid);
    idle.push({ rssMiB: rss === null ? null : rss / 1024, breakdown });
    lines.push(
      `${who} idle RSS ${idleSeconds} s after the load: ${mib(rss)} (aim < 100 MiB: ${rss !== null && rss < 100 * 1024 ? 'met' : 'NOT met'})` +
        (startKiB[i] ? `; at start, on an empty feed (runtime and libraries): ${mib(startKiB[i]!)}.` : '.'),
    );
    if (breakdown) lines.push(...formatBreakdown(breakdown).map((l) => `  ${l}`));
  }
}
const failed = results.some(({ runs }) => servers.some((s) => runs[s.name]!.errors > 0));
if (failed) lines.push('WARNING: some requests failed (see the errors column); those runs do not measure what they claim.');
process.stdout.write(lines.join('\n') + '\n');

const baselinePeaks = baselinePid
  ? { load: loadPeaksKiB[nodes] == null ? null : loadPeaksKiB[nodes]! / 1024, wholeRun: wholeRunPeaksKiB[nodes]! / 1024 }
  : null;
const json = {
  mode,
  nodes,
  settings: { loadgen, threads, connections, duration, warmup, rounds, loadgenCpus: loadgenCpus || null },
  snapshot,
  resources: results.map(({ resource, runs, rounds: all }, k) => ({
    resource: resource.key, pattern: resource.pattern, aim: aimOf(resource), runs, rounds: all,
    ...(baselinePid ? { currentOverBaseline: comparisons[k] } : {}),
  })),
  pawketPeakRssMiB: { load: loadPeakKiB === null ? null : loadPeakKiB / 1024, wholeRun: Math.max(...wholeRunPeaksKiB.slice(0, nodes)) / 1024 },
  pawketIdleMemory: idle,
  pawketPeakRssMiBPerNode: pawketPids.map((_, i) => ({
    load: loadPeaksKiB[i] == null ? null : loadPeaksKiB[i]! / 1024,
    wholeRun: wholeRunPeaksKiB[i]! / 1024,
  })),
  ...(baselinePid
    ? { baseline: { current: currentLabel, baseline: baselineLabel, noiseRule: NOISE_RULE, snapshot: baselineSnapshot, peakRssMiB: baselinePeaks } }
    : {}),
};
writeFileSync(join(work, 'results.json'), JSON.stringify(json, null, 2));
if (process.env.BENCH_MODE_RESULTS) writeFileSync(process.env.BENCH_MODE_RESULTS, JSON.stringify(json, null, 2));
else if (process.env.BENCH_RESULTS) writeFileSync(process.env.BENCH_RESULTS, JSON.stringify(json, null, 2));
