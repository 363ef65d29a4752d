import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshBackendEnv } from '../../support/backend.js';
import { repoRoot } from './paths.js';

/** A running Pawket server process started by {@link startPawket}. */
export interface PawketServer {
  /** The V3 service index URL, e.g. `http://127.0.0.1:41234/v3/index.json`. */
  readonly feedUrl: string;
  /** Scheme, host and port, no trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly baseUrl: string;
  readonly dataDir: string;
  /** The server's process id (its /proc entry tells what it read and wrote). */
  readonly pid: number;
  /** Everything the server printed so far (stdout and stderr, interleaved as received). */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes the data dir if startPawket created it. */
  stop(): Promise<void>;
  /** Kills the process at once (SIGKILL), as a crash would; `stop()` still cleans up. */
  kill(): void;
}

export interface StartPawketOptions {
  /** Extra environment for the server, e.g. `{ PAWKET_API_KEY: 'key1' }`. */
  readonly env?: Record<string, string>;
  /** Extra command line arguments after `serve ...`. */
  readonly args?: readonly string[];
  /** Use this data dir (kept on stop) instead of a throw-away one. */
  readonly dataDir?: string;
  /** How long to wait for the feed URL line; default 30 s. */
  readonly startTimeoutMs?: number;
}

/** The feed URL line, or (with a public baseUrl) the line saying where the server listens. */
const FEED_URL_LINE = /(http:\/\/127\.0\.0\.1:(\d+))(?:\/v3\/index\.json|\n)/;

/** Path of the built CLI; tests run against the build, as a user would run the package. */
export const pawketMain = join(repoRoot, 'dist', 'cli', 'main.js');

/**
 * Starts `node dist/cli/main.js serve` on a free loopback port and resolves once it prints its feed URL.
 *
 * @example
 * const server = await startPawket({ env: { PAWKET_API_KEY: 'key1' } });
 * try { await fetch(server.feedUrl); } finally { await server.stop(); }
 */
export async function startPawket(opts: StartPawketOptions = {}): Promise<PawketServer> {
  if (!existsSync(pawketMain)) {
    throw new Error(`${pawketMain} does not exist: run \`npm run build\` before the end-to-end tests`);
  }
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'pawket-e2e-data-')));
  const args = [
    pawketMain,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    // A fresh database and storage prefix on the suite's backend, unless the caller shares one (multi-node tests).
    env: { ...process.env, ...(opts.env?.PAWKET_DATABASE ? {} : await freshBackendEnv()), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let output = '';
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    output += chunk;
  });

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const cleanUp = async (): Promise<void> => {
    await killAndWait(child, exited);
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
  };

  let urls: { feedUrl: string; baseUrl: string };
  try {
    urls = await new Promise<{ feedUrl: string; baseUrl: string }>((resolve, reject) => {
      const timeoutMs = opts.startTimeoutMs ?? 30_000;
      const timer = setTimeout(
        () => reject(new Error(`Pawket did not print its feed URL within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.stdout.on('data', (chunk: string) => {
        output += chunk;
        stdout += chunk;
        const m = FEED_URL_LINE.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve({ feedUrl: `${m[1]}/v3/index.json`, baseUrl: m[1]! });
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Pawket exited before it listened (code ${code}, signal ${signal})`));
      });
    });
  } catch (err) {
    await cleanUp();
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\n--- pawket ${args.slice(1).join(' ')} printed ---\n${output}--- end ---`);
  }

  let stopped: Promise<void> | undefined;
  return {
    ...urls,
    dataDir,
    pid: child.pid!,
    output: () => output,
    stop: () => (stopped ??= cleanUp()),
    kill: () => void child.kill('SIGKILL'),
  };
}

async function killAndWait(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 10_000).unref()),
  ]);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Pushes a `.nupkg` file over HTTP as `dotnet nuget push` would (PUT, raw body), for suites whose client under test
 * cannot push (Paket, dotnet-outdated); throws unless the server answers 201.
 */
export async function pushPackageFile(server: PawketServer, file: string, apiKey: string): Promise<void> {
  const body = await readFile(file);
  const response = await fetch(`${server.baseUrl}/api/v2/package`, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': apiKey },
  });
  if (response.status !== 201) throw new Error(`pushing ${file} answered ${response.status}: ${await response.text()}`);
}
