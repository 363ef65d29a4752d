/**
 * `dotnet package search` (SDK 10) against a real Pawket server, with Pawket as the only source: it finds packages by
 * id and by free text, honours --prerelease, --take and --exact-match, and shows download counts, which survive a
 * restart (written on shutdown, loaded at start-up).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBackendEnv } from '../support/backend.js';
import { buildNupkg } from '../support/nupkg.js';
import {
  createNuGetSandbox,
  describeRun,
  hasDotnet,
  requireClients,
  run,
  writePawketOnlyConfig,
  type NuGetSandbox,
  type RunResult,
} from './support/dotnet.js';
import { startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('dotnet package search end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

const KEY = 'search-e2e-key';
const STEP_TIMEOUT = 120_000;

/** What `dotnet package search --format json` prints (format version 2). */
interface SearchOutput {
  version: number;
  problems: unknown[];
  searchResult: { sourceName: string; packages: { id: string; latestVersion?: string; version?: string; totalDownloads?: number; description?: string }[] }[];
}

const PACKAGES = [
  { id: 'PawketSearch.Json.Tools', version: '1.2.0', extraMetadata: '<tags>serializer converters</tags>', description: 'Converters and helpers for System.Text.Json.' },
  { id: 'PawketSearch.Json.Tools', version: '2.0.0-beta.1', extraMetadata: '<tags>serializer converters</tags>', description: 'Converters and helpers for System.Text.Json.' },
  { id: 'PawketSearch.Logging', version: '3.0.0', description: 'Structured logging that writes JSON lines.' },
  { id: 'PawketSearch.Json', version: '0.9.0', description: 'The core JSON types.' },
];

describe.skipIf(clients.skip)('dotnet package search against a real Pawket server', () => {
  let work: string;
  let dataDir: string;
  let env: Record<string, string>;
  let server: PawketServer | undefined;
  let sandbox: NuGetSandbox;
  let projectDir: string;
  let configFile: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-search-'));
    dataDir = join(work, 'data');
    // The same database (and storage prefix) across the restart below.
    env = { ...(await freshBackendEnv()), PAWKET_API_KEY: KEY };
    server = await startPawket({ env, dataDir });
    for (const p of PACKAGES) {
      const res = await fetch(`${server.baseUrl}/api/v2/package`, {
        method: 'PUT',
        body: new Uint8Array(await buildNupkg(p)),
        headers: { 'x-nuget-apikey': KEY },
      });
      expect(res.status, await res.text()).toBe(201);
    }
    sandbox = await createNuGetSandbox(join(work, 'nuget'));
    projectDir = join(work, 'project');
    configFile = await writePawketOnlyConfig(projectDir, server.feedUrl);
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await server?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- end of the Pawket log ---\n${server?.output().slice(-4000) ?? ''}`;
  }

  /** Runs `dotnet package search ... --format json` with Pawket as the only source and parses what it prints. */
  async function search(args: readonly string[]): Promise<SearchOutput['searchResult'][number]['packages']> {
    const r = await run('dotnet', ['package', 'search', ...args, '--source', server!.feedUrl, '--configfile', configFile, '--format', 'json'], {
      cwd: projectDir,
      env: sandbox.env,
      timeoutMs: STEP_TIMEOUT - 10_000,
    });
    expect(r.code, explain(r)).toBe(0);
    const output = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as SearchOutput;
    expect(output.problems, explain(r)).toEqual([]);
    expect(output.searchResult.map((s) => s.sourceName), explain(r)).toEqual(['Pawket']);
    return output.searchResult[0]!.packages;
  }

  it('finds a package by its id, exact match first', { timeout: STEP_TIMEOUT }, async () => {
    const packages = await search(['PawketSearch.Json.Tools']);
    expect(packages[0]).toMatchObject({ id: 'PawketSearch.Json.Tools', latestVersion: '1.2.0' });
    const json = await search(['pawketsearch.json']);
    expect(json[0]?.id).toBe('PawketSearch.Json');
  });

  it('finds packages by free text: id words first, then tags and descriptions', { timeout: STEP_TIMEOUT }, async () => {
    expect((await search(['serializer'])).map((p) => p.id)).toEqual(['PawketSearch.Json.Tools']);
    expect((await search(['structured logging'])).map((p) => p.id)).toEqual(['PawketSearch.Logging']);
    const json = (await search(['json'])).map((p) => p.id);
    expect(json.slice(0, 2).sort()).toEqual(['PawketSearch.Json', 'PawketSearch.Json.Tools']);
    expect(json[2]).toBe('PawketSearch.Logging');
  });

  it('shows prerelease versions only with --prerelease', { timeout: STEP_TIMEOUT }, async () => {
    expect((await search(['PawketSearch.Json.Tools', '--prerelease']))[0]).toMatchObject({ latestVersion: '2.0.0-beta.1' });
  });

  it('pages with --take and --skip', { timeout: STEP_TIMEOUT }, async () => {
    const all = (await search(['pawketsearch'])).map((p) => p.id);
    expect(all).toHaveLength(3);
    expect((await search(['pawketsearch', '--take', '1', '--skip', '1'])).map((p) => p.id)).toEqual(all.slice(1, 2));
  });

  it('lists every version with --exact-match', { timeout: STEP_TIMEOUT }, async () => {
    const versions = (await search(['PawketSearch.Json.Tools', '--exact-match', '--prerelease'])).map((p) => p.version);
    expect(versions.sort()).toEqual(['1.2.0', '2.0.0-beta.1']);
  });

  it('counts downloads, writes them on shutdown and shows them after a restart', { timeout: STEP_TIMEOUT }, async () => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${server!.baseUrl}/v3/flatcontainer/pawketsearch.logging/3.0.0/pawketsearch.logging.3.0.0.nupkg`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await server!.stop(); // SIGTERM: the server writes pending counts before it exits
    server = await startPawket({ env, dataDir });
    configFile = await writePawketOnlyConfig(projectDir, server.feedUrl);
    const packages = await search(['PawketSearch.Logging']);
    expect(packages[0]).toMatchObject({ id: 'PawketSearch.Logging', totalDownloads: 2 });
  });
});
