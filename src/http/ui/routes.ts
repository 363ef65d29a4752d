import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { advisoriesOfVersion, type AdvisoryService } from '../../feed/advisories.js';
import type { PackageDatabase } from '../../db/database.js';
import type { Feed } from '../../feed/feed.js';
import type { Ownership } from '../../feed/ownership.js';
import type { PackageReader } from '../../feed/package-reader.js';
import type { SearchIndex } from '../../feed/search/search-index.js';
import type { StoredMetadata } from '../../feed/stored-metadata.js';
import { isValidPackageId } from '../../nuget/id.js';
import { baseUrl } from '../base-url.js';
import { routes } from '../routes.js';
import { ASSET_VERSION, CSS, JS } from './assets.js';
import { safeUrl, trustedHtml, type Html } from './html.js';
import { packageFileRoute } from './file-route.js';
import { iconTypeOf } from './image-types.js';
import { ENTRY_LIMITS, PackageFiles } from './package-files.js';
import { readmeLinks } from './readme-links.js';
import { DEFAULT_ICON, feedPage, homePage, notFoundPage, packagePage, PAGE_SIZE, uploadPage, type VersionRow } from './pages.js';
import type { PackageManagement } from './manage-routes.js';
import { UiPaths } from './paths.js';
import { storedSignature } from '../../signing/signature-display.js';

export interface UiOptions {
  /** What the pages read of the feed (a virtual feed's read through its members), and which feed it is (its links). */
  readonly feed: Pick<Feed, 'scope' | 'reader' | 'events'> & {
    readonly db: Pick<PackageDatabase, 'listDownloadCounts' | 'countPackages'>;
    readonly ownership: Pick<Ownership, 'isVerifiedId'>;
    readonly advisories: Pick<AdvisoryService, 'forId'>;
  };
  readonly index: SearchIndex;
  /** This feed's own packages, for the statistics of /feed when `index` also shows upstream ones; default `index`. */
  readonly localIndex?: SearchIndex;
  /** What package pages show; with merged search the merged reader, as results link to upstream-only ids. Default `feed.reader`. */
  readonly pageReader?: PackageReader;
  readonly configuredBase: string | undefined;
  readonly privateFeed: boolean;
  /** Files read from inside packages, shared with the flat container's icons and readmes; default a new one. */
  readonly files?: PackageFiles;
  /** Owners' forms on package pages (manage-routes.ts); none on feeds without them. */
  readonly management?: Pick<PackageManagement, 'view'>;
}

/**
 * Pages may load only Pawket's own script and style; images may come from anywhere over http(s) (readme badges,
 * icon URLs), nothing may frame them.
 */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Readmes rendered to sanitized HTML, per lowerId|lowerVersion; dropped when the id changes. */
const RENDERED_READMES = 500;
/** Characters of rendered readmes kept together: a readme may be 1 MiB of markdown, and 500 of those are too many. */
const RENDERED_README_CHARS = 16 * 1024 * 1024;

/** The Markdown renderer (marked, sanitize-html and its HTML parser) loads with the first readme, not at start-up. */
const markdown = () => import('./markdown.js');

type Query = Record<string, string | string[] | undefined>;

