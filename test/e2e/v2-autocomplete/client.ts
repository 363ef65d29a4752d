/**
 * Builds and runs the V2 autocomplete client (Program.cs: NuGet.Protocol 8.0.0's AutoCompleteResource against a V2
 * feed). Build it once per test file with {@link buildV2AutocompleteClient}; each query is one short process.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRun, run, runOk, type RunResult } from '../support/dotnet.js';

const projectDir = dirname(fileURLToPath(import.meta.url));
const dll = join(projectDir, 'bin', 'Release', 'net10.0', 'V2Autocomplete.dll');

const DOTNET_ENV = {
  DOTNET_CLI_TELEMETRY_OPTOUT: '1',
  DOTNET_NOLOGO: '1',
  DOTNET_CLI_UI_LANGUAGE: 'en',
  DOTNET_CLI_USE_MSBUILD_SERVER: '0',
  MSBUILDDISABLENODEREUSE: '1',
  UseSharedCompilation: 'false',
};

let built: Promise<void> | undefined;

/** Builds the client (restoring NuGet.Protocol on first use); later calls in the same process reuse the build. */
export function buildV2AutocompleteClient(): Promise<void> {
  built ??= (async () => {
    await runOk('dotnet', ['build', '-c', 'Release', '--nologo', '-v', 'q'], { cwd: projectDir, env: DOTNET_ENV, timeoutMs: 5 * 60_000 });
    if (!existsSync(dll)) throw new Error(`building the V2 autocomplete client left no ${dll}`);
  })();
  return built;
}

/** What one run of the client answered: the completions, the NuGet.Protocol resource type it used, and the run. */
export interface Completions {
  readonly values: string[];
  readonly resource: string;
  readonly run: RunResult;
}

export interface ClientOptions {
  /** Sent as the source's password (HTTP Basic), as nuget.config credentials are. */
  readonly password?: string;
}

/** `AutoCompleteResource.IdStartsWith(prefix, includePrerelease)` against the V2 feed at `source` (`.../api/v2/`). */
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
  const env = { ...DOTNET_ENV, ...(opts.password ? { PAWKET_CLIENT_PASSWORD: opts.password } : {}) };
  const r = await run('dotnet', [dll, ...args], { env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`the V2 autocomplete client failed:\n${describeRun(r)}`);
  const resource = /^resource: (\S+)/m.exec(r.stderr)?.[1] ?? 'unknown';
  return { values: JSON.parse(r.stdout.trim()) as string[], resource, run: r };
}
