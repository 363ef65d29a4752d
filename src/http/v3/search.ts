import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../../errors.js';
import type { SearchFilter, SearchIndex, SearchRequest, SearchResultPackage } from '../../feed/search/search-index.js';
import type { SearchService } from '../../feed/search/search-service.js';
import { isValidPackageId } from '../../nuget/id.js';
import { compareVersions, parseVersion, versionOf } from '../../nuget/version.js';
import { baseUrl } from '../base-url.js';
import { routes } from '../routes.js';
import { iconUrlOf } from './embedded-files.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The search index and download counter (tests flush counts through it). */
    pawketSearch: SearchService;
  }
}

/** nuget.org's limits: take at most 1,000; skip is bounded only to keep one request's work bounded. */
export const SEARCH_LIMITS = { defaultTake: 20, maxTake: 1000, maxSkip: 1_000_000 } as const;

type Query = Record<string, string | string[] | undefined>;

const SEMVER2 = versionOf('2.0.0');

function param(query: Query, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = query[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) return first;
  }
  return undefined;
}

function wholeNumber(query: Query, name: string, fallback: number, max: number): number {
  const text = param(query, name)?.trim();
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw badRequest(`The ${name} parameter must be a whole number (for example ${name}=${fallback}), not '${text.slice(0, 50)}'.`);
  return Math.min(Number(text), max);
}

/**
 * The filter parameters both resources share. `semVerLevel` opts in to SemVer 2.0.0 packages when it is a version
 * of at least 2.0.0; `packageType` (and `packageTypeFilter`, which NuGet's client library sends) selects by package type.
 */
function readFilter(query: Query): SearchFilter & { invalidPackageType: boolean } {
  const prerelease = (param(query, 'prerelease') ?? '').trim().toLowerCase();
  const level = parseVersion(param(query, 'semVerLevel') ?? '');
  const packageType = (param(query, 'packageType', 'packageTypeFilter') ?? '').trim();
  return {
    prerelease: prerelease === 'true' || prerelease === '1',
    semVer2: level !== null && compareVersions(level, SEMVER2) >= 0,
    packageType: packageType === '' ? null : packageType,
    // Package type names follow the id rules; nuget.org answers an invalid one with no results.
    invalidPackageType: packageType !== '' && !isValidPackageId(packageType),
  };
}

function readRequest(query: Query): SearchRequest & { invalidPackageType: boolean } {
  return {
    query: param(query, 'q') ?? '',
    skip: wholeNumber(query, 'skip', 0, SEARCH_LIMITS.maxSkip),
    take: wholeNumber(query, 'take', SEARCH_LIMITS.defaultTake, SEARCH_LIMITS.maxTake),
    ...readFilter(query),
  };
}

/** Sends JSON, gzipped when the client accepts it and it is worth it. Search answers change with every push. */
function sendJson(request: FastifyRequest, reply: FastifyReply, value: unknown) {
  const body = Buffer.from(JSON.stringify(value));
  reply.type('application/json; charset=utf-8').header('cache-control', 'no-cache').header('vary', 'Accept-Encoding');
  if (body.length > 1024 && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
    return reply.header('content-encoding', 'gzip').send(gzipSync(body, { level: 1 }));
  }
  return reply.send(body);
}

interface Hive {
  readonly registration: string;
  /** Absolute URL of the flat container, where embedded icons are served. */
  readonly flatContainer: string;
  /** Whether an id falls under a reserved prefix of its owner (feed/ownership.ts `isVerifiedId`). */
  readonly isVerified: (lowerId: string) => boolean;
}

/** A search result as the protocol lays it out; registration links point into the hive the filter matches. */
function resultJson(p: SearchResultPackage, hive: Hive) {
  const index = `${hive.registration}${p.lowerId}/index.json`;
  const icon = iconUrlOf(hive.flatContainer, p, { icon: p.embeddedIcon, iconUrl: p.iconUrl });
  return {
    '@id': index,
    '@type': 'Package',
    registration: index,
    id: p.id,
    version: p.version,
    description: p.description,
    summary: p.summary,
    title: p.title,
    ...(icon ? { iconUrl: icon } : {}),
    ...(p.licenseUrl ? { licenseUrl: p.licenseUrl } : {}),
    ...(p.licenseExpression ? { licenseExpression: p.licenseExpression } : {}),
    ...(p.projectUrl ? { projectUrl: p.projectUrl } : {}),
    tags: p.tags,
    authors: p.authors,
    owners: p.owners,
    totalDownloads: p.totalDownloads,
    verified: hive.isVerified(p.lowerId),
    packageTypes: p.packageTypes.map((name) => ({ name })),
    versions: p.versions.map((v) => ({
      version: v.version,
      downloads: v.downloads,
      '@id': `${hive.registration}${p.lowerId}/${v.lowerVersion}.json`,
      ...(v.mirroredFrom ? { mirroredFrom: v.mirroredFrom } : {}),
    })),
    vulnerabilities: [],
    // Pawket's extension (clients ignore unknown properties), as in registration.
    ...(p.mirroredFrom ? { mirroredFrom: p.mirroredFrom } : {}),
  };
}

/**
 * SearchQueryService and SearchAutocompleteService (every version string clients look for; see service-index.ts).
 *
 * @example GET /v3/search?q=json&take=20&prerelease=true&semVerLevel=2.0.0
 * @example GET /v3/autocomplete?q=newt  →  {"totalHits":1,"data":["Newtonsoft.Json"]}
 * @example GET /v3/autocomplete?id=newtonsoft.json&prerelease=true  →  {"totalHits":3,"data":["12.0.3","13.0.1","13.0.4-beta1"]}
 */
export function searchRoutes(
  app: FastifyInstance,
  index: SearchIndex,
  configuredBase: string | undefined,
  isVerified: (lowerId: string) => boolean = () => false,
): void {
  app.get(routes.search, async (request, reply) => {
    const req = readRequest(request.query as Query);
    const base = baseUrl(request, configuredBase);
    const hive = {
      registration: base + (req.semVer2 ? routes.registration.semVer2.path : routes.registration.plain.path),
      flatContainer: base + routes.flatContainer,
      isVerified,
    };
    const results = req.invalidPackageType ? { totalHits: 0, packages: [] } : await index.search(req);
    return sendJson(request, reply, {
      '@context': { '@vocab': 'http://schema.nuget.org/schema#', '@base': hive.registration },
      totalHits: results.totalHits,
      data: results.packages.map((p) => resultJson(p, hive)),
    });
  });

  app.get(routes.autocomplete, async (request, reply) => {
    const query = request.query as Query;
    const id = param(query, 'id');
    const context = { '@vocab': 'http://schema.nuget.org/schema#' };
    if (id !== undefined) {
      const versions = await index.autocompleteVersions(id, readFilter(query));
      return sendJson(request, reply, { '@context': context, totalHits: versions.length, data: versions });
    }
    const req = readRequest(query);
    const results = req.invalidPackageType ? { totalHits: 0, ids: [] } : await index.autocompleteIds(req);
    return sendJson(request, reply, { '@context': context, totalHits: results.totalHits, data: results.ids });
  });
}
