import type { BlobMeta } from '../blobs/blob-store.js';
import { IMMUTABLE, REVALIDATE } from '../http/response-cache.js';
import { routes } from '../http/routes.js';

/**
 * Where materialized documents live in the blob store: the URL path they answer, under `static/` for feeds anyone may
 * read and `static-private/` for private feeds. A web server or CDN maps `static/` to the public URL as it is; the
 * private root is only ever served after an access check, so a feed that turns private is never exposed by a front
 * configured while it was public.
 */
export const PUBLIC_ROOT = 'static/';
export const PRIVATE_ROOT = 'static-private/';

/** Roots no package row references: the orphan sweep leaves them alone. */
export const MATERIALIZED_ROOTS = [PUBLIC_ROOT, PRIVATE_ROOT] as const;

/** The paths of one id's documents, relative to its feed's folder (`v3/...`). */
export const documentPaths = {
  flatIndex: (lid: string) => `${routes.flatContainer.slice(1)}${lid}/index.json`,
  nupkg: (lid: string, lv: string) => `${routes.flatContainer.slice(1)}${lid}/${lv}/${lid}.${lv}.nupkg`,
  nuspec: (lid: string, lv: string) => `${routes.flatContainer.slice(1)}${lid}/${lv}/${lid}.nuspec`,
  registrationIndex: (hivePath: string, lid: string) => `${hivePath.slice(1)}${lid}/index.json`,
  leaf: (hivePath: string, lid: string, lv: string) => `${hivePath.slice(1)}${lid}/${lv}.json`,
  page: (hivePath: string, lid: string, lower: string, upper: string) => `${hivePath.slice(1)}${lid}/page/${lower}/${upper}.json`,
};

/** A feed's folder among the materialized documents: its URL prefix under the root. */
export interface FeedFolder {
  /** `static/` or `static-private/`. */
  readonly root: string;
  /** '' for the default feed, `f/{name}/` for the others (the name as the feed was created, as in its URLs). */
  readonly prefix: string;
}

export const blobKeyOf = (folder: FeedFolder, path: string) => `${folder.root}${folder.prefix}${path}`;

export const JSON_META: BlobMeta = { contentType: 'application/json; charset=utf-8', cacheControl: REVALIDATE };
export const JSON_GZIP_META: BlobMeta = { ...JSON_META, contentEncoding: 'gzip' };

/** Package files: immutable, unless the feed lets a version's bytes be replaced (then revalidated, as the routes do). */
export function fileCacheControl(allowOverwrite: boolean): string {
  return allowOverwrite ? REVALIDATE : IMMUTABLE;
}

export function nupkgMeta(lid: string, lv: string, allowOverwrite: boolean): BlobMeta {
  return {
    contentType: 'application/octet-stream',
    cacheControl: fileCacheControl(allowOverwrite),
    contentDisposition: `attachment; filename="${lid}.${lv}.nupkg"`,
  };
}

export function nuspecMeta(allowOverwrite: boolean): BlobMeta {
  return { contentType: 'application/xml; charset=utf-8', cacheControl: fileCacheControl(allowOverwrite) };
}
