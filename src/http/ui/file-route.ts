import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.js';
import type { PackageReader } from '../../feed/package-reader.js';
import { imageTypeOf, isImageOfType } from './image-types.js';
import { ENTRY_LIMITS, type PackageFiles } from './package-files.js';
import { resolvePackagePath } from './package-paths.js';

/**
 * An SVG opened on its own is a document that could run scripts as our origin: sandboxed, with no scripts or
 * loads, it cannot. (Shown through `<img>`, browsers never run them anyway.)
 */
const FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/**
 * `GET /packages/{id}/{version}/files/{path}`: images from inside a package, where readme-links.ts points a readme's
 * relative image URLs. Only images (png, jpg, gif, webp, svg by extension, and matching it), at most
 * {@link ENTRY_LIMITS.image} bytes; the path is normalized and may not leave the package root; anything else is a 404.
 * Pages' read rule applies (anonymous on a public feed, a key on a private one).
 */
export function packageFileRoute(app: FastifyInstance, reader: PackageReader, files: PackageFiles): void {
  app.get('/packages/:id/:version/files/*', async (request, reply) => {
    const { id, version, '*': raw } = request.params as { id: string; version: string; '*': string };
    const path = resolvePackagePath('', raw);
    const type = path && imageTypeOf(path);
    if (!path || !type) throw notFound(`Only images inside a package are served here (png, jpg, gif, webp, svg).`);
    const record = await reader.findFile(id, version);
    if (!record) throw notFound(`There is no package ${id} ${version} on this feed.`);
    const bytes = (await files.read(record, [{ name: path, maxBytes: ENTRY_LIMITS.image }])).get(path);
    if (!bytes || !isImageOfType(type, bytes)) {
      throw notFound(`${record.id} ${record.version} has no image '${path}' (or it is over ${ENTRY_LIMITS.image / 1024 / 1024} MiB).`);
    }
    return reply
      .type(type)
      .header('cache-control', 'public, max-age=3600')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', FILE_CSP)
      .send(bytes);
  });
}
