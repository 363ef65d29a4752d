import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (this file is test/e2e/support/paths.ts). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Where scripts/install-test-deps.sh puts nuget.exe (keep the version in step with that script). */
export const NUGET_EXE_VERSION = '6.13.1';
export const nugetExePath = join(repoRoot, '.tools', 'nuget', NUGET_EXE_VERSION, 'NuGet.exe');

/** .NET tools scripts/install-test-deps.sh installs into .tools/ (keep the versions in step with that script). */
export const PWSH_VERSION = '7.6.9';
export const pwshPath = join(repoRoot, '.tools', 'pwsh', 'pwsh');
export const PAKET_VERSION = '12.0.0';
export const paketPath = join(repoRoot, '.tools', 'paket', 'paket');
export const OUTDATED_VERSION = '4.8.1';
export const outdatedPath = join(repoRoot, '.tools', 'dotnet-outdated', 'dotnet-outdated');
