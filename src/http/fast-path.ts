import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { BlobContent } from '../blobs/blob-store.js';
import type { PackageFile, PackageReader } from '../feed/package-reader.js';
import { lowerId } from '../nuget/id.js';
import { packageFileKind } from '../nuget/identity.js';
import { isValidHost } from './base-url.js';
import { feedPathOf } from './feed-router.js';
import type { Metrics, RouteRequests } from './metrics.js';
import { documentAnswer, etagMatches, REVALIDATE, type ResponseCache } from './response-cache.js';
import { cacheKeys, routes } from './routes.js';
import type { DownloadRecorder } from './v3/flat-container.js';

export interface FastPathDeps {
  readonly cache: ResponseCache;
  readonly reader: PackageReader;
  readonly metrics: Metrics;
  readonly downloads: DownloadRecorder;
  readonly configuredBase: string | undefined;
  readonly fileCacheControl: string;
}

/** True when it answered; false (or a promise of false) when the request must take the full path. */
/** What a download sends: bytes in memory, or a stream to pipe. */
type FileBody = Pick<BlobContent, 'size' | 'bytes'> & { readonly stream?: Readable };

type Handler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

const FILE_ROUTE = `${routes.flatContainer}:id/:version/:file`;
const FLAT = routes.flatContainer.split('/').filter(Boolean); // ['v3', 'flatcontainer']
const HIVES = new Map(Object.values(routes.registration).map((h) => [h.path.split('/').filter(Boolean)[1]!, h.path]));

/**
 * The restore hot path without the framework. Restores are almost all GETs of three URL shapes: versions lists and
 * registration indexes that are already rendered in the response cache, and small package files. Those are answered
 * straight on Node's HTTP server, with the same bytes and headers the routes send (they share `documentAnswer` and
 * the cache keys), and are counted in the same metrics. Everything else, a cache miss included, returns false and
 * goes through Fastify, which renders and caches; so the fast path only ever repeats what the routes produced.
 * Private feeds and proxied requests (whose base URL depends on forwarded headers) always take the full path, and so
 * do requests with a malformed Host (the full path refuses them).
 */