function first(query: Query, name: string): string {
  const value = query[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/**
 * Sends a page with the headers every page carries (its CSP among them). `cacheControl`: `no-store` for a page that
 * shows a secret once (a new key).
 */
export function sendPage(reply: FastifyReply, body: string, status = 200, cacheControl: 'no-cache' | 'no-store' = 'no-cache') {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', cacheControl)
    .header('content-security-policy', PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .send(body);
}

/** The version a bare `/packages/{id}` shows: the latest listed stable one, else the latest listed, else the latest. */
function defaultVersion<T extends { record: { listed: boolean; isPrerelease: boolean } }>(versions: readonly T[]): T | undefined {
  const last = (ok: (v: T) => boolean) => [...versions].reverse().find(ok);
  return last((v) => v.record.listed && !v.record.isPrerelease) ?? last((v) => v.record.listed) ?? versions.at(-1);
}

/**
 * The web UI: home/search (`/`), package pages (`/packages/{id}/{version?}`, their icons and readme images), upload
 * (`/upload`; the form's `POST` is upload-route.ts's) and connection help (`/feed`), plus the two assets; each feed's
 * app serves them under its prefix (`/f/{name}/`), and their links stay under it (paths.ts). Pages follow the feed's
 * read rule (anonymous on a public feed, a key on a private one, as HTTP Basic: the browser asks); the assets and the
 * default icon are anonymous.
 */
export function uiRoutes(app: FastifyInstance, opts: UiOptions): void {
  const { feed, index } = opts;
  const files = opts.files ?? new PackageFiles(feed.reader, feed.events);
  const readmes = new Map<string, Html | null>();
  let readmeChars = 0;
  // Keyed `lowerId|lowerVersion|prefix`: a readme's image links carry the path prefix the page was asked under.
  const forgetReadme = (key: string) => {
    readmeChars -= readmes.get(key)?.value.length ?? 0;
    readmes.delete(key);
  };
  const keepReadme = (key: string, readme: Html | null) => {
    forgetReadme(key);
    readmes.set(key, readme);
    readmeChars += readme?.value.length ?? 0;
    while (readmes.size > RENDERED_READMES || readmeChars > RENDERED_README_CHARS) forgetReadme(readmes.keys().next().value!);
  };
  feed.events.onPackageChanged((lowerId) => {
    for (const key of [...readmes.keys()]) if (key.startsWith(`${lowerId}|`)) forgetReadme(key);
  });
  const anonymous = { config: { access: 'anonymous' as const } };

  app.get('/ui/app.css', anonymous, (request, reply) => asset(reply, 'text/css; charset=utf-8', CSS, (request.query as Query).v === ASSET_VERSION));
  app.get('/ui/app.js', anonymous, (request, reply) =>
    asset(reply, 'text/javascript; charset=utf-8', JS, (request.query as Query).v === ASSET_VERSION),
  );
  app.get('/ui/package.svg', anonymous, (_request, reply) => asset(reply, 'image/svg+xml', DEFAULT_ICON, false));

  app.get('/', async (request, reply) => {
    const query = request.query as Query;
    const q = first(query, 'q').slice(0, 1000);
    const prerelease = first(query, 'prerelease') === 'true';
    const packageType = first(query, 'packageType').trim();
    const page = Math.min(Math.max(1, Number.parseInt(first(query, 'page'), 10) || 1), 10_000);
    const paths = UiPaths.of(request, feed.scope);
    const results =
      packageType && !isValidPackageId(packageType)
        ? { totalHits: 0, packages: [] }
        : await index.search({ query: q, skip: (page - 1) * PAGE_SIZE, take: PAGE_SIZE, prerelease, semVer2: true, packageType: packageType || null });
    return sendPage(
      reply,
      homePage(paths, { query: q, prerelease, packageType, page, ...results, isVerified: (id) => feed.ownership.isVerifiedId(id) }),
    );
  });

  const pageReader = opts.pageReader ?? feed.reader;
  const packageHandler = async (request: FastifyRequest, reply: FastifyReply, id: string, version: string | undefined) => {
    const paths = UiPaths.of(request, feed.scope);
    const versions = await pageReader.versions(id);
    if (versions.length === 0) return sendPage(reply, notFoundPage(paths, `There is no package ${id} on this feed.`), 404);
    const wanted = version === undefined ? defaultVersion(versions) : await findVersion(id, version, versions);
    if (!wanted) {
      return sendPage(reply, notFoundPage(paths, `${versions[0]!.record.id} has no version ${version}.`), 404);
    }
    const { record, metadata } = wanted;
    const [counts, known] = await Promise.all([feed.db.listDownloadCounts(record.lowerId), feed.advisories.forId(record.lowerId)]);
    const downloads = new Map(counts.map((c) => [c.lowerVersion, c.count]));
    const advisories = new Map(versions.map((v) => [v.record.lowerVersion, advisoriesOfVersion(known, v)]));
    const rows: VersionRow[] = versions.map((v) => ({
      version: v.record.version,
      listed: v.record.listed,
      prerelease: v.record.isPrerelease,
      published: v.record.published,
      downloads: downloads.get(v.record.lowerVersion) ?? 0,
      mirroredFrom: v.record.mirroredFrom,
      deprecated: advisories.get(v.record.lowerVersion)!.deprecation !== null,
      vulnerable: advisories.get(v.record.lowerVersion)!.vulnerabilities.length > 0,
    }));
    const mine = advisories.get(record.lowerVersion)!;
    const { readme, licenseText } = await packageTexts(paths, record, metadata);
    const managed = await opts.management?.view(request, paths, { id: record.id, version: record.version, listed: record.listed, deprecation: mine.deprecation });
    return sendPage(
      reply,
      packagePage(paths, {
        metadata,
        version: record.version,
        listed: record.listed,
        published: record.published,
        size: record.size,
        versions: rows,
        totalDownloads: counts.reduce((sum, c) => sum + c.count, 0),
        verified: feed.ownership.isVerifiedId(record.lowerId),
        mirroredFrom: record.mirroredFrom,
        signature: storedSignature(metadata),
        deprecation: mine.deprecation,
        vulnerabilities: mine.vulnerabilities,
        readme,
        licenseText,
        feedUrl: baseUrl(request, opts.configuredBase) + routes.serviceIndex,
        downloadUrl: paths.nupkg(record.lowerId, record.lowerVersion),
        notice: managed?.notice ?? null,
        manage: managed?.section ?? null,
      }),
    );
  };

  async function findVersion(id: string, version: string, versions: Awaited<ReturnType<typeof feed.reader.versions>>) {
    const record = await pageReader.find(id, version);
    return record ? versions.find((v) => v.record.lowerVersion === record.lowerVersion) : undefined;
  }

  async function packageTexts(
    paths: UiPaths,
    record: { lowerId: string; lowerVersion: string } & Parameters<PackageFiles['read']>[0],
    metadata: StoredMetadata,
  ): Promise<{ readme: Html | null; licenseText: string | null }> {
    const key = `${record.lowerId}|${record.lowerVersion}|${paths.prefix}`;
    let readme = readmes.get(key);
    const wanted: { name: string; maxBytes: number }[] = [];
    if (metadata.readme && readme === undefined) wanted.push({ name: metadata.readme, maxBytes: ENTRY_LIMITS.readme });
    if (metadata.license?.type === 'file') wanted.push({ name: metadata.license.value, maxBytes: ENTRY_LIMITS.license });
    const read = wanted.length ? await files.read(record, wanted) : new Map<string, Buffer | null>();
    if (metadata.readme && readme === undefined) {
      const bytes = read.get(metadata.readme);
      // Relative URLs resolve next to the readme inside the package (images) or in its repository (links).
      const links = readmeLinks({ filesUrl: paths.files(record.id, record.version), readmePath: metadata.readme, repository: metadata.repository });
      readme = bytes ? trustedHtml((await markdown()).renderMarkdown(text(bytes), links)) : null;
      keepReadme(key, readme);
    }
    const license = metadata.license?.type === 'file' ? read.get(metadata.license.value) : null;
    return { readme: readme ?? null, licenseText: license ? text(license) : null };
  }

  app.get('/packages/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    return packageHandler(request, reply, id, undefined);
  });
  app.get('/packages/:id/:version', async (request, reply) => {
    const { id, version } = request.params as { id: string; version: string };
    return packageHandler(request, reply, id, version);
  });

  // The icon inside the package, else the package's icon URL (http/https), else Pawket's default icon.
  app.get('/packages/:id/:version/icon', async (request, reply) => {
    const { id, version } = request.params as { id: string; version: string };
    const record = await feed.reader.find(id, version);
    const metadata = record ? (JSON.parse(record.metadata) as StoredMetadata) : null;
    reply.header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff');
    if (record && metadata?.icon) {
      const bytes = (await files.read(record, [{ name: metadata.icon, maxBytes: ENTRY_LIMITS.icon }])).get(metadata.icon);
      const type = bytes ? iconTypeOf(bytes) : null;
      if (bytes && type) return reply.type(type).header('content-security-policy', "default-src 'none'; sandbox").send(bytes);
    }
    const external = safeUrl(metadata?.iconUrl);
    if (external) return reply.redirect(external, 302);
    return reply.type('image/svg+xml').header('content-security-policy', "default-src 'none'; sandbox").send(DEFAULT_ICON);
  });

  packageFileRoute(app, feed.reader, files);

  app.get('/upload', (request, reply) => sendPage(reply, uploadPage(UiPaths.of(request, feed.scope))));

  app.get('/feed', async (request, reply) => {
    const [listed, versions, counts] = await Promise.all([
      (opts.localIndex ?? index).search({ query: '', skip: 0, take: 1, prerelease: true, semVer2: true, packageType: null }),
      feed.db.countPackages(),
      feed.db.listDownloadCounts(),
    ]);
    const stats = { ids: listed.totalHits, versions, downloads: counts.reduce((sum, c) => sum + c.count, 0) };
    return sendPage(reply, feedPage(UiPaths.of(request, feed.scope), baseUrl(request, opts.configuredBase), stats, opts.privateFeed));
  });
}

function text(bytes: Buffer): string {
  const s = bytes.toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function asset(reply: FastifyReply, type: string, body: string, versioned: boolean) {
  return reply
    .type(type)
    .header('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=300')
    .header('x-content-type-options', 'nosniff')
    .send(body);
}
