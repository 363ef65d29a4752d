/** URL layout of the feed, in one place so documents and routes agree. */
export const routes = {
  serviceIndex: '/v3/index.json',
  publish: '/api/v2/package',
  flatContainer: '/v3/flatcontainer/',
  vulnerabilities: '/v3/vulnerabilities/',
  repositorySignatures: '/v3/repository-signatures/index.json',
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
