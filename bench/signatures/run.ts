/**
 * Signature verification: the CPU time one verification costs (what a push, stage, import or mirroring of a signed
 * package adds), for the real signed packages in this machine's NuGet global packages folder (nuget.org packages carry
 * an author signature and a repository countersignature, each timestamped) against the newest SDK's trusted roots, and
 * for an unsigned package (the cost of finding that there is no signature).
 *
 *   npx tsx bench/signatures/run.ts [-- --runs 20]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadTrustedRoots } from '../../src/signing/trusted-roots.js';
import { verifyPackageSignature } from '../../src/signing/verify.js';
import { buildNupkg } from '../../test/support/nupkg.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 20);

const global = execFileSync('dotnet', ['nuget', 'locals', 'global-packages', '--list', '--force-english-output'], { encoding: 'utf8' }).match(/global-packages:\s*(.+)/)?.[1]?.trim();
const real = global && existsSync(global) ? (await readdir(global, { recursive: true })).filter((f) => f.endsWith('.nupkg')).map((f) => join(global, f)) : [];
const work = await mkdtemp(join(tmpdir(), 'pawket-bench-signatures-'));
const unsigned = join(work, 'Bench.Unsigned.1.0.0.nupkg');
await writeFile(unsigned, await buildNupkg({ id: 'Bench.Unsigned', version: '1.0.0' }));

let started = process.cpuUsage();
const roots = await loadTrustedRoots([]);
const rootsCpu = process.cpuUsage(started);
console.log(`CPU: ${cpus()[0]?.model ?? '?'} x${cpus().length}; roots: ${roots.source} (${roots.codeSigning.length} code signing, ${roots.timestamping.length} timestamping), loaded in ${((rootsCpu.user + rootsCpu.system) / 1000).toFixed(0)} ms CPU once per process`);

for (const file of [unsigned, ...real]) {
  await verifyPackageSignature(file, 'warm-up', { roots }); // first call loads and compiles the ASN.1 code
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    started = process.cpuUsage();
    const verdict = await verifyPackageSignature(file, basename(file), { roots });
    const used = process.cpuUsage(started);
    samples.push((used.user + used.system) / 1000);
    if (i === 0 && verdict.status !== 'valid' && file !== unsigned) console.log(`  ${basename(file)}: ${verdict.status}`);
  }
  samples.sort((a, b) => a - b);
  const kib = ((await stat(file)).size / 1024).toFixed(0);
  console.log(`${basename(file).padEnd(60)} ${kib.padStart(6)} KiB  median ${samples[Math.floor(runs / 2)]!.toFixed(1)} ms CPU  p90 ${samples[Math.floor(runs * 0.9)]!.toFixed(1)} ms`);
}
await rm(work, { recursive: true, force: true });
