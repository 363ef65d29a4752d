/**
 * The icon and readme inside a package, served from the flat container beside the `.nupkg` and `.nuspec` under
 * nuget.org's names (`{lower_id}/{lower_version}/icon`, `…/readme`), and the URLs the documents point at them with.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.js';
import type { PackageReader } from '../../feed/package-reader.js';
import type { StoredMetadata } from '../../feed/stored-metadata.js';
import { iconTypeOf } from '../ui/image-types.js';
import { ENTRY_LIMITS, type PackageFiles } from '../ui/package-files.js';
import { etagMatches } from '../response-cache.js';

/** The files of a version the flat container serves from inside its package, by their name in the URL. */
export const EMBEDDED_FILES = ['icon', 'readme'] as const;
export type EmbeddedFile = (typeof EMBEDDED_FILES)[number];

/** A version as its URLs name it. */
interface VersionKey {
  readonly lowerId: string;
  readonly lowerVersion: string;
}

const fileUrl = (flatContainer: string, v: VersionKey, file: EmbeddedFile) => `${flatContainer}${v.lowerId}/${v.lowerVersion}/${file}`;

/**
 * The icon clients show for a version: its own icon (`<icon>`) as the flat container serves it, as nuget.org points at
 * its copy; else the nuspec's `<iconUrl>`; else null. Versions known only from an upstream have no `icon` and keep
 * the URL the upstream gave.
 *
 * @example iconUrlOf('http://feed/v3/flatcontainer/', { lowerId: 'foo', lowerVersion: '1.0.0' }, { icon: 'icon.png', iconUrl: null })
 * // 'http://feed/v3/flatcontainer/foo/1.0.0/icon'
 */
export function iconUrlOf(
  flatContainer: string,
  v: VersionKey,
  /** `icon`: the nuspec's path of it, or whether there is one. */
  m: { readonly icon: string | boolean | null; readonly iconUrl: string | null },
): string | null {
  if (m.icon) return fileUrl(flatContainer, v, 'icon');
  return m.iconUrl || null;
}

/** Where the readme of a version that has one (`<readme>`) is served; null for versions without. */
export function readmeUrlOf(flatContainer: string, v: VersionKey, m: Pick<StoredMetadata, 'readme'>): string | null {
  return m.readme ? fileUrl(flatContainer, v, 'readme') : null;
}

/** The `ReadmeUriTemplate/6.13.0` resource of the service index: NuGet's client fills in these two tokens. */
export const readmeUriTemplate = (flatContainer: string) => `${flatContainer}{lower_id}/{lower_version}/readme`;

/** Which embedded file a flat-container file name asks for (`icon`, `readme`, any case); null for any other name. */
export function embeddedFileOf(name: string): EmbeddedFile | null {
  const lower = name.toLowerCase();
  return EMBEDDED_FILES.find((f) => f === lower) ?? null;
}

/** What the content of an embedded file is sent as; null when it is not something we serve (an icon that is no image). */
function contentType(file: EmbeddedFile, bytes: Buffer): string | null {
  // Readmes are Markdown (NuGet's client reads the body as text whatever the type).
  return file === 'icon' ? iconTypeOf(bytes) : 'text/markdown; charset=utf-8';
}

/**
 * Answers `GET {flat}/{id}/{version}/icon|readme`: the file the nuspec names, read from the stored package under its
 * cap (ENTRY_LIMITS), with the cache headers of the other flat-container files. A 404 when the version is unknown, has
 * no such file, the file is over its cap, or an icon is not an image Pawket recognises. Versions only an upstream has
 * are not fetched for this: they answer 404 until they are mirrored.
 */
export async function sendEmbeddedFile(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: { readonly reader: PackageReader; readonly files: PackageFiles; readonly cacheControl: string },
  id: string,
  version: string,
  file: EmbeddedFile,
) {
  const record = await deps.reader.find(id, version);
  if (!record) throw notFound(`Package ${id} ${version} was not found on this feed.`);
  const path = (JSON.parse(record.metadata) as StoredMetadata)[file];
  // A version only an upstream has (no blob here) is not fetched for its icon or readme.
  if (!path || !record.blobKey) throw notFound(`${record.id} ${record.fullVersion} has no ${file} of its own on this feed.`);
  // The package's hash names its content: the same file until the package is replaced.
  const etag = `"${record.sha512}-${file}"`;
  if (etagMatches(request.headers['if-none-match'], etag)) {
    return reply.code(304).header('etag', etag).header('cache-control', deps.cacheControl).send();
  }
  const limit = ENTRY_LIMITS[file];
  const bytes = (await deps.files.read(record, [{ name: path, maxBytes: limit }])).get(path);
  const type = bytes ? contentType(file, bytes) : null;
  if (!bytes || !type) {
    const why = bytes ? 'is not a PNG, JPEG or GIF image' : `is missing or over ${limit / 1024 / 1024} MiB`;
    throw notFound(`The ${file} of ${record.id} ${record.fullVersion} (${path}) ${why}.`);
  }
  return (
    reply
      .type(type)
      .header('etag', etag)
      .header('cache-control', deps.cacheControl)
      .header('content-length', bytes.length)
      // Served from our origin: never sniffed as something else, never a document that could run anything.
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(bytes)
  );
}
