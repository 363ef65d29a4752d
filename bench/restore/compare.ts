/**
 * The `--compare-modes` summary: reads the results measure.ts wrote for each mode (same run, same machine, same load
 * settings) and prints, per resource, each mode's req/s and p99 and their ratios to the single-node SQLite + disk
 * mode, with the nginx reference measured alongside each mode, then each node's peak RSS.
 *
 *   npx tsx bench/restore/compare.ts RESULTS.json... (the first one is the baseline: SQLite + disk, 1 node)
 * Environment: BENCH_RESULTS (optional: also write the combined results as JSON there).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { RESOURCES } from './common.js';

interface Run {
  requests: number; seconds: number; errors: number; p99Ms: number; cpu: number; loadgenCpu: number; backendCpu: number; otherCpu: number;
}
interface ModeResults {
  mode: string;
  nodes: number;
  resources: Array<{ resource: string; runs: { Pawket: Run; nginx: Run } }>;
  pawketPeakRssMiBPerNode: Array<{ load: number | null; wholeRun: number }>;
}

const files = process.argv.slice(2);
if (files.length < 2) throw new Error('usage: compare.ts BASELINE.json OTHER.json...');
const modes = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ModeResults);
const baseline = modes[0]!;

const rate = (r: Run) => r.requests / r.seconds;
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => `${n.toFixed(2)} ms`;
const fmtPct = (n: number) => `${Math.round(n * 100)}%`;
const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i > 0 ? lpad(c, widths[i]!) : pad(c, widths[i]!))).join('   ')).join('\n');
}

const lines = [
  '',
  `Mode comparison (ratios against "${baseline.mode}" measured in this run; req/s ratio > 1 = faster, p99 ratio > 1 = slower).`,
  'CPU = the Pawket node(s); backend CPU = PostgreSQL, s3rver and the load balancer; other CPU = everything else on the',
  'machine (above ~20% the figures are noisy). nginx = the static-file reference measured right after Pawket in each mode.',
];
for (const resource of RESOURCES) {
  const base = baseline.resources.find((r) => r.resource === resource.key)?.runs.Pawket;
  lines.push('', `${resource.label}: ${resource.pattern}`);
  const rows = [['mode', 'req/s', 'p99', 'req/s ratio', 'p99 ratio', 'CPU', 'backend CPU', 'other CPU', 'errors', 'nginx req/s', 'Pawket/nginx']];
  for (const m of modes) {
    const runs = m.resources.find((r) => r.resource === resource.key)?.runs;
    if (!runs || !base) continue;
    const p = runs.Pawket;
    rows.push([
      m.mode, fmtInt(rate(p)), fmtMs(p.p99Ms), (rate(p) / rate(base)).toFixed(2), (p.p99Ms / base.p99Ms).toFixed(2),
      fmtPct(p.cpu), fmtPct(p.backendCpu), fmtPct(p.otherCpu), fmtInt(p.errors + runs.nginx.errors),
      fmtInt(rate(runs.nginx)), (rate(p) / rate(runs.nginx)).toFixed(2),
    ]);
  }
  lines.push(...table(rows).split('\n').map((l) => `  ${l}`));
}
lines.push('', 'Peak RSS (VmHWM) during the load runs, per node:');
for (const m of modes) {
  const nodes = m.pawketPeakRssMiBPerNode.map((n, i) => `node ${i + 1} ${n.load === null ? '?' : n.load.toFixed(1)} MiB`);
  lines.push(`  ${pad(m.mode, 28)} ${nodes.join(', ')}`);
}
if (modes.some((m) => m.resources.some((r) => r.runs.Pawket.errors > 0 || r.runs.nginx.errors > 0))) {
  lines.push('WARNING: some requests failed (see the errors column); those rows do not measure what they claim.');
}
process.stdout.write(lines.join('\n') + '\n');
if (process.env.BENCH_RESULTS) writeFileSync(process.env.BENCH_RESULTS, JSON.stringify({ modes }, null, 2));
