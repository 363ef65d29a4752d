import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.js';
import type { PackageFile, PackageReader } from '../../feed/package-reader.js';
import { lowerId } from '../../nuget/id.js';
import { packageFileKind } from '../../nuget/identity.js';
import { IMMUTABLE, REVALIDATE, etagMatches, sendDocument, type ResponseCache } from '../response-cache.js';
import { cacheKeys, routes } from '../routes.js';
import { sendSymbolPackage, type SymbolReads } from '../symbols.js';
import type { PackageFiles } from '../ui/package-files.js';
import { embeddedFileOf, sendEmbeddedFile } from './embedded-files.js';

/** Where `.nupkg` downloads are counted (in memory; written in batches). */
export interface DownloadRecorder {
  record(lowerId: string, lowerVersion: string): void;
}

interface FileParams {
  id: string;
  version: string;
  file: string;
}

/**
 * PackageBaseAddress: the hot path of every restore. The versions list is one indexed query, rendered once and
 * cached until the id changes; package files stream from blob storage. Beside the `.nupkg` and `.nuspec`, a version's
 * own `icon` and `readme` (embedded-files.ts), as nuget.org serves them.
 */
export function flatContainerRoutes(
  app: FastifyInstance,
  reader: PackageReader,
  cache: ResponseCache,
  opts: { allowOverwrite: boolean; files: PackageFiles; downloads?: DownloadRecorder; symbols?: SymbolReads },
): void {
  // With overwrite on, a URL's bytes may change: revalidate by hash instead of caching forever.
  const fileCacheControl = opts.allowOverwrite ? REVALIDATE : IMMUTABLE;

  app.get<{ Params: { id: string } }>(`${routes.flatContainer}:id/index.json`, async (request, reply) => {
    const id = request.params.id;
    const doc = await cache.get(cacheKeys.flatVersions(lowerId(id)), lowerId(id), async () => {
      const versions = await reader.versions(id);
      return versions.length ? { versions: versions.map((v) => v.record.lowerVersion) } : null;
    });
    if (!doc) throw notFound(`Package ${id} was not found on this feed.`);
    return sendDocument(request, reply, doc, REVALIDATE);
  });

  app.get<{ Params: FileParams }>(`${routes.flatContainer}:id/:version/:file`, async (request, reply) => {
    const { id, version, file } = request.params;
    const embedded = embeddedFileOf(file);
    if (embedded) {
      return sendEmbeddedFile(request, reply, { reader, files: opts.files, cacheControl: fileCacheControl }, id, version, embedded);
    }
    const record = await reader.findFile(id, version);
    if (!record) throw notFound(`Package ${id} ${version} was not found on this feed.`);
    const kind = packageFileKind(file, record, ['nupkg', 'nuspec', 'snupkg'] as const);
    if (kind === 'nuspec') {
      const nuspec = await reader.nuspec(id, version);
      if (!nuspec) throw notFound(`Package ${id} ${version} was not found on this feed.`);
      return reply.header('cache-control', fileCacheControl).type('application/xml; charset=utf-8').send(nuspec);
    }
    // The symbols package beside the package (not part of the protocol; nuget.org serves it elsewhere).
    if (kind === 'snupkg' && opts.symbols) {
      const full = await reader.find(id, version);
      if (full) return sendSymbolPackage(request, reply, opts.symbols, full, fileCacheControl);
    }
    if (kind !== 'nupkg') throw notFound(`${file} is not a file of package ${record.id} ${record.fullVersion}.`);
    return sendPackage(request, reply, reader, record, fileCacheControl, opts.downloads);
  });
}

/** Streams (or redirects to) a `.nupkg` with its ETag, counting the download; the V2 download route answers with it too. */
export async function sendPackage(
  request: FastifyRequest,
  reply: FastifyReply,
  reader: Pick<PackageReader, 'open' | 'redirectUrl'>,
  record: PackageFile,
  cacheControl: string,
  downloads: DownloadRecorder | undefined,
) {
  const etag = `"${record.sha512}"`;
  // A download is a GET answered with the file (or a redirect to it in object storage); 304s and HEADs are not. Counted
  // as the answer starts, like nuget.org: a client that aborts midway still counts.
  const count = request.method === 'GET' && downloads ? () => downloads.record(record.lowerId, record.lowerVersion) : null;
  reply.header('etag', etag).header('cache-control', cacheControl);
  if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
  const redirect = await reader.redirectUrl(record);
  if (redirect) {
    count?.();
    return reply.redirect(redirect, 302);
  }
  const content = await reader.open(record);
  if (!content) {
    request.log.error({ blob: record.blobKey }, 'package file missing from storage');
    throw notFound(`The file of package ${record.id} ${record.fullVersion} is missing from storage.`);
  }
  count?.();
  return reply
    .type('application/octet-stream')
    .header('content-length', content.size)
    .header('content-disposition', `attachment; filename="${record.lowerId}.${record.lowerVersion}.nupkg"`)
    .send(content.bytes ?? content.stream);
}
