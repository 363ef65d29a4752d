/**
 * The properties of a V2 package entry (`V2FeedPackage`, as nuget.org and NuGet.Server name them): one table drives
 * the Atom entries, `$metadata`, `$filter`, `$orderby` and `$select`, so they cannot disagree.
 */
import type { V2Package } from '../../feed/v2-catalog.js';
import { normalizeRange, parseRange } from '../../nuget/range.js';
import { iconUrlOf } from '../v3/embedded-files.js';
import type { ODataValue } from './odata-query.js';

/** What an entry's properties need of the request: the flat container's absolute URL, where embedded icons are. */
export interface EntryUrls {
  readonly flatContainer: string;
}

export type EdmType = 'Edm.String' | 'Edm.Boolean' | 'Edm.Int32' | 'Edm.Int64' | 'Edm.DateTime';

export interface PropertyDef {
  readonly name: string;
  readonly type: EdmType;
  readonly nullable: boolean;
  /** Where WCF Data Services clients find it in the Atom entry besides `m:properties` (feed customization). */
  readonly atom?: 'SyndicationTitle' | 'SyndicationSummary' | 'SyndicationAuthorName' | 'SyndicationUpdated';
  /** Without `urls` (`$filter`, `$orderby`), URLs the feed makes are left out: IconUrl is then the nuspec's. */
  readonly value: (p: V2Package, urls?: EntryUrls) => ODataValue;
}

/** nuget.org marks unlisted versions with this publish date; V2 clients read it as "unlisted". */
export const UNLISTED_PUBLISHED = new Date('1900-01-01T00:00:00Z');

const text = (s: string | null | undefined): string | null => (s === null || s === undefined || s === '' ? null : s);

/**
 * Dependencies as V2 writes them: `id:range:framework` joined by `|`; a framework group without dependencies is
 * `::framework`. Ranges in NuGet's normalized interval notation, `` for "any version".
 *
 * @example dependenciesText(groups) // 'Newtonsoft.Json:[13.0.1, ):net8.0|::netstandard2.0'
 */
export function dependenciesText(p: V2Package): string {
  const parts: string[] = [];
  for (const group of p.view.metadata.dependencyGroups) {
    const framework = group.targetFramework ?? '';
    if (group.dependencies.length === 0) {
      if (framework) parts.push(`::${framework}`);
      continue;
    }
    for (const d of group.dependencies) {
      const range = d.range === null ? null : parseRange(d.range);
      parts.push(`${d.id}:${range ? normalizeRange(range) : ''}:${framework}`);
    }
  }
  return parts.join('|');
}

function licenseUrl(p: V2Package): string | null {
  const license = p.view.metadata.license;
  if (license?.type === 'expression') return `https://licenses.nuget.org/${encodeURIComponent(license.value)}`;
  return text(p.view.metadata.licenseUrl);
}

const published = (p: V2Package): Date => (p.view.record.listed ? new Date(p.view.record.published) : UNLISTED_PUBLISHED);
const created = (p: V2Package): Date => new Date(p.view.record.published);

