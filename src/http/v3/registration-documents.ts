import { lowerId } from '../../nuget/id.js';
import { normalizeRange, parseRange } from '../../nuget/range.js';
import type { VersionAdvisories } from '../../feed/advisories.js';
import type { SortedVersion } from '../../feed/package-reader.js';
import type { DependencyGroup } from '../../package/metadata.js';
import { iconUrlOf, readmeUrlOf } from './embedded-files.js';
import { signatureExtension, storedSignature } from '../../signing/signature-display.js';

/** nuget.org's page size and inlining threshold: ids with more versions get linked pages. */
export const PAGE_SIZE = 64;
export const MAX_INLINED_VERSIONS = 128;
/** nuget.org marks unlisted versions with this publish date; older clients read it instead of `listed`. */
const UNLISTED_PUBLISHED = '1900-01-01T00:00:00+00:00';

/** Absolute URLs of one registration hive and of the flat container, for one request's base URL. */
export interface RegistrationUrls {
  readonly hive: string;
  readonly flatContainer: string;
}

const indexUrl = (u: RegistrationUrls, lid: string) => `${u.hive}${lid}/index.json`;
const leafUrl = (u: RegistrationUrls, v: SortedVersion) => `${u.hive}${v.record.lowerId}/${v.record.lowerVersion}.json`;
const pageUrl = (u: RegistrationUrls, lid: string, page: SortedVersion[]) =>
  `${u.hive}${lid}/page/${page[0]!.record.lowerVersion}/${page.at(-1)!.record.lowerVersion}.json`;
export const packageContentUrl = (flatContainer: string, v: { lowerId: string; lowerVersion: string }) =>
  `${flatContainer}${v.lowerId}/${v.lowerVersion}/${v.lowerId}.${v.lowerVersion}.nupkg`;

const published = (v: SortedVersion) => (v.record.listed ? v.record.published : UNLISTED_PUBLISHED);

/** A dependency range as clients expect it in registration: normalized interval notation, `(, )` for "any". */
function rangeText(range: string | null): string {
  const parsed = range === null ? null : parseRange(range);
  return parsed ? normalizeRange(parsed) : '(, )';
}

function dependencyGroups(u: RegistrationUrls, leaf: string, groups: readonly DependencyGroup[]) {
  return groups.map((g) => ({
    '@id': `${leaf}#dependencygroup/${g.targetFramework ?? 'any'}`,
    '@type': 'PackageDependencyGroup',
    ...(g.targetFramework ? { targetFramework: g.targetFramework } : {}),
    dependencies: g.dependencies.map((d) => ({
      '@id': `${leaf}#dependencygroup/${g.targetFramework ?? 'any'}/${lowerId(d.id)}`,
      '@type': 'PackageDependency',
      id: d.id,
      range: rangeText(d.range),
      registration: indexUrl(u, lowerId(d.id)),
    })),
  }));
}

function licenseUrl(v: SortedVersion): string {
  const m = v.metadata;
  if (m.license?.type === 'expression') return `https://licenses.nuget.org/${encodeURIComponent(m.license.value)}`;
  return m.licenseUrl ?? '';
}

/** A version as registration shows it: with its deprecation and advisories, when the route looked them up. */
export type RegistrationVersion = SortedVersion & { readonly advisories?: VersionAdvisories };

/** nuget.org's shape of `deprecation` and `vulnerabilities`: what `dotnet list package --deprecated/--vulnerable` read. */
function advisoryProperties(leaf: string, a: VersionAdvisories | undefined) {
  const d = a?.deprecation;
  return {
    ...(d
      ? {
          deprecation: {
            '@id': `${leaf}#deprecation`,
            reasons: d.reasons,
            ...(d.message ? { message: d.message } : {}),
            ...(d.alternate
              ? { alternatePackage: { '@id': `${leaf}#deprecation/alternatePackage`, id: d.alternate.id, range: d.alternate.range ?? '*' } }
              : {}),
          },
        }
      : {}),
    ...(a?.vulnerabilities.length
      ? {
          vulnerabilities: a.vulnerabilities.map((x, i) => ({
            '@id': `${leaf}#vulnerability/${i}`,
            '@type': 'Vulnerability',
            advisoryUrl: x.url,
            severity: String(x.severity),
          })),
        }
      : {}),
  };
}

