import { DEFAULT_FEED_ID, DEFAULT_FEED_NAME } from '../db/feed-migrations.js';

/** Which feed a use case works in: its rows carry `id`, its files' keys start with `blobPrefix`. */
export interface FeedScope {
  readonly id: number;
  /** As created (case kept); URLs match it case-insensitively. */
  readonly name: string;
  /** `''` for the default feed (its keys are those written before feeds existed), `feeds/{id}/` for the others. */
  readonly blobPrefix: string;
}

export function feedScope(id: number, name: string): FeedScope {
  return { id, name, blobPrefix: id === DEFAULT_FEED_ID ? '' : `feeds/${id}/` };
}

export const DEFAULT_FEED_SCOPE = feedScope(DEFAULT_FEED_ID, DEFAULT_FEED_NAME);

/** The first 16 hex digits of a package's SHA-512: an overwrite stores its file beside the old one until the row switches. */
function hashPart(sha512: string): string {
  return Buffer.from(sha512, 'base64').toString('hex').slice(0, 16);
}

/** Where a package file is stored: `[feeds/{id}/]packages/{lower id}/{lower version}/{hash}.nupkg`. */
export function packageBlobKey(scope: FeedScope, lowerId: string, lowerVersion: string, sha512: string): string {
  return `${scope.blobPrefix}packages/${lowerId}/${lowerVersion}/${hashPart(sha512)}.nupkg`;
}

/** The folder of a symbols package's files (the .snupkg and its PDBs), named by the .snupkg's hash. */
export function symbolsBlobFolder(scope: FeedScope, lowerId: string, lowerVersion: string, sha512: string): string {
  return `${scope.blobPrefix}symbols/${lowerId}/${lowerVersion}/${hashPart(sha512)}`;
}
