/**
 * PowerShell 7.6 (the `PowerShell` .NET tool) against a real Pawket server, with both module clients it ships:
 * - PSResourceGet on the V3 URL: Register-PSResourceRepository, Publish-PSResource, Find-PSResource, Install-PSResource;
 * - PowerShellGet v2 (PackageManagement's NuGet provider) on the V2 URL: Register-PSRepository, Publish-Module,
 *   Find-Module (by name, all versions, wildcard search), Install-Module, Update-Module.
 * Modules are written by the test; one server serves every step, in order.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, hasDotnet, requireClients, run, xmlAttr, type RunResult } from './support/dotnet.js';
import { PWSH_VERSION, pwshPath } from './support/paths.js';
import { startPawket, type PawketServer } from './support/server.js';

const missing: string[] = [];
if (!existsSync(pwshPath)) missing.push(`PowerShell ${PWSH_VERSION} (the PowerShell .NET tool) in .tools/`);
// PowerShellGet v2 packs modules with `dotnet pack` on Linux.
if (!hasDotnet) missing.push('dotnet (PowerShellGet v2 packs modules with it)');
const clients = requireClients('PowerShell end-to-end tests', missing);

const STEP_TIMEOUT = 240_000;

/** A module manifest and script: `Get-<Name>Greeting` says hello. */
async function writeModule(dir: string, name: string, version: string, guid: string): Promise<string> {
  const moduleDir = join(dir, `${name}-${version}`, name);
  await mkdir(moduleDir, { recursive: true });
  await writeFile(
    join(moduleDir, `${name}.psm1`),
    `function Get-${name}Greeting { param([string]$Name = 'world') "Hello, $Name, from ${name} ${version}" }\nExport-ModuleMember -Function Get-${name}Greeting\n`,
  );
  await writeFile(
    join(moduleDir, `${name}.psd1`),
    `@{
  RootModule = '${name}.psm1'
  ModuleVersion = '${version}'
  GUID = '${guid}'
  Author = 'Pawket Tests'
  CompanyName = 'Pawket'
  Description = 'A small module for the Pawket end-to-end tests.'
  FunctionsToExport = @('Get-${name}Greeting')
  CmdletsToExport = @()
  VariablesToExport = @()
  AliasesToExport = @()
  PrivateData = @{ PSData = @{ Tags = @('pawket', 'e2e') } }
}
`,
  );
  return moduleDir;
}

/** A PowerShell single-quoted string literal. */
const psString = (s: string) => `'${s.replace(/'/g, "''")}'`;

