import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNuGetSandbox, describeRun, run, writePawketOnlyConfig, type NuGetSandbox, type RunResult } from './dotnet.js';
import { packTestPackages, type TestPackages } from './packages.js';
import { pushPackageFile, startPawket, type PawketServer } from './server.js';

/** What most dotnet suites start from: packed test packages, a server with some of them, and Consumer/ pointed at it. */
export interface ConsumerFeed {
  readonly work: string;
  readonly pkgs: TestPackages;
  readonly server: PawketServer;
  readonly sandbox: NuGetSandbox;
  /** The Consumer project, with a nuget.config that has Pawket as its only source. */
  readonly consumerDir: string;
  /** Runs `dotnet` in Consumer/; `freshMetadata` first clears NuGet's HTTP cache (it keeps metadata for 30 minutes). */
  dotnet(args: readonly string[], opts?: { readonly freshMetadata?: boolean; readonly timeoutMs?: number }): Promise<RunResult>;
  /** A failed command with the end of the server's log, for assertion messages. */
  explain(r: RunResult): string;
  close(): Promise<void>;
}

export interface ConsumerFeedOptions {
  /** Names the temp dir. */
  readonly name: string;
  /** Server environment; its PAWKET_API_KEY pushes `push`. */
  readonly env: Record<string, string> & { readonly PAWKET_API_KEY: string };
  readonly coreOnly?: boolean;
  /** Which packed files to push before the suite starts. */
  readonly push?: (pkgs: TestPackages) => readonly string[];
}

export async function startConsumerFeed(opts: ConsumerFeedOptions): Promise<ConsumerFeed> {
  const work = await mkdtemp(join(tmpdir(), `pawket-e2e-${opts.name}-`));
  const packSandbox = await createNuGetSandbox(join(work, 'nuget-pack'));
  const pkgs = await packTestPackages(work, packSandbox.env, { coreOnly: opts.coreOnly ?? true });
  const server = await startPawket({ env: opts.env });
  for (const file of opts.push?.(pkgs) ?? []) await pushPackageFile(server, file, opts.env.PAWKET_API_KEY);
  const sandbox = await createNuGetSandbox(join(work, 'nuget-consume'));
  const consumerDir = join(pkgs.projectsDir, 'Consumer');
  await writePawketOnlyConfig(consumerDir, server.feedUrl);
  return {
    work,
    pkgs,
    server,
    sandbox,
    consumerDir,
    async dotnet(args, o = {}) {
      if (o.freshMetadata) await rm(sandbox.httpCacheDir, { recursive: true, force: true });
      return run('dotnet', args, { cwd: consumerDir, env: sandbox.env, timeoutMs: o.timeoutMs ?? 230_000 });
    },
    explain: (r) => `${describeRun(r)}\n--- end of the Pawket log ---\n${server.output().slice(-4000)}`,
    async close() {
      await server.stop();
      if (!process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
    },
  };
}
