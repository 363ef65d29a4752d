import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (this file is test/e2e/support/paths.ts). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Where scripts/install-test-deps.sh puts nuget.exe (keep the version in step with that script). */
export const NUGET_EXE_VERSION = '6.13.1';
export const nugetExePath = join(repoRoot, '.tools', 'nuget', NUGET_EXE_VERSION, 'NuGet.exe');
