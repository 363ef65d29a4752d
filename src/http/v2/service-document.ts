/**
 * The V2 feed's root (the OData service document) and `$metadata` (the EDMX schema). Clients read `$metadata` to learn
 * what the feed can do: NuGet.Client uses `Search()` only when a `Search` function is declared there and asks for
 * `IsAbsoluteLatestVersion` only when the package type has that property. Both documents are anonymous even on a
 * private feed: clients fetch them before they send credentials.
 */
import { PROPERTIES } from './properties.js';
import { document, el, seq } from './xml.js';

const EDM = 'http://schemas.microsoft.com/ado/2006/04/edm';
const EDMX = 'http://schemas.microsoft.com/ado/2007/06/edmx';
const M = 'http://schemas.microsoft.com/ado/2007/08/dataservices/metadata';
const D = 'http://schemas.microsoft.com/ado/2007/08/dataservices';

/** The service document at the feed root: one collection, `Packages`. */
export function serviceDocument(root: string): string {
  return document(
    el(
      'service',
      { 'xml:base': root, xmlns: 'http://www.w3.org/2007/app', 'xmlns:atom': 'http://www.w3.org/2005/Atom' },
      el('workspace', {}, el('atom:title', {}, 'Default'), el('collection', { href: 'Packages' }, el('atom:title', {}, 'Packages'))),
    ),
  );
}

const stringParam = (name: string) => el('Parameter', { Name: name, Type: 'Edm.String', FixedLength: 'false', Unicode: 'false' });
const boolParam = (name: string) => el('Parameter', { Name: name, Type: 'Edm.Boolean', Nullable: 'false' });

function functionImport(name: string, ...parameters: ReturnType<typeof el>[]) {
  return el(
    'FunctionImport',
    { Name: name, EntitySet: 'Packages', ReturnType: 'Collection(NuGetGallery.V2FeedPackage)', 'm:HttpMethod': 'GET' },
    ...parameters,
  );
}

/** The EDMX schema: the package entity with every property the feed writes, and the functions it answers. */
export function metadataDocument(): string {
  const properties = PROPERTIES.map((p) =>
    el('Property', {
      Name: p.name,
      Type: p.type,
      Nullable: p.nullable ? 'true' : 'false',
      ...(p.atom ? { 'm:FC_TargetPath': p.atom, 'm:FC_ContentKind': 'text', 'm:FC_KeepInContent': 'true' } : {}),
    }),
  );
  return document(
    el(
      'edmx:Edmx',
      { Version: '1.0', 'xmlns:edmx': EDMX },
      el(
        'edmx:DataServices',
        { 'xmlns:m': M, 'm:DataServiceVersion': '2.0', 'm:MaxDataServiceVersion': '2.0' },
        el(
          'Schema',
          { Namespace: 'NuGetGallery', xmlns: EDM, 'xmlns:d': D, 'xmlns:m': M },
          el(
            'EntityType',
            { Name: 'V2FeedPackage', 'm:HasStream': 'true' },
            el('Key', {}, el('PropertyRef', { Name: 'Id' }), el('PropertyRef', { Name: 'Version' })),
            seq(properties),
          ),
          el(
            'EntityContainer',
            { Name: 'V2FeedContext', 'm:IsDefaultEntityContainer': 'true' },
            el('EntitySet', { Name: 'Packages', EntityType: 'NuGetGallery.V2FeedPackage' }),
            functionImport('Search', stringParam('searchTerm'), stringParam('targetFramework'), boolParam('includePrerelease')),
            functionImport('FindPackagesById', stringParam('id')),
            functionImport(
              'GetUpdates',
              stringParam('packageIds'),
              stringParam('versions'),
              boolParam('includePrerelease'),
              boolParam('includeAllVersions'),
              stringParam('targetFrameworks'),
              stringParam('versionConstraints'),
            ),
          ),
        ),
      ),
    ),
  );
}
