import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PackageReader } from '../feed/package-reader.js';
import { lowerId } from '../nuget/id.js';
import { packageFileKind } from '../nuget/identity.js';
import type { Metrics } from './metrics.js';
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

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const FLAT = routes.flatContainer.split('/').filter(Boolean); // ['v3', 'flatcontainer']
const HIVES = new Map(Object.values(routes.registration).map((h) => [h.path.split('/').filter(Boolean)[1]!, h.path]));

/**
 * The restore hot path without the framework. Restores are almost all GETs of three URL shapes: versions lists and
 * registration indexes that are already rendered in the response cache, and small package files. Those are answered
 * straight on Node's HTTP server, with the same bytes and headers the routes send (they share `documentAnswer` and
 * the cache keys), and are counted in the same metrics. Everything else, a cache miss included, returns false and
 * goes through Fastify, which renders and caches; so the fast path only ever repeats what the routes produced.
 * Private feeds and proxied requests (whose base URL depends on forwarded headers) always take the full path.
 */
export function restoreFastPath(deps: FastPathDeps): Handler {
  const observe = (route: string, status: number, started: bigint) => {
    deps.metrics.requests.inc({ route, method: 'GET', status: String(status) });
    deps.metrics.latency.observe({ route, method: 'GET' }, Number(process.hrtime.bigint() - started) / 1e9);
  };

  const document = (req: IncomingMessage, res: ServerResponse, key: string, route: string, started: bigint): boolean => {
    const doc = deps.cache.peek(key);
    if (!doc) return false;
    const answer = documentAnswer(req.headers as Record<string, string | undefined>, doc, REVALIDATE);
    const length = answer.body ? { 'content-length': answer.body.length } : {};
    res.writeHead(answer.status, { ...answer.headers, ...length }).end(answer.body ?? undefined);
    observe(route, answer.status, started);
    return true;
  };

  const download = async (req: IncomingMessage, res: ServerResponse, parts: string[], started: bigint): Promise<boolean> => {
    const [id, version, file] = parts as [string, string, string];
    const record = await deps.reader.findFile(id, version);
    if (!record || packageFileKind(file, record, ['nupkg'] as const) !== 'nupkg') return false;
    const etag = `"${record.sha512}"`;
    const headers = { etag, 'cache-control': deps.fileCacheControl };
    if (etagMatches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers).end();
    } else {
      if (await deps.reader.redirectUrl(record)) return false;
      const content = await deps.reader.open(record);
      if (!content) return false; // missing from storage: the full path logs it and answers
      deps.downloads.record(record.lowerId, record.lowerVersion);
      res.writeHead(200, {
        ...headers,
        'content-type': 'application/octet-stream',
        'content-length': content.size,
        'content-disposition': `attachment; filename="${record.lowerId}.${record.lowerVersion}.nupkg"`,
      });
      if (content.bytes) {
        res.end(content.bytes);
      } else {
        // An opened stream holds a file handle or an object-store connection: it is always either piped or destroyed.
        const stream = content.stream;
        stream.on('error', () => res.destroy());
        res.on('close', () => stream.destroy());
        stream.pipe(res);
      }
    }
    observe(`${routes.flatContainer}:id/:version/:file`, res.statusCode, started);
    return true;
  };

  return async (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || url.includes('?') || url.includes('%') || req.headers['x-forwarded-host'] || req.headers['x-forwarded-proto']) {
      return false;
    }
    const started = process.hrtime.bigint();
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
      const base = deps.configuredBase?.replace(/\/+$/, '') ?? `http://${req.headers.host}`;
      return document(req, res, cacheKeys.registration(hive, base, lowerId(parts[3]!), 'index'), `${hive}:id/index.json`, started);
    }
    return false;
  };
}
