import type { FastifyInstance } from 'fastify';
import { baseUrl } from '../base-url.js';
import { feedPathOf } from '../feed-router.js';
import { CachedDocument, REVALIDATE, sendDocument } from '../response-cache.js';
import { routes } from '../routes.js';
import { readmeUriTemplate } from './embedded-files.js';

/** Every resource type and version string the clients look for; a client that misses one silently does less. */
function serviceIndex(base: string, underFeedPath: boolean, signs: boolean) {
  const r = (path: string, types: string[], comment: string, extra: Record<string, string> = {}) =>
    types.map((type) => ({ '@id': base + path, '@type': type, comment, ...extra }));
  const reg = routes.registration;
  return {
    version: '3.0.0',
    resources: [
      ...r(underFeedPath ? routes.feedPublish : routes.publish, ['PackagePublish/2.0.0'], 'Push, delete (unlist) and relist packages.'),
      ...r(underFeedPath ? routes.feedSymbolPublish : routes.symbolPublish, ['SymbolPackagePublish/4.9.0'], `Push symbols packages (.snupkg); debuggers fetch PDBs from ${base}${routes.symbolServer}.`),
      ...r(routes.staging, ['PackageStaging/1.0.0'], 'Stage packages and symbols, in groups, for a person to promote; invisible until then.'),
      ...r(routes.flatContainer, ['PackageBaseAddress/3.0.0'], "Package versions, .nupkg and .nuspec files, and each version's own icon and readme."),
      ...r(reg.plain.path, ['RegistrationsBaseUrl', 'RegistrationsBaseUrl/3.0.0-beta', 'RegistrationsBaseUrl/3.0.0-rc'], 'Package metadata, SemVer 2.0.0 packages hidden.'),
      ...r(reg.gzip.path, ['RegistrationsBaseUrl/3.4.0'], 'Package metadata (gzip), SemVer 2.0.0 packages hidden.'),
      ...r(reg.semVer2.path, ['RegistrationsBaseUrl/3.6.0', 'RegistrationsBaseUrl/Versioned'], 'Package metadata (gzip), SemVer 2.0.0 packages included.', { clientVersion: '4.3.0' }),
      ...r(routes.search, ['SearchQueryService', 'SearchQueryService/3.0.0-beta', 'SearchQueryService/3.0.0-rc', 'SearchQueryService/3.5.0'], 'Search packages by id, title, tags, description, authors and owners.'),
      ...r(routes.autocomplete, ['SearchAutocompleteService', 'SearchAutocompleteService/3.0.0-beta', 'SearchAutocompleteService/3.0.0-rc', 'SearchAutocompleteService/3.5.0'], 'Complete package ids and list the versions of one.'),
      ...r(`${routes.vulnerabilities}index.json`, ['VulnerabilityInfo/6.7.0'], 'Known vulnerabilities of packages on this feed.'),
      ...r('/packages/{id}/{version}', ['PackageDetailsUriTemplate/5.1.0'], 'The web page of a package version.'),
      // Visual Studio (NuGet 6.13+) shows a version's readme from here; versions without one answer 404.
      ...r(readmeUriTemplate(routes.flatContainer), ['ReadmeUriTemplate/6.13.0'], 'The readme file of a package version.'),
      // nuget.exe 6.x refuses a RepositorySignatures resource served over plain HTTP and then refuses to install.
      ...(base.startsWith('https:')
        ? r(
            routes.repositorySignatures,
            ['RepositorySignatures/4.7.0', 'RepositorySignatures/4.9.0', 'RepositorySignatures/5.0.0'],
            signs ? 'The certificates this feed repository-signs packages with.' : 'This feed does not sign packages.',
          )
        : []),
    ],
    '@context': { '@vocab': 'http://schema.nuget.org/services#', comment: 'http://www.w3.org/2000/01/rdf-schema#comment' },
  };
}

export function serviceIndexRoutes(app: FastifyInstance, configuredBase: string | undefined, signs = false): void {
  const byBase = new Map<string, CachedDocument>();
  // Anonymous even on a private feed: clients read it before they send credentials.
  app.get(routes.serviceIndex, { config: { access: 'anonymous' } }, (request, reply) => {
    const base = baseUrl(request, configuredBase);
    let doc = byBase.get(base);
    if (!doc) {
      doc = new CachedDocument(Buffer.from(JSON.stringify(serviceIndex(base, feedPathOf(request.raw) !== '', signs))));
      if (byBase.size < 16) byBase.set(base, doc);
    }
    return sendDocument(request, reply, doc, REVALIDATE);
  });
}
