/**
 * NuGet's own client library asked about a feed (the C# program beside this file, NuGet.Protocol 8.0.0). Built once
 * per test process, from a copy in a temporary folder so nothing is written into the repository; each question is
 * one short process.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRun, run, runOk, type RunResult } from '../support/dotnet.js';

const projectDir = dirname(fileURLToPath(import.meta.url));

const DOTNET_ENV = {
  DOTNET_CLI_TELEMETRY_OPTOUT: '1',
  DOTNET_NOLOGO: '1',
  DOTNET_CLI_UI_LANGUAGE: 'en',
  DOTNET_CLI_USE_MSBUILD_SERVER: '0',
  MSBUILDDISABLENODEREUSE: '1',
  UseSharedCompilation: 'false',
};

let built: Promise<{ dll: string; work: string }> | undefined;

/** Builds the client (restoring NuGet.Protocol on first use); later calls in the same process reuse the build. */
export function buildProtocolClient(): Promise<void> {
  built ??= (async () => {
    const work = await mkdtemp(join(tmpdir(), 'pawket-e2e-protocol-client-'));
    const project = join(work, 'src');
    await cp(projectDir, project, { recursive: true, filter: (p) => !/[\\/](bin|obj)$/.test(p) && !p.endsWith('.ts') });
    await runOk('dotnet', ['build', '-c', 'Release', '-o', join(work, 'bin'), '--nologo', '-v', 'q'], {
      cwd: project,
      env: DOTNET_ENV,
      timeoutMs: 5 * 60_000,
    });
    return { dll: join(work, 'bin', 'ProtocolClient.dll'), work };
  })();
  return built.then(() => undefined);
}

/** Removes the build (call it from afterAll). */
export async function removeProtocolClient(): Promise<void> {
  const b = await built?.catch(() => undefined);
  built = undefined;
  if (b && !process.env.PAWKET_E2E_KEEP) await rm(b.work, { recursive: true, force: true });
}

export interface ClientOptions {
  /** Sent as the source's password (HTTP Basic), as nuget.config credentials are. */
  readonly password?: string;
  /** More environment for the client (e.g. a NuGet sandbox's HOME and caches). */
  readonly env?: Record<string, string>;
}

/** Runs one question; throws with the client's output when it fails. */
async function ask(args: readonly string[], opts: ClientOptions = {}): Promise<RunResult> {
  if (!built) throw new Error('buildProtocolClient() first');
  const { dll } = await built;
  const env = { ...DOTNET_ENV, ...opts.env, ...(opts.password ? { PAWKET_CLIENT_PASSWORD: opts.password } : {}) };
  const r = await run('dotnet', [dll, ...args], { env, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`the NuGet.Protocol client failed:\n${describeRun(r)}`);
  return r;
}

/** What one autocomplete run answered: the completions, the NuGet.Protocol resource type it used, and the run. */
export interface Completions {
  readonly values: string[];
  readonly resource: string;
  readonly run: RunResult;
}

/** `AutoCompleteResource.IdStartsWith(prefix, includePrerelease)` against the feed at `source`. */
export function idStartsWith(source: string, prefix: string, includePrerelease: boolean, opts: ClientOptions = {}): Promise<Completions> {
  return complete([source, 'ids', prefix, String(includePrerelease)], opts);
}

/** `AutoCompleteResource.VersionStartsWith(id, prefix, includePrerelease)`; versions as full strings. */
export function versionStartsWith(
  source: string,
  id: string,
  prefix: string,
  includePrerelease: boolean,
  opts: ClientOptions = {},
): Promise<Completions> {
  return complete([source, 'versions', id, prefix, String(includePrerelease)], opts);
}

async function complete(args: readonly string[], opts: ClientOptions): Promise<Completions> {
  const r = await ask(['autocomplete', ...args], opts);
  const resource = /^resource: (\S+)/m.exec(r.stderr)?.[1] ?? 'unknown';
  return { values: JSON.parse(r.stdout.trim()) as string[], resource, run: r };
}

/**
 * PackageMetadataResource and PackageSearchResource over V3 (`feedUrl`) and PackageMetadataResource over V2
 * (`v2Url`) for each version: the icon and readme URLs they report, by package id.
 */
export async function packageMetadata(
  feedUrl: string,
  v2Url: string,
  versions: ReadonlyArray<{ id: string; version: string }>,
  opts: ClientOptions = {},
): Promise<Record<string, unknown>> {
  const r = await ask(['metadata', feedUrl, v2Url, ...versions.flatMap((v) => [v.id, v.version])], opts);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}
