import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PackageRecord } from '../db/database.js';
import { notFound } from '../errors.js';
import type { PackageAccess } from '../feed/access.js';
import type { PackageReader } from '../feed/package-reader.js';
import type { SymbolService } from '../feed/symbols.js';
import type { RequestAuthenticator } from './access-control.js';
import { receiveUpload, type UploadKind } from './receive-upload.js';
import { IMMUTABLE, REVALIDATE, etagMatches } from './response-cache.js';
import { routes } from './routes.js';
import { prepareUploadScope } from './upload-scope.js';

/** What serving symbols needs of the symbol service (a virtual feed's reads its members'). */
export type SymbolReads = Pick<SymbolService, 'symbolPackageOf' | 'open' | 'redirectUrl'>;

export interface SymbolRouteDeps {
  readonly access: PackageAccess;
  readonly requestAuth: RequestAuthenticator;
  readonly symbols: SymbolReads & Pick<SymbolService, 'publish' | 'findPdb'>;
  readonly reader: PackageReader;
  readonly tempDir: string;
  readonly maxPackageSize: number;
  readonly allowOverwrite: boolean;
}

const SYMBOLS_UPLOAD: UploadKind = { noun: 'symbols package', file: '.snupkg' };

/** The push routes check keys themselves, private feed or not. */
const keyChecked = { config: { access: 'key' as const } };

/**
 * SymbolPackagePublish/4.9.0 (push of `.snupkg` files, as `dotnet nuget push` does next to the `.nupkg`), the
 * `.snupkg` download at nuget.org's path, and the symbol server debuggers query (Simple Symbol Query Protocol).
 */
export function symbolRoutes(app: FastifyInstance, deps: SymbolRouteDeps): void {
  app.register(async (scope) => {
    prepareUploadScope(scope, deps.maxPackageSize);
    const push = async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = await deps.requestAuth.authenticate(request, { denied: { action: 'push.denied', target: '(any symbols package)' } });
      // A key that may not push at all is refused before its body is read; id-specific checks need the package.
      await deps.access.authorizeAnyPush(principal);
      const upload = await receiveUpload(request, deps.tempDir, deps.maxPackageSize, SYMBOLS_UPLOAD);
      const result = await deps.symbols.publish(upload, principal);
      request.log.info({ id: result.id, version: result.version, pdbs: result.pdbs, by: principal.name }, 'symbols pushed');
      reply.raw.statusMessage = result.replaced ? 'Replaced' : 'Created';
      const pdbs = `${result.pdbs} PDB${result.pdbs === 1 ? '' : 's'}`;
      return reply
        .code(201)
        .type('text/plain; charset=utf-8')
        .send(`Symbols package ${result.id} ${result.version} was ${result.replaced ? 'replaced' : 'pushed'} (${pdbs}).`);
    };
    for (const path of [routes.symbolPublish, routes.feedSymbolPublish]) {
      scope.put(path, keyChecked, push);
      scope.post(path, keyChecked, push);
    }
  });

  const cacheControl = deps.allowOverwrite ? REVALIDATE : IMMUTABLE;
  app.get<{ Params: { id: string; version: string } }>(`${routes.symbolPublish}/:id/:version`, async (request, reply) => {
    const { id, version } = request.params;
    const record = await deps.reader.find(id, version);
    if (!record) throw notFound(`Package ${id} ${version} was not found on this feed.`);
    return sendSymbolPackage(request, reply, deps.symbols, record, cacheControl);
  });

  app.get<{ Params: { file: string; key: string; file2: string } }>(`${routes.symbolServer}:file/:key/:file2`, async (request, reply) => {
    const { file, key, file2 } = request.params;
    const header = request.headers.symbolchecksum;
    const lookup = await deps.symbols.findPdb(file, key, file2, Array.isArray(header) ? header.join(';') : header);
    if (lookup.status === 'not-found') throw notFound(`This feed has no symbols for ${file}/${key}/${file2}.`);
    if (lookup.status === 'checksum-mismatch') {
      throw notFound(`This feed has ${file}/${key}/${file2}, but not with the checksum the debugger asked for (SymbolChecksum).`);
    }
    // A key names one build's PDB: what is served under it does not change.
    reply.header('cache-control', IMMUTABLE);
    return sendBlob(request, reply, deps.symbols, lookup.file.blobKey, file);
  });
}

/** The `.snupkg` of a package version: 404 when it has none (or only symbols of a file the package replaced). */
export async function sendSymbolPackage(
  request: FastifyRequest,
  reply: FastifyReply,
  symbols: SymbolReads,
  record: PackageRecord,
  cacheControl: string,
): Promise<FastifyReply> {
  const symbolPackage = await symbols.symbolPackageOf(record);
  if (!symbolPackage) throw notFound(`Package ${record.id} ${record.fullVersion} has no symbols package on this feed.`);
  const etag = `"${symbolPackage.sha512}"`;
  reply.header('etag', etag).header('cache-control', cacheControl);
  if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
  return sendBlob(request, reply, symbols, symbolPackage.blobKey, `${record.lowerId}.${record.lowerVersion}.snupkg`);
}

async function sendBlob(request: FastifyRequest, reply: FastifyReply, symbols: SymbolReads, blobKey: string, fileName: string) {
  const redirect = await symbols.redirectUrl(blobKey);
  if (redirect) return reply.redirect(redirect, 302);
  const content = await symbols.open(blobKey);
  if (!content) {
    request.log.error({ blob: blobKey }, 'symbols file missing from storage');
    throw notFound(`The file ${fileName} is missing from storage.`);
  }
  const safeName = fileName.replace(/[^\w.-]/g, '_');
  return reply
    .type('application/octet-stream')
    .header('content-length', content.size)
    .header('content-disposition', `attachment; filename="${safeName}"`)
    .send(content.stream);
}
