/**
 * The V2 (OData) feed at `/api/v2/`, for the clients that still speak it: nuget.exe and NuGet.Client with a V2 URL,
 * PowerShellGet v2 (PackageManagement's NuGet provider), Paket, Visual Studio before 2015.
 *
 * - `GET /api/v2/` service document, `GET /api/v2/$metadata` schema (service-document.ts);
 * - `Packages`, `Packages()`, `Packages(Id='..',Version='..')`, `FindPackagesById()`, `Search()`, `GetUpdates()`, each
 *   also with `/$count` (feed-queries.ts);
 * - `GET /api/v2/package/{id}/{version}` download (the `<content src>` of every entry);
 * - `GET /api/v2/package-ids`, `GET /api/v2/package-versions/{id}` autocomplete (autocomplete.ts);
 * - push and delete are the routes of publish.ts (`/api/v2/package`, and the feed root for clients that push there).
 *
 * OData paths carry quotes, parentheses and `$`, which clients escape in different ways, so one catch-all route decodes
 * the path itself and dispatches on it.
 */
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.js';
import type { PackageReader } from '../../feed/package-reader.js';
import type { SearchIndex } from '../../feed/search/search-index.js';
import type { V2Catalog, V2Package } from '../../feed/v2-catalog.js';
import { baseUrl } from '../base-url.js';
import { routes } from '../routes.js';
import { IMMUTABLE, REVALIDATE } from '../response-cache.js';
import { sendPackage, type DownloadRecorder } from '../v3/flat-container.js';
import { v2AutocompleteRoutes } from './autocomplete.js';
import { ATOM_ENTRY_TYPE, ATOM_FEED_TYPE, entryDocument, feedDocument, type FeedUrls } from './atom.js';
import {
  findPackagesByIdQuery,
  getUpdatesQuery,
  packageByKey,
  packagesQuery,
  readOptions,
  searchQuery,
  type QueryParams,
  type QueryResult,
  type V2Sources,
} from './feed-queries.js';
import { metadataDocument, serviceDocument } from './service-document.js';

export interface V2RouteDeps {
  readonly reader: PackageReader;
  readonly catalog: V2Catalog;
  readonly index: SearchIndex;
  readonly configuredBase: string | undefined;
  readonly allowOverwrite: boolean;
  readonly downloads?: DownloadRecorder;
}

/** The feed root without its trailing slash: `/api/v2`. */
const ROOT = routes.v2.replace(/\/$/, '');

type Handler = (sources: V2Sources, params: QueryParams, opts: ReturnType<typeof readOptions>, needTotal: boolean) => Promise<QueryResult>;

const FUNCTIONS: Readonly<Record<string, { title: string; run: Handler }>> = {
  packages: { title: 'Packages', run: (s, _p, o, t) => packagesQuery(s, o, t) },
  findpackagesbyid: { title: 'FindPackagesById', run: findPackagesByIdQuery },
  search: { title: 'Search', run: searchQuery },
  getupdates: { title: 'GetUpdates', run: getUpdatesQuery },
};

/** `Packages`, `Search()`, `FindPackagesById()/$count`, `Packages(Id='a',Version='1.0')`... */
const RESOURCE = /^([A-Za-z]+)(?:\((.*)\))?(\/\$count)?$/s;
/** The key of `Packages(Id='Foo',Version='1.0.0')`, either order; quotes doubled inside values. */
const KEY_PART = /^\s*(Id|Version)\s*=\s*'((?:[^']|'')*)'\s*$/i;

