import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createNuGetSandbox, describeRun, run, writePawketOnlyConfig, type NuGetSandbox, type RunResult } from './dotnet.js';
import { CORE_ID, packTestPackages, type TestPackages } from './packages.js';
import { nugetExePath } from './paths.js';
import { startPawket, type PawketServer } from './server.js';

/** What the nuget.exe suites start from: packed Core versions, a server (key `key1`) and a Pawket-only NuGet.Config. */
export interface NuGetExeFeed {
  readonly work: string;
  readonly pkgs: TestPackages;
  readonly server: PawketServer;
  readonly sandbox: NuGetSandbox;
  /** The Pawket-only NuGet.Config (its folder holds nothing else). */
  readonly configFile: string;
  /** The source nuget.exe is pointed at: the V3 service index or the V2 feed root. */
  readonly sourceUrl: string;
  /**
   * `mono NuGet.exe <args> -NonInteractive` in the sandbox with the Pawket-only config: passed as `-ConfigFile`, or,
   * for commands without that option (`configOption: false`), found in the folder it runs in.
   */
  nuget(args: readonly string[], opts?: { readonly configOption?: boolean }): Promise<RunResult>;
  /** `nuget install Pawket.E2e.Core <args>` from `sourceUrl` into a fresh folder. */
  install(args: readonly string[]): Promise<{ r: RunResult; dir: string }>;
  /** A command's output with the end of the server's log, for assertion messages. */
  explain(r: RunResult): string;
  close(): Promise<void>;
}

export const NUGET_EXE_KEY = 'key1';

export async function startNuGetExeFeed(opts: { readonly name: string; readonly protocol: 2 | 3; readonly timeoutMs: number }): Promise<NuGetExeFeed> {
  const work = await mkdtemp(join(tmpdir(), `pawket-e2e-${opts.name}-`));
  const packSandbox = await createNuGetSandbox(join(work, 'nuget-pack'));
  const pkgs = await packTestPackages(work, packSandbox.env, { coreOnly: true });
  const server = await startPawket({ env: { PAWKET_API_KEY: NUGET_EXE_KEY } });
  const sourceUrl = opts.protocol === 2 ? `${server.baseUrl}/api/v2/` : server.feedUrl;
  const sandbox = await createNuGetSandbox(join(work, 'nuget'));
  const configFile = await writePawketOnlyConfig(join(work, 'config'), sourceUrl, { fileName: 'NuGet.Config', protocolVersion: opts.protocol });
  const nuget = (args: readonly string[], o: { readonly configOption?: boolean } = {}) => {
    const viaOption = o.configOption !== false;
    return run('mono', [nugetExePath, ...args, ...(viaOption ? ['-ConfigFile', configFile] : []), '-NonInteractive'], {
      cwd: viaOption ? work : dirname(configFile),
      env: { ...sandbox.env, NUGET_API_KEY: '' },
      timeoutMs: opts.timeoutMs,
    });
  };
  return {
    work,
    pkgs,
    server,
    sandbox,
    configFile,
    sourceUrl,
    nuget,
    async install(args) {
      const dir = await mkdtemp(join(work, 'install-'));
      const r = await nuget(['install', CORE_ID, ...args, '-Source', sourceUrl, '-OutputDirectory', dir]);
      return { r, dir };
    },
    explain: (r) => `${describeRun(r)}\n--- end of the Pawket log ---\n${server.output().slice(-4000)}`,
    async close() {
      await server.stop();
      if (!process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
    },
  };
}
