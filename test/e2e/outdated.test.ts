/**
 * dotnet-outdated (the .NET tool) against a real Pawket server: a project that references Pawket.E2e.Core 1.0.0 is
 * up to date until a newer version is pushed; then the tool reports it (the newest prerelease with
 * `--pre-release Always`) and `-u` upgrades the reference.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsumerFeed, type ConsumerFeed } from './support/consumer-feed.js';
import { hasDotnet, requireClients, run, type RunResult } from './support/dotnet.js';
import { CORE_ID } from './support/packages.js';
import { OUTDATED_VERSION, outdatedPath } from './support/paths.js';
import { pushPackageFile } from './support/server.js';

const missing: string[] = [];
if (!existsSync(outdatedPath)) missing.push(`dotnet-outdated ${OUTDATED_VERSION} (the dotnet-outdated-tool .NET tool) in .tools/`);
if (!hasDotnet) missing.push('dotnet (the .NET 10 SDK)');
const clients = requireClients('dotnet-outdated end-to-end tests', missing);

const STEP_TIMEOUT = 240_000;

describe.skipIf(clients.skip)('dotnet-outdated against a real Pawket server', () => {
  let feed: ConsumerFeed | undefined;

  beforeAll(async () => {
    feed = await startConsumerFeed({ name: 'outdated', env: { PAWKET_API_KEY: 'key1' }, push: (p) => [p.core100] });
    const add = await feed.dotnet(['add', 'package', CORE_ID, '--version', '1.0.0']);
    if (add.code !== 0) throw new Error(feed.explain(add));
  });

  afterAll(() => feed?.close());

  async function outdated(args: readonly string[] = []): Promise<RunResult> {
    // NuGet keeps package version lists in its HTTP cache for 30 minutes; a fresh look sees a push at once.
    await rm(feed!.sandbox.httpCacheDir, { recursive: true, force: true });
    return run(outdatedPath, args, { cwd: feed!.consumerDir, env: feed!.sandbox.env, timeoutMs: STEP_TIMEOUT - 10_000 });
  }

  const explain = (r: RunResult) => feed!.explain(r);

  it('finds nothing outdated while 1.0.0 is the newest version', { timeout: STEP_TIMEOUT }, async () => {
    const r = await outdated();
    expect(r.code, explain(r)).toBe(0);
    expect(r.output, explain(r)).toContain('No outdated dependencies were detected');
  });

  it('reports a newer version once it is pushed, and the newest prerelease when asked', { timeout: STEP_TIMEOUT }, async () => {
    await pushPackageFile(feed!.server, feed!.pkgs.core101, 'key1');
    await pushPackageFile(feed!.server, feed!.pkgs.core110beta2, 'key1');
    const stable = await outdated(['--fail-on-updates']);
    expect(stable.code, explain(stable)).not.toBe(0);
    expect(stable.output, explain(stable)).toMatch(new RegExp(`${CORE_ID.replace(/\./g, '\\.')}\\s+1\\.0\\.0 -> 1\\.0\\.1`));

    const pre = await outdated(['--pre-release', 'Always']);
    expect(pre.code, explain(pre)).toBe(0);
    expect(pre.output, explain(pre)).toMatch(new RegExp(`${CORE_ID.replace(/\./g, '\\.')}\\s+1\\.0\\.0 -> 1\\.1\\.0-beta\\.2`));
  });

  it('upgrades the reference with -u', { timeout: STEP_TIMEOUT }, async () => {
    const r = await outdated(['-u']);
    expect(r.code, explain(r)).toBe(0);
    const csproj = await readFile(join(feed!.consumerDir, 'Consumer.csproj'), 'utf8');
    expect(csproj, explain(r)).toMatch(new RegExp(`<PackageReference Include="${CORE_ID.replace(/\./g, '\\.')}" Version="1\\.0\\.1"`));
    const again = await outdated();
    expect(again.output, explain(again)).toContain('No outdated dependencies were detected');
  });
});