function parseKey(text: string): { id: string; version: string } | null {
  const parts: Record<string, string> = {};
  // Split on commas outside quotes.
  for (const part of text.match(/(?:[^,']|'(?:[^']|'')*')+/g) ?? []) {
    const m = KEY_PART.exec(part);
    if (!m) return null;
    parts[m[1]!.toLowerCase()] = m[2]!.replaceAll("''", "'");
  }
  return parts.id !== undefined && parts.version !== undefined ? { id: parts.id, version: parts.version } : null;
}

/** First value of each query parameter, looked up case-insensitively for function parameters. */
function queryParams(request: FastifyRequest): QueryParams {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(request.query as Record<string, string | string[] | undefined>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined) continue;
    // System query options keep their `$` names; function parameters are matched by their documented spelling.
    const canonical = CANONICAL.get(key.toLowerCase()) ?? key;
    out[canonical] ??= first;
  }
  return out;
}

const CANONICAL = new Map(
  [
    '$filter', '$orderby', '$skip', '$top', '$select', '$inlinecount', '$count', '$format', 'semVerLevel', 'id', 'searchTerm',
    'targetFramework', 'includePrerelease', 'packageIds', 'versions', 'includeAllVersions', 'targetFrameworks',
    'versionConstraints',
  ].map((name) => [name.toLowerCase(), name]),
);

/** Sends XML, gzipped when the client accepts it and it is worth it. Feeds change with every push. */
function sendXml(request: FastifyRequest, reply: FastifyReply, type: string, xml: string, cacheControl = 'no-cache') {
  const body = Buffer.from(xml, 'utf8');
  reply.type(type).header('cache-control', cacheControl).header('vary', 'Accept-Encoding').header('dataserviceversion', '2.0;');
  if (body.length > 1024 && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
    return reply.header('content-encoding', 'gzip').send(gzipSync(body, { level: 1 }));
  }
  return reply.send(body);
}

/** The URL of the next page: the request's own URL with `$skip` (and `$top`) moved on. */
function nextUrl(request: FastifyRequest, root: string, path: string, next: NonNullable<QueryResult['nextSkipTop']>): string {
  const search = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
  for (const key of [...search.keys()]) if (['$skip', '$top'].includes(key.toLowerCase())) search.delete(key);
  search.set('$skip', String(next.skip));
  if (next.top !== null) search.set('$top', String(next.top));
  // OData clients expect `$` and `'` as they wrote them; URLSearchParams writes spaces as `+`, which they read back.
  const query = search.toString().replace(/%24/g, '$').replace(/%27/g, "'").replace(/%28/g, '(').replace(/%29/g, ')').replace(/%2C/g, ',');
  return `${root}${path}?${query}`;
}

export function v2Routes(app: FastifyInstance, deps: V2RouteDeps): void {
  const sources: V2Sources = { catalog: deps.catalog, index: deps.index };
  const urlsFor = (request: FastifyRequest): FeedUrls => {
    const base = baseUrl(request, deps.configuredBase);
    return {
      root: base + routes.v2,
      flatContainer: base + routes.flatContainer,
      download: (p: V2Package) =>
        `${base}${routes.publish}/${encodeURIComponent(p.view.record.id)}/${encodeURIComponent(p.view.record.version)}`,
    };
  };

  const root = (request: FastifyRequest, reply: FastifyReply) =>
    sendXml(request, reply, 'application/xml;charset=utf-8', serviceDocument(urlsFor(request).root), REVALIDATE);
  const metadata = (request: FastifyRequest, reply: FastifyReply) =>
    sendXml(request, reply, 'application/xml;charset=utf-8', metadataDocument(), REVALIDATE);
  // Anonymous even on a private feed: clients read both before they send credentials (as the V3 service index).
  const anonymous = { config: { access: 'anonymous' as const } };
  app.get(ROOT, anonymous, root);
  app.get(`${ROOT}/$metadata`, anonymous, metadata);

  app.get(`${ROOT}/*`, async (request, reply) => {
    const urls = urlsFor(request);
    const rawPath = request.url.split('?')[0]!.slice(ROOT.length + 1);
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      throw notFound(`Nothing here: ${rawPath.slice(0, 200)} is not a resource of the V2 feed.`);
    }
    if (path === '') return root(request, reply);
    if (path === '$metadata') return metadata(request, reply);

    const m = RESOURCE.exec(path);
    const fn = m ? FUNCTIONS[m[1]!.toLowerCase()] : undefined;
    if (!m || !fn) {
      throw notFound(
        `Nothing here: ${path.slice(0, 200)} is not a resource of the V2 feed (it has Packages, FindPackagesById(), Search(), GetUpdates(), $metadata, package-ids and package-versions/{id}).`,
      );
    }
    const [, , args, count] = m;
    const params = queryParams(request);
    const opts = readOptions(params);

    // Packages(Id='Foo',Version='1.0.0'): one entry.
    if (fn.title === 'Packages' && args !== undefined && args.trim() !== '') {
      const key = parseKey(args);
      if (!key) throw notFound(`Packages(${args.slice(0, 200)}) is not a package key; write Packages(Id='Foo',Version='1.0.0').`);
      const entry = await packageByKey(sources, key.id, key.version);
      if (!entry) throw notFound(`Package ${key.id} ${key.version} was not found on this feed.`);
      if (count) return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').send('1');
      return sendXml(request, reply, ATOM_ENTRY_TYPE, entryDocument(entry, urls, opts.select));
    }

    const result = await fn.run(sources, params, opts, count !== undefined || opts.inlineCount);
    if (count) return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').send(String(result.total ?? 0));
    const page = {
      title: fn.title,
      entries: result.entries,
      select: opts.select,
      ...(opts.inlineCount && result.total !== undefined ? { count: result.total } : {}),
      ...(result.nextSkipTop ? { next: nextUrl(request, urls.root, path, result.nextSkipTop) } : {}),
    };
    return sendXml(request, reply, ATOM_FEED_TYPE, feedDocument(page, urls));
  });

  v2AutocompleteRoutes(app, deps.index);

  // The download URL of every entry. Unlisted versions download too (restores of pinned versions must work).
  app.get<{ Params: { id: string; version: string } }>(`${routes.publish}/:id/:version`, async (request, reply) => {
    const { id, version } = request.params;
    const record = await deps.reader.find(id, version);
    if (!record) throw notFound(`Package ${id} ${version} was not found on this feed.`);
    return sendPackage(request, reply, deps.reader, record, deps.allowOverwrite ? REVALIDATE : IMMUTABLE, deps.downloads);
  });
}