/** In the order nuget.org's `$metadata` lists them. */
export const PROPERTIES: readonly PropertyDef[] = [
  { name: 'Id', type: 'Edm.String', nullable: false, atom: 'SyndicationTitle', value: (p) => p.view.record.id },
  { name: 'Version', type: 'Edm.String', nullable: false, value: (p) => p.view.record.fullVersion },
  { name: 'NormalizedVersion', type: 'Edm.String', nullable: true, value: (p) => p.view.record.version },
  { name: 'Authors', type: 'Edm.String', nullable: true, atom: 'SyndicationAuthorName', value: (p) => p.view.metadata.authors },
  { name: 'Copyright', type: 'Edm.String', nullable: true, value: (p) => text(p.view.metadata.copyright) },
  { name: 'Created', type: 'Edm.DateTime', nullable: false, value: created },
  { name: 'Dependencies', type: 'Edm.String', nullable: true, value: dependenciesText },
  { name: 'Description', type: 'Edm.String', nullable: true, value: (p) => p.view.metadata.description },
  { name: 'DownloadCount', type: 'Edm.Int32', nullable: false, value: (p) => p.totalDownloads },
  { name: 'GalleryDetailsUrl', type: 'Edm.String', nullable: true, value: () => null },
  {
    name: 'IconUrl',
    type: 'Edm.String',
    nullable: true,
    value: (p, urls) => (urls ? iconUrlOf(urls.flatContainer, p.view.record, p.view.metadata) : text(p.view.metadata.iconUrl)),
  },
  { name: 'IsLatestVersion', type: 'Edm.Boolean', nullable: false, value: (p) => p.isLatestVersion },
  { name: 'IsAbsoluteLatestVersion', type: 'Edm.Boolean', nullable: false, value: (p) => p.isAbsoluteLatestVersion },
  { name: 'IsPrerelease', type: 'Edm.Boolean', nullable: false, value: (p) => p.view.record.isPrerelease },
  { name: 'Language', type: 'Edm.String', nullable: true, value: (p) => text(p.view.metadata.language) },
  { name: 'LastUpdated', type: 'Edm.DateTime', nullable: false, atom: 'SyndicationUpdated', value: created },
  { name: 'Published', type: 'Edm.DateTime', nullable: false, value: published },
  { name: 'PackageHash', type: 'Edm.String', nullable: true, value: (p) => p.view.record.sha512 },
  { name: 'PackageHashAlgorithm', type: 'Edm.String', nullable: true, value: () => 'SHA512' },
  { name: 'PackageSize', type: 'Edm.Int64', nullable: false, value: (p) => p.view.record.size },
  { name: 'ProjectUrl', type: 'Edm.String', nullable: true, value: (p) => text(p.view.metadata.projectUrl) },
  { name: 'ReportAbuseUrl', type: 'Edm.String', nullable: true, value: () => null },
  { name: 'ReleaseNotes', type: 'Edm.String', nullable: true, value: (p) => text(p.view.metadata.releaseNotes) },
  { name: 'RequireLicenseAcceptance', type: 'Edm.Boolean', nullable: false, value: (p) => p.view.metadata.requireLicenseAcceptance },
  { name: 'Summary', type: 'Edm.String', nullable: true, atom: 'SyndicationSummary', value: (p) => text(p.view.metadata.summary) },
  // Space-separated and padded, as nuget.org writes them: clients search with substringof(' tag ', tolower(Tags)).
  { name: 'Tags', type: 'Edm.String', nullable: true, value: (p) => (p.view.metadata.tags.length ? ` ${p.view.metadata.tags.join(' ')} ` : null) },
  { name: 'Title', type: 'Edm.String', nullable: true, value: (p) => text(p.view.metadata.title) },
  { name: 'VersionDownloadCount', type: 'Edm.Int32', nullable: false, value: (p) => p.versionDownloads },
  { name: 'MinClientVersion', type: 'Edm.String', nullable: true, value: (p) => text(p.view.metadata.minClientVersion) },
  { name: 'LastEdited', type: 'Edm.DateTime', nullable: true, value: () => null },
  { name: 'LicenseUrl', type: 'Edm.String', nullable: true, value: licenseUrl },
  {
    name: 'LicenseNames',
    type: 'Edm.String',
    nullable: true,
    value: (p) => (p.view.metadata.license?.type === 'expression' ? p.view.metadata.license.value : null),
  },
  { name: 'LicenseReportUrl', type: 'Edm.String', nullable: true, value: () => null },
  { name: 'Listed', type: 'Edm.Boolean', nullable: false, value: (p) => p.view.record.listed },
  { name: 'DevelopmentDependency', type: 'Edm.Boolean', nullable: false, value: (p) => p.view.metadata.developmentDependency },
];

const BY_NAME = new Map(PROPERTIES.map((d) => [d.name.toLowerCase(), d]));

/** A property by name, case-insensitively (clients vary: `id`, `Id`); undefined when there is none. */
export function propertyNamed(name: string): PropertyDef | undefined {
  return BY_NAME.get(name.toLowerCase());
}
