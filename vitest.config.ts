import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files whose outcome does not depend on the database and blob store: pure NuGet rules and package reading, and what
 * each client (PowerShell, nuget.exe, Paket, dotnet-outdated, a browser) sends and reads, which is the same whatever
 * stores the rows. The PostgreSQL+S3 pass (`PAWKET_TEST_BACKEND=postgres-s3`) runs every other file; these run once, in
 * the SQLite pass. What the stores do is covered on both backends by the unit tests and test/e2e/dotnet.test.ts.
 */
export const BACKEND_INDEPENDENT = [
  'test/unit/nuget/**',
  'test/unit/package/**',
  'test/unit/signing/verify.test.ts',
  'test/e2e/signatures.test.ts',
  'test/e2e/signature-differential.test.ts',
  'test/unit/db/statement-cache.test.ts',
  'test/unit/blobs/filesystem-open.test.ts',
  'test/security/nuspec-characters.test.ts',
  'test/security/package-reader.test.ts',
  'test/security/host-header.test.ts',
  'test/e2e/powershell.test.ts',
  'test/e2e/nuget-exe.test.ts',
  'test/e2e/nuget-exe-v2.test.ts',
  'test/e2e/paket.test.ts',
  'test/e2e/outdated.test.ts',
  'test/e2e/ui.test.ts',
  'test/e2e/sign-in-browser.test.ts',
  'test/e2e/advisories.test.ts',
  'test/e2e/private-feed.test.ts',
  'test/e2e/v2-autocomplete.test.ts',
  'test/unit/http/read-base-url.test.ts',
  // Runs its own S3 server (the bucket dotnet reads from) and SQLite, whatever the pass.
  'test/e2e/object-storage.test.ts',
  'test/unit/signing/signer-policy-match.test.ts',
  'test/unit/ui/signer-pages.test.ts',
  'test/e2e/signer-policies.test.ts',
  // Signatures are bytes and dotnet's verdicts on them; the rows they leave are covered on both backends by
  // test/unit/signing/repository-rows.test.ts.
  'test/unit/signing/repository-signer.test.ts',
  'test/e2e/repository-signing.test.ts',
  'test/unit/feed/download-log.test.ts',
  'test/unit/cli/nginx-config.test.ts',
  // What these drive (a CLI, a browser, a token exchange, a killed process) is the same on either backend; the rows and
  // files behind them are covered on both by test/unit/feeds, test/unit/staging, test/unit/trust, test/unit/people and
  // test/unit/materialize.
  'test/e2e/feeds-cli.test.ts',
  'test/e2e/orgs-cli.test.ts',
  'test/e2e/staging-preview.test.ts',
  'test/e2e/staging-flow.test.ts',
  'test/e2e/trusted-publishing.test.ts',
  'test/e2e/materialize-crash.test.ts',
];

const secondBackend = process.env.PAWKET_TEST_BACKEND === 'postgres-s3';
if (secondBackend) {
  process.stderr.write(`\nThe ${BACKEND_INDEPENDENT.length} backend-independent test groups (vitest.config.ts) ran in the SQLite pass and are left out here.\n\n`);
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: secondBackend ? [...configDefaults.exclude, ...BACKEND_INDEPENDENT] : configDefaults.exclude,
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 600_000,
    // e2e suites start real servers and real clients; keep them from starving each other on small CI machines
    maxWorkers: 2,
  },
});
