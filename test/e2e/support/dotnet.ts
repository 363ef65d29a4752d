import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a finished command left behind. */
export interface RunResult {
  readonly command: string;
  /** Exit code; null when it was killed (see `timedOut`). */
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved as received. */
  readonly output: string;
  readonly durationMs: number;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Added to (and overriding) this process's environment. */
  readonly env?: Record<string, string>;
  /** Killed (with its whole process group) after this long; default 5 minutes. */
  readonly timeoutMs?: number;
}

/**
 * Runs a command with captured output and a timeout. Never throws for a non-zero exit: tests assert on the result.
 *
 * @example
 * const r = await run('dotnet', ['--version']);
 * expect(r.code).toBe(0);
 */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args].map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // own process group, so a timeout can kill what the command started (MSBuild nodes, mono, ...)
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      stdout += c;
      output += c;
    });
    child.stderr.on('data', (c: string) => {
      stderr += c;
      output += c;
    });
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    let exitCode: number | null = null;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ command, code: exitCode, timedOut, stdout, stderr, output, durationMs: Date.now() - started });
    };
    child.once('error', (err) => {
      clearTimeout(timer);
      settled = true;
      reject(new Error(`could not start ${command}: ${err.message}`));
    });
    child.once('exit', (code) => {
      exitCode = code;
      // a leftover grandchild may hold our pipes open; don't wait for it for ever
      setTimeout(() => {
        killGroup();
        finish();
      }, 5_000).unref();
    });
    child.once('close', finish);
  });
}

/** Describes a result for an assertion message: the command, its exit and everything it printed. */
export function describeRun(r: RunResult): string {
  const how = r.timedOut ? `timed out after ${r.durationMs} ms` : `exited with ${r.code} after ${r.durationMs} ms`;
  return `$ ${r.command}\n(${how})\n${r.output}`;
}

/** Runs a command and throws, with its output, unless it exits 0. */
export async function runOk(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`command failed:\n${describeRun(r)}`);
  return r;
}

/** Whether `file args` can be started and exits 0 (synchronous: for `describe.skipIf`). */
export function commandWorks(file: string, args: readonly string[]): boolean {
  const r = spawnSync(file, args, { stdio: 'ignore', timeout: 60_000 });
  return r.error === undefined && r.status === 0;
}

/**
 * Decides whether a client-driven suite runs. A missing client skips the suite with a loud warning on a developer's
 * machine; under CI (`CI` set) the suite runs anyway and fails, so a green CI means every client was exercised.
 */
export function requireClients(suite: string, missing: readonly string[]): { skip: boolean } {
  if (missing.length === 0) return { skip: false };
  const why = `${suite}: missing ${missing.join(', ')}. Run \`bash scripts/install-test-deps.sh\` to install them.`;
  if (process.env.CI) {
    console.warn(`\n!!! ${why} Running anyway because CI is set: expect failures.\n`);
    return { skip: false };
  }
  console.warn(`\n!!! SKIPPING ${why}\n`);
  return { skip: true };
}

export const hasDotnet = commandWorks('dotnet', ['--version']);

/** What the nuget.exe suites need and this machine lacks: mono, nuget.exe from .tools/, and dotnet to pack with. */
export function nugetExeMissing(nugetExe: string, nugetExeVersion: string): string[] {
  return [
    ...(commandWorks('mono', ['--version']) ? [] : ['mono (Debian mono-complete)']),
    ...(existsSync(nugetExe) ? [] : [`nuget.exe ${nugetExeVersion} in .tools/`]),
    ...(hasDotnet ? [] : ['dotnet (packs the test package)']),
  ];
}

/** A private set of NuGet folders: nothing a test restores leaks into, or comes from, the user's caches. */
export interface NuGetSandbox {
  readonly root: string;
  readonly packagesDir: string;
  readonly httpCacheDir: string;
  /** Environment for every dotnet / nuget.exe command run in this sandbox. */
  readonly env: Record<string, string>;
}

/**
 * Creates NuGet cache folders under `root` and the environment that points dotnet and nuget.exe at them. Only NuGet's
 * caches are isolated: the SDK, its workloads and the machine's own NuGet settings are left as they are (a test that
 * must see only Pawket also writes {@link writePawketOnlyConfig}).
 */
export async function createNuGetSandbox(root: string): Promise<NuGetSandbox> {
  const packagesDir = join(root, 'packages');
  const httpCacheDir = join(root, 'http-cache');
  const pluginsCacheDir = join(root, 'plugins-cache');
  const scratchDir = join(root, 'scratch');
  await Promise.all([packagesDir, httpCacheDir, pluginsCacheDir, scratchDir].map((d) => mkdir(d, { recursive: true })));
  return {
    root,
    packagesDir,
    httpCacheDir,
    env: {
      NUGET_PACKAGES: packagesDir,
      NUGET_HTTP_CACHE_PATH: httpCacheDir,
      NUGET_PLUGINS_CACHE_PATH: pluginsCacheDir,
      NUGET_SCRATCH: scratchDir,
      // English output, so the tests can read it
      DOTNET_CLI_UI_LANGUAGE: 'en',
      DOTNET_CLI_TELEMETRY_OPTOUT: '1',
      DOTNET_NOLOGO: '1',
      DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1',
      // no build servers that outlive the command (they would hold our pipes and the CPU)
      DOTNET_CLI_USE_MSBUILD_SERVER: '0',
      MSBUILDDISABLENODEREUSE: '1',
      UseSharedCompilation: 'false',
    },
  };
}

/** XML-escapes an attribute value. */
export function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Writes `dir/nuget.config` with Pawket as the only package source: every inherited source, fallback folder and
 * source mapping is cleared, so a restore that succeeds got its packages from Pawket. Plain-http sources need
 * `allowInsecureConnections` (NuGet 6.12+ refuses them otherwise).
 *
 * @returns the path of the written file
 */
export async function writePawketOnlyConfig(
  dir: string,
  feedUrl: string,
  opts: { readonly sourceName?: string; readonly fileName?: string; readonly protocolVersion?: 2 | 3 } = {},
): Promise<string> {
  const name = opts.sourceName ?? 'Pawket';
  // A V2 (OData) source must not be marked protocolVersion 3, or clients read its root as a service index.
  const protocol = opts.protocolVersion === 2 ? '' : ' protocolVersion="3"';
  const insecure = feedUrl.startsWith('http:') ? ' allowInsecureConnections="true"' : '';
  const xml = `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="${xmlAttr(name)}" value="${xmlAttr(feedUrl)}"${protocol}${insecure} />
  </packageSources>
  <disabledPackageSources>
    <clear />
  </disabledPackageSources>
  <fallbackPackageFolders>
    <clear />
  </fallbackPackageFolders>
  <packageSourceMapping>
    <clear />
  </packageSourceMapping>
</configuration>
`;
  await mkdir(dir, { recursive: true });
  const path = join(dir, opts.fileName ?? 'nuget.config');
  await writeFile(path, xml);
  return path;
}