export function restoreFastPath(deps: FastPathDeps): Handler {
  const configuredBase = deps.configuredBase?.replace(/\/+$/, '');
  // Each route's counters looked up once: a request then costs a few additions (see Metrics).
  const counted = new Map<string, RouteRequests>();
  const observe = (route: string, status: number, started: number) => {
    let requests = counted.get(route);
    if (!requests) counted.set(route, (requests = deps.metrics.requestsOf(route, 'GET')));
    requests.record(status, (performance.now() - started) / 1000);
  };

  /** Answered synchronously: a cached document costs no promise, no microtask. */
  const document = (req: IncomingMessage, res: ServerResponse, key: string, route: string, started: number, base?: string): boolean => {
    const doc = deps.cache.peek(key, base);
    if (!doc) return false;
    const answer = documentAnswer(req.headers as Record<string, string | undefined>, doc, REVALIDATE);
    res.writeHead(answer.status, answer.rawHeaders).end(answer.body ?? undefined);
    observe(route, answer.status, started);
    return true;
  };

  const fileHeaders = (record: PackageFile) => ({ etag: `"${record.sha512}"`, 'cache-control': deps.fileCacheControl });
  const fileAnswerHeaders = (record: PackageFile, size: number) => ({
    ...fileHeaders(record),
    'content-type': 'application/octet-stream',
    'content-length': size,
    'content-disposition': `attachment; filename="${record.lowerId}.${record.lowerVersion}.nupkg"`,
  });

  /** Sends a package file's bytes (200), or 304 when the client has them. */
  const sendFile = (req: IncomingMessage, res: ServerResponse, record: PackageFile, content: FileBody | null, started: number) => {
    const headers = fileHeaders(record);
    if (etagMatches(req.headers['if-none-match'], headers.etag)) {
      res.writeHead(304, headers).end();
    } else {
      deps.downloads.record(record.lowerId, record.lowerVersion);
      res.writeHead(200, fileAnswerHeaders(record, content!.size));
      if (content!.bytes) {
        res.end(content!.bytes);
      } else {
        // An opened stream holds a file handle or an object-store connection: it is always either piped or destroyed.
        const stream = content!.stream!;
        stream.on('error', () => res.destroy());
        res.on('close', () => stream.destroy());
        stream.pipe(res);
      }
    }
    observe(FILE_ROUTE, res.statusCode, started);
  };

  // The finished 200 headers of files answered from memory, per record (records are cached objects, dropped with their id).
  const memoryHeaders = new WeakMap<PackageFile, string[]>();

  /** A package seen recently whose bytes are in memory: answered without waiting on anything. */
  const download = (req: IncomingMessage, res: ServerResponse, parts: string[], started: number): boolean | Promise<boolean> => {
    const [id, version, file] = parts as [string, string, string];
    // The other files of a version (.nuspec, icon, readme) are the routes' without a lookup here.
    if (!file.toLowerCase().endsWith('.nupkg')) return false;
    const record = deps.reader.cachedFile(id, version);
    const bytes = record && deps.reader.cachedBytes(record);
    if (!record || !bytes) return downloadFromStorage(req, res, id, version, file, started);
    if (packageFileKind(file, record, ['nupkg'] as const) !== 'nupkg') return false;
    if (req.headers['if-none-match'] !== undefined) {
      sendFile(req, res, record, { bytes, size: bytes.length }, started);
      return true;
    }
    let headers = memoryHeaders.get(record);
    if (!headers) {
      headers = Object.entries(fileAnswerHeaders(record, bytes.length)).flatMap(([k, v]) => [k, String(v)]);
      memoryHeaders.set(record, headers);
    }
    deps.downloads.record(record.lowerId, record.lowerVersion);
    res.writeHead(200, headers).end(bytes);
    observe(FILE_ROUTE, 200, started);
    return true;
  };

  const downloadFromStorage = async (req: IncomingMessage, res: ServerResponse, id: string, version: string, file: string, started: number) => {
    const record = await deps.reader.findFile(id, version);
    if (!record || packageFileKind(file, record, ['nupkg'] as const) !== 'nupkg') return false;
    let content: BlobContent | null = null;
    if (!etagMatches(req.headers['if-none-match'], fileHeaders(record).etag)) {
      if (await deps.reader.redirectUrl(record)) return false;
      content = await deps.reader.open(record);
      if (!content) return false; // missing from storage: the full path logs it and answers
    }
    sendFile(req, res, record, content, started);
    return true;
  };

  // The last Host seen valid: clients of one feed send the same one, so the check is mostly a string comparison.
  let validHost = '';
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || url.includes('?') || url.includes('%') || req.headers['x-forwarded-host'] || req.headers['x-forwarded-proto']) {
      return false;
    }
    const host = req.headers.host;
    if (host !== validHost) {
      if (!isValidHost(host)) return false;
      validHost = host;
    }
    const started = performance.now();
    const parts = url.split('/'); // ['', 'v3', segment, ...]
    if (parts[1] !== FLAT[0]) return false;
    if (parts[2] === FLAT[1]) {
      if (parts.length === 5 && parts[4] === 'index.json') {
        return document(req, res, cacheKeys.flatVersions(lowerId(parts[3]!)), `${routes.flatContainer}:id/index.json`, started);
      }
      return parts.length === 6 ? download(req, res, parts.slice(3), started) : false;
    }
    const hive = HIVES.get(parts[2] ?? '');
    if (hive && parts.length === 5 && parts[4] === 'index.json') {
      const base = configuredBase ?? `http://${host}${feedPathOf(req)}`;
      return document(req, res, cacheKeys.registration(hive, lowerId(parts[3]!), 'index'), `${hive}:id/index.json`, started, base);
    }
    return false;
  };
}
