/**
 * Runs the C# oracle (NuGet's own libraries) from tests: build it once, then send it batches of JSON requests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const oracleDir = path.dirname(fileURLToPath(import.meta.url));
const dll = path.join(oracleDir, 'bin', 'Release', 'net10.0', 'Oracle.dll');

/** True when the `dotnet` CLI can be run (the oracle needs it). */
export function dotnetAvailable(): boolean {
  const probe = spawnSync('dotnet', ['--version'], { encoding: 'utf8' });
  return probe.status === 0;
}

/** Builds the oracle (restoring NuGet.Versioning, NuGet.Frameworks and NuGet.Packaging on first use). */
export function buildOracle(): void {
  const build = spawnSync('dotnet', ['build', '-c', 'Release', '--nologo', '-v', 'q'], {
    cwd: oracleDir,
    encoding: 'utf8',
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
  });
  if (build.status !== 0 || !existsSync(dll)) {
    throw new Error(`building the NuGet oracle failed:\n${build.stdout}\n${build.stderr}`);
  }
}

export type OracleRequest =
  | { op: 'version'; s: string }
  | { op: 'compare'; a: string; b: string }
  | { op: 'range'; s: string; v: string[] }
  | { op: 'framework'; s: string }
  | { op: 'id'; s: string }
  | { op: 'nuspec'; b64: string };

/** Sends all requests to one oracle process and returns its answers in the same order. */
export async function askOracle(requests: readonly OracleRequest[]): Promise<Record<string, unknown>[]> {
  const child = spawn('dotnet', [dll], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const code = await done;
  if (code !== 0) throw new Error(`oracle exited with ${code}: ${Buffer.concat(err).toString('utf8')}`);
  const lines = Buffer.concat(out).toString('utf8').split('\n').filter((line) => line.length > 0);
  if (lines.length !== requests.length) {
    throw new Error(`oracle answered ${lines.length} of ${requests.length} requests`);
  }
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}