/** The catalog entry: the package's metadata as Visual Studio's details pane and the CLI read it. */
export function catalogEntry(u: RegistrationUrls, v: RegistrationVersion) {
  const m = v.metadata;
  const leaf = leafUrl(u, v);
  return {
    '@id': leaf,
    '@type': 'PackageDetails',
    authors: m.authors,
    dependencyGroups: dependencyGroups(u, leaf, m.dependencyGroups),
    description: m.description,
    iconUrl: iconUrlOf(u.flatContainer, v.record, m) ?? '',
    id: v.record.id,
    language: m.language ?? '',
    licenseExpression: m.license?.type === 'expression' ? m.license.value : '',
    licenseUrl: licenseUrl(v),
    listed: v.record.listed,
    minClientVersion: m.minClientVersion ?? '',
    packageContent: packageContentUrl(u.flatContainer, v.record),
    projectUrl: m.projectUrl ?? '',
    published: published(v),
    requireLicenseAcceptance: m.requireLicenseAcceptance,
    summary: m.summary ?? '',
    tags: m.tags,
    title: m.title ?? '',
    version: v.record.fullVersion,
    packageHash: v.record.sha512,
    packageHashAlgorithm: 'SHA512',
    packageSize: v.record.size,
    // NuGet's client reads it as the version's ReadmeUrl (its readme file, as the service index's ReadmeUriTemplate).
    ...(m.readme ? { readmeUrl: readmeUrlOf(u.flatContainer, v.record, m) } : {}),
    ...(m.releaseNotes ? { releaseNotes: m.releaseNotes } : {}),
    ...(m.copyright ? { copyright: m.copyright } : {}),
    ...(m.repository?.url ? { repository: m.repository.url } : {}),
    isPrerelease: v.record.isPrerelease,
    ...advisoryProperties(leaf, v.advisories),
    // Pawket's extension (clients ignore unknown properties): the upstream a mirrored or upstream-only version comes from.
    ...(v.record.mirroredFrom ? { mirroredFrom: v.record.mirroredFrom } : {}),
    // Pawket's extension: who signed (author, repository), by subject and SHA-256 fingerprint.
    ...signed(m),
  };
}

function signed(m: object): { signature?: ReturnType<typeof signatureExtension> } {
  const signature = signatureExtension(storedSignature(m));
  return signature ? { signature } : {};
}

function leafItem(u: RegistrationUrls, v: SortedVersion) {
  return {
    '@id': leafUrl(u, v),
    '@type': 'Package',
    commitId: v.record.sha512,
    commitTimeStamp: v.record.published,
    catalogEntry: catalogEntry(u, v),
    packageContent: packageContentUrl(u.flatContainer, v.record),
    registration: indexUrl(u, v.record.lowerId),
  };
}

function page(u: RegistrationUrls, lid: string, versions: SortedVersion[], inline: boolean) {
  return {
    '@id': pageUrl(u, lid, versions),
    '@type': 'catalog:CatalogPage',
    commitId: versions.at(-1)!.record.sha512,
    commitTimeStamp: versions.at(-1)!.record.published,
    count: versions.length,
    ...(inline ? { items: versions.map((v) => leafItem(u, v)) } : {}),
    parent: indexUrl(u, lid),
    lower: versions[0]!.record.fullVersion,
    upper: versions.at(-1)!.record.fullVersion,
  };
}

const context = {
  '@vocab': 'http://schema.nuget.org/schema#',
  catalog: 'http://schema.nuget.org/catalog#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  items: { '@id': 'catalog:item', '@container': '@set' },
  commitTimeStamp: { '@id': 'catalog:commitTimeStamp', '@type': 'xsd:dateTime' },
  commitId: { '@id': 'catalog:commitId' },
  count: { '@id': 'catalog:count' },
  parent: { '@id': 'catalog:parent', '@type': '@id' },
  tags: { '@id': 'tag', '@container': '@set' },
  packageTargetFrameworks: { '@id': 'packageTargetFramework', '@container': '@set' },
  dependencyGroups: { '@id': 'dependencyGroup', '@container': '@set' },
  dependencies: { '@id': 'dependency', '@container': '@set' },
  packageContent: { '@type': '@id' },
  published: { '@type': 'xsd:dateTime' },
  registration: { '@type': '@id' },
};

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The registration index: pages inlined for small ids, linked for large ones (as nuget.org does). */
export function registrationIndex(u: RegistrationUrls, lid: string, versions: SortedVersion[]) {
  const inline = versions.length <= MAX_INLINED_VERSIONS;
  const pages = chunk(versions, PAGE_SIZE);
  return {
    '@id': indexUrl(u, lid),
    '@type': ['catalog:CatalogRoot', 'PackageRegistration', 'catalog:Permalink'],
    commitId: versions.at(-1)!.record.sha512,
    commitTimeStamp: versions.reduce((t, v) => (v.record.published > t ? v.record.published : t), ''),
    count: pages.length,
    items: pages.map((p) => page(u, lid, p, inline)),
    '@context': context,
  };
}

/** A linked page, or null when no page of this id has these bounds. */
export function registrationPage(u: RegistrationUrls, lid: string, versions: SortedVersion[], lower: string, upper: string) {
  const found = chunk(versions, PAGE_SIZE).find(
    (p) => p[0]!.record.lowerVersion === lower && p.at(-1)!.record.lowerVersion === upper,
  );
  return found ? { ...page(u, lid, found, true), '@context': context } : null;
}

/** The registration leaf of one version. */
export function registrationLeaf(u: RegistrationUrls, v: SortedVersion) {
  return {
    '@id': leafUrl(u, v),
    '@type': ['Package', 'http://schema.nuget.org/catalog#Permalink'],
    catalogEntry: leafUrl(u, v),
    listed: v.record.listed,
    packageContent: packageContentUrl(u.flatContainer, v.record),
    published: published(v),
    registration: indexUrl(u, v.record.lowerId),
    ...(v.record.mirroredFrom ? { mirroredFrom: v.record.mirroredFrom } : {}),
    '@context': {
      '@vocab': 'http://schema.nuget.org/schema#',
      xsd: 'http://www.w3.org/2001/XMLSchema#',
      catalogEntry: { '@type': '@id' },
      registration: { '@type': '@id' },
      packageContent: { '@type': '@id' },
      published: { '@type': 'xsd:dateTime' },
    },
  };
}
