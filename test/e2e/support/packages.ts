import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './dotnet.js';
import { repoRoot } from './paths.js';

/** The test projects in test/fixtures/projects. */
export const fixtureProjectsDir = join(repoRoot, 'test', 'fixtures', 'projects');

export const CORE_ID = 'Pawket.E2e.Core';
export const WIDGETS_ID = 'Pawket.E2e.Widgets';

/** The `.nupkg` files `packTestPackages` made. */
export interface TestPackages {
  /** Pawket.E2e.Core 1.0.0, net10.0 + netstandard2.0. */
  readonly core100: string;
  /** Pawket.E2e.Core 1.0.1, same build. */
  readonly core101: string;
  /** Pawket.E2e.Core 1.1.0-beta.2, same build. */
  readonly core110beta2: string;
  /** Pawket.E2e.Widgets 2.0.0-rc.1+build.5, depends on Pawket.E2e.Core >= 1.0.0 ('' when packed with coreOnly). */
  readonly widgets: string;
  /** Where the test projects were copied (Consumer/ is there too). */
  readonly projectsDir: string;
}

/** Copies test/fixtures/projects into `workDir/projects` so builds never write into the repository. */
export async function copyFixtureProjects(workDir: string): Promise<string> {
  const projectsDir = join(workDir, 'projects');
  await cp(fixtureProjectsDir, projectsDir, { recursive: true });
  return projectsDir;
}

/**
 * Packs the test libraries with the real `dotnet pack`: Core is built once and packed as three versions, Widgets once.
 * Packing uses the machine's normal package sources (netstandard2.0 needs NETStandard.Library from the registry);
 * `env` should still point NuGet's caches at a sandbox.
 */
export async function packTestPackages(
  workDir: string,
  env: Record<string, string>,
  opts: { readonly coreOnly?: boolean } = {},
): Promise<TestPackages> {
  const projectsDir = await copyFixtureProjects(workDir);
  const out = join(workDir, 'nupkgs');
  const core = join(projectsDir, 'Core', 'Core.csproj');
  const widgets = join(projectsDir, 'Widgets', 'Widgets.csproj');
  const common = ['-c', 'Release', '-o', out, '--nologo'];
  await runOk('dotnet', ['pack', core, ...common], { env, timeoutMs: 5 * 60_000 });
  for (const version of ['1.0.1', '1.1.0-beta.2']) {
    await runOk('dotnet', ['pack', core, ...common, '--no-build', '--no-restore', `-p:Version=${version}`], {
      env,
      timeoutMs: 5 * 60_000,
    });
  }
  if (!opts.coreOnly) await runOk('dotnet', ['pack', widgets, ...common], { env, timeoutMs: 5 * 60_000 });

  const files = new Set(await readdir(out));
  const pick = (name: string): string => {
    if (!files.has(name)) throw new Error(`dotnet pack did not produce ${name}; ${out} has: ${[...files].join(', ')}`);
    return join(out, name);
  };
  return {
    core100: pick(`${CORE_ID}.1.0.0.nupkg`),
    core101: pick(`${CORE_ID}.1.0.1.nupkg`),
    core110beta2: pick(`${CORE_ID}.1.1.0-beta.2.nupkg`),
    // dotnet pack leaves build metadata out of the file name
    widgets: opts.coreOnly ? '' : pick(`${WIDGETS_ID}.2.0.0-rc.1.nupkg`),
    projectsDir,
  };
}

/** The `.nupkg` and `.snupkg` that `packWithSymbols` made, and the build output they were packed from. */
export interface SymbolTestPackages {
  /** Pawket.E2e.Core 1.0.0 (net10.0 + netstandard2.0). */
  readonly nupkg: string;
  /** Its symbols package, beside it (where `dotnet nuget push` looks for it). */
  readonly snupkg: string;
  /** `bin/Release` of the Core project: `{tfm}/Pawket.E2e.Core.dll` and `.pdb` as built. */
  readonly binDir: string;
  readonly projectsDir: string;
}

/**
 * Packs the Core test library with a symbols package, as a .NET team publishing symbols does:
 * `dotnet pack -p:IncludeSymbols=true -p:SymbolPackageFormat=snupkg`. `env` should point NuGet's caches at a sandbox.
 */
export async function packWithSymbols(workDir: string, env: Record<string, string>): Promise<SymbolTestPackages> {
  const projectsDir = await copyFixtureProjects(workDir);
  const out = join(workDir, 'nupkgs');
  const core = join(projectsDir, 'Core', 'Core.csproj');
  await runOk('dotnet', ['pack', core, '-c', 'Release', '-o', out, '--nologo', '-p:IncludeSymbols=true', '-p:SymbolPackageFormat=snupkg'], {
    env,
    timeoutMs: 5 * 60_000,
  });
  const files = new Set(await readdir(out));
  const pick = (name: string): string => {
    if (!files.has(name)) throw new Error(`dotnet pack did not produce ${name}; ${out} has: ${[...files].join(', ')}`);
    return join(out, name);
  };
  return {
    nupkg: pick(`${CORE_ID}.1.0.0.nupkg`),
    snupkg: pick(`${CORE_ID}.1.0.0.snupkg`),
    binDir: join(projectsDir, 'Core', 'bin', 'Release'),
    projectsDir,
  };
}