describe.skipIf(clients.skip)('PowerShell 7.6 (PSResourceGet, PowerShellGet v2) against a real Pawket server', () => {
  let work: string;
  let server: PawketServer | undefined;
  let psDir: string;
  let env: Record<string, string>;
  let v2Url: string;
  let modules: { demo100: string; tools100: string; tools110: string };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-powershell-'));
    server = await startPawket({ env: { PAWKET_API_KEY: 'key1' } });
    v2Url = `${server.baseUrl}/api/v2/`;
    psDir = join(work, 'ps');
    const tmp = join(psDir, 'tmp');
    await mkdir(tmp, { recursive: true });
    modules = {
      demo100: await writeModule(join(work, 'modules'), 'PawketDemo', '1.0.0', '3f6c8f5e-8a1b-4c1e-9a63-2f3e8d6a7b10'),
      tools100: await writeModule(join(work, 'modules'), 'PawketTools', '1.0.0', '4a7d9e6f-9b2c-4d2f-8b74-3f4e9e7b8c21'),
      tools110: await writeModule(join(work, 'modules'), 'PawketTools', '1.1.0', '4a7d9e6f-9b2c-4d2f-8b74-3f4e9e7b8c21'),
    };
    // PowerShellGet v2 packs with `dotnet pack` of a throw-away netcoreapp2.0 project under $TMPDIR, then runs
    // `dotnet nuget push` from the current folder. Both read this NuGet.Config (it adds to the machine's sources):
    // plain-HTTP sources need allowInsecureConnections for a push, and the V2 feed root is a real feed, so restoring
    // the throw-away project still works with it as a source.
    await writeFile(
      join(psDir, 'NuGet.Config'),
      `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="PawketV2" value="${xmlAttr(v2Url)}" allowInsecureConnections="true" />
  </packageSources>
</configuration>
`,
    );
    // That project asks for Microsoft.NETCore.App 2.0.0; the NuGet registry reachable here serves only 2.0.3, and
    // restoring 2.0.3 for a project that wants 2.0.0 fails the pack (NETSDK1061). Pinning 2.0.3 works everywhere.
    await writeFile(
      join(tmp, 'Directory.Build.props'),
      '<Project>\n  <PropertyGroup>\n    <RuntimeFrameworkVersion>2.0.3</RuntimeFrameworkVersion>\n  </PropertyGroup>\n</Project>\n',
    );
    // PowerShell and both module clients keep modules, repositories and settings under the home folder (PSResourceGet
    // ignores XDG_DATA_HOME): a private one keeps the machine's own untouched. `dotnet` (PowerShellGet v2 packs with
    // it) reads the NuGet settings of that home, so the machine's are copied there.
    const home = join(work, 'home');
    const machineNuGetConfig = join(homedir(), '.nuget', 'NuGet', 'NuGet.Config');
    await mkdir(join(home, '.nuget', 'NuGet'), { recursive: true });
    if (existsSync(machineNuGetConfig)) await cp(machineNuGetConfig, join(home, '.nuget', 'NuGet', 'NuGet.Config'));
    env = {
      HOME: home,
      XDG_DATA_HOME: join(home, '.local', 'share'),
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      TMPDIR: tmp,
      POWERSHELL_TELEMETRY_OPTOUT: '1',
      POWERSHELL_UPDATECHECK: 'Off',
      DOTNET_CLI_TELEMETRY_OPTOUT: '1',
      DOTNET_NOLOGO: '1',
      DOTNET_CLI_UI_LANGUAGE: 'en',
      NUGET_API_KEY: '',
    };
  });

  afterAll(async () => {
    await server?.stop();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  /** Runs a script in a fresh `pwsh`; any error stops it with a non-zero exit. */
  function pwsh(script: string): Promise<RunResult> {
    return run(pwshPath, ['-NoProfile', '-NonInteractive', '-Command', `$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue'\n${script}`], {
      cwd: psDir,
      env,
      timeoutMs: STEP_TIMEOUT - 10_000,
    });
  }

  function explain(r: RunResult): string {
    return `${describeRun(r)}\n--- end of the Pawket log ---\n${server?.output().slice(-4000) ?? ''}`;
  }

  /** Runs a command that outputs packages or modules and returns their `name version`, sorted. */
  async function found(script: string): Promise<string[]> {
    const r = await pwsh(`@(${script} | ForEach-Object { "$($_.Name) $($_.Version)" }) | ConvertTo-Json -Compress`);
    expect(r.code, explain(r)).toBe(0);
    const parsed = JSON.parse(r.stdout.trim() || '[]') as string[] | string;
    return (Array.isArray(parsed) ? parsed : [parsed]).sort();
  }

  describe('PSResourceGet on the V3 URL', () => {
    it('registers the repository and publishes a module', { timeout: STEP_TIMEOUT }, async () => {
      const r = await pwsh(`
Register-PSResourceRepository -Name PawketV3 -Uri ${psString(server!.feedUrl)} -Trusted
Publish-PSResource -Path ${psString(modules.demo100)} -Repository PawketV3 -ApiKey key1`);
      expect(r.code, explain(r)).toBe(0);
      const flat = await fetch(`${server!.baseUrl}/v3/flatcontainer/pawketdemo/index.json`);
      expect(await flat.json()).toEqual({ versions: ['1.0.0'] });
    });

    it('finds the module', { timeout: STEP_TIMEOUT }, async () => {
      expect(await found('Find-PSResource -Name PawketDemo -Repository PawketV3')).toEqual(['PawketDemo 1.0.0']);
    });

    it('installs the module, which then imports and runs', { timeout: STEP_TIMEOUT }, async () => {
      const r = await pwsh(`
Install-PSResource -Name PawketDemo -Repository PawketV3 -TrustRepository -Scope CurrentUser
Import-Module PawketDemo
Get-PawketDemoGreeting -Name tests`);
      expect(r.code, explain(r)).toBe(0);
      expect(r.stdout, explain(r)).toContain('Hello, tests, from PawketDemo 1.0.0');
    });
  });

  describe('PowerShellGet v2 on the V2 URL', () => {
    it('registers the repository and publishes a module with Publish-Module', { timeout: STEP_TIMEOUT }, async () => {
      // -PublishLocation: the feed root takes pushes, as on NuGet.Server; without it PowerShellGet pushes to
      // /api/v2/package/, which works too but needs that URL as an allowInsecureConnections source for plain HTTP.
      const r = await pwsh(`
Register-PSRepository -Name PawketV2 -SourceLocation ${psString(v2Url)} -PublishLocation ${psString(v2Url)} -InstallationPolicy Trusted
Publish-Module -Path ${psString(modules.tools100)} -Repository PawketV2 -NuGetApiKey key1`);
      expect(r.code, explain(r)).toBe(0);
      const flat = await fetch(`${server!.baseUrl}/v3/flatcontainer/pawkettools/index.json`);
      expect(await flat.json()).toEqual({ versions: ['1.0.0'] });
    });

    it('refuses Publish-Module with a wrong key', { timeout: STEP_TIMEOUT }, async () => {
      const r = await pwsh(`Publish-Module -Path ${psString(modules.tools110)} -Repository PawketV2 -NuGetApiKey not-a-key`);
      expect(r.code, explain(r)).not.toBe(0);
      expect(r.output, explain(r)).toMatch(/401|api key/i);
    });

    it('finds modules by name, all versions, and by a wildcard (V2 Search)', { timeout: STEP_TIMEOUT }, async () => {
      expect(await found('Find-Module -Name PawketTools -Repository PawketV2')).toEqual(['PawketTools 1.0.0']);
      // published through V3 by PSResourceGet: the same feed
      expect(await found('Find-Module -Name PawketDemo -Repository PawketV2 -AllVersions')).toEqual(['PawketDemo 1.0.0']);
      expect(await found("Find-Module -Name 'PawketT*' -Repository PawketV2")).toEqual(['PawketTools 1.0.0']);
    });

    it('installs with Install-Module, and updates with Update-Module after a newer version is published', { timeout: STEP_TIMEOUT }, async () => {
      const install = await pwsh(`
Install-Module -Name PawketTools -Repository PawketV2 -Scope CurrentUser
Import-Module PawketTools
Get-PawketToolsGreeting -Name tests`);
      expect(install.code, explain(install)).toBe(0);
      expect(install.stdout, explain(install)).toContain('Hello, tests, from PawketTools 1.0.0');

      const publish = await pwsh(`Publish-Module -Path ${psString(modules.tools110)} -Repository PawketV2 -NuGetApiKey key1`);
      expect(publish.code, explain(publish)).toBe(0);

      const update = await pwsh(`
Update-Module -Name PawketTools
Import-Module PawketTools -RequiredVersion 1.1.0
Get-PawketToolsGreeting -Name tests`);
      expect(update.code, explain(update)).toBe(0);
      expect(update.stdout, explain(update)).toContain('Hello, tests, from PawketTools 1.1.0');
      expect(await found('Get-InstalledModule -Name PawketTools -AllVersions')).toEqual(['PawketTools 1.0.0', 'PawketTools 1.1.0']);
    });
  });
});
