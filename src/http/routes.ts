/** URL layout of the feed, in one place so documents and routes agree. */
export const routes = {
  serviceIndex: '/v3/index.json',
  publish: '/api/v2/package',
  /**
   * Push and symbols push of a feed under `/f/{name}/` as its service index lists them: under the service index's own
   * folder, where NuGet 6.7+ sends a source's credentials up front. Every feed's app answers them; the default feed's
   * service index keeps listing the paths above, which its clients already use.
   */
  feedPublish: '/v3/package',
  feedSymbolPublish: '/v3/symbolpackage',
  /** PackageStaging/1.0.0 (docs/STAGING.md): `{this}/package`, `{this}/symbols`, `{this}/groups`. */
  staging: '/v3/staging',
  /** The V2 (OData) feed root: service document, `$metadata`, Packages, FindPackagesById(), Search(), GetUpdates(). */
  v2: '/api/v2/',
  /** Trusted publishing's token exchange (docs/TRUSTED-PUBLISHING.md), at nuget.org's path. */
  tokenExchange: '/api/v2/token',
  /** SymbolPackagePublish: push of symbols packages (.snupkg), nuget.org's path; GET `{this}/{id}/{version}` downloads one. */
  symbolPublish: '/api/v2/symbolpackage',
  /** The symbol server (Simple Symbol Query Protocol): `{this}{file}/{key}/{file}`, as on nuget.org and msdl. */
  symbolServer: '/download/symbols/',
  flatContainer: '/v3/flatcontainer/',
  vulnerabilities: '/v3/vulnerabilities/',
  /** Deprecations and vulnerability advisories: `{this}{id}/advisories`, `…/deprecation`, `…/vulnerabilities` (JSON). */
  packageApi: '/api/packages/',
  repositorySignatures: '/v3/repository-signatures/index.json',
  /** The repository certificates the feed lists: `{this}{sha256 lower-case hex}.crt` (DER). */
  repositoryCertificates: '/v3/repository-signatures/certificates/',
  search: '/v3/search',
  autocomplete: '/v3/autocomplete',
  /** Registration hives: the plain ones hide SemVer 2.0.0 packages from clients that cannot handle them. */
  registration: {
    plain: { path: '/v3/registration/', semVer2: false },
    gzip: { path: '/v3/registration-gz/', semVer2: false },
    semVer2: { path: '/v3/registration-gz-semver2/', semVer2: true },
  },
} as const;

export type RegistrationHive = (typeof routes.registration)[keyof typeof routes.registration];

/**
 * Keys of rendered documents in the response cache; the routes and the restore fast path must agree on them. No base
 * URL in them: one rendering serves every host name (see DocumentTemplate).
 */
export const cacheKeys = {
  flatVersions: (lowerId: string) => `flat|${lowerId}`,
  registration: (hivePath: string, lowerId: string, suffix: string) => `${hivePath}|${lowerId}|${suffix}`,
};
