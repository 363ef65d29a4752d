import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { badRequest } from '../errors.js';
import { withRepositorySigner } from '../signing/repository-signer.js';
import type { Feed } from './feed.js';
import { packageBlobKey } from './feed-scope.js';

export interface ResignProgress {
  /** Versions looked at. */
  readonly done: number;
  readonly total: number;
  /** Signed again with the current certificate. */
  readonly resigned: number;
  /** Already signed with it (an earlier, interrupted run did them, or they came in after the rotation). */
  readonly current: number;
  readonly failed: number;
}

export interface ResignResult extends ResignProgress {
  readonly failures: ReadonlyArray<{ readonly package: string; readonly reason: string }>;
}

/** A version's repository signature, from its stored metadata. */
function signatureOf(metadata: string): { sha256?: string; serviceIndex?: string } | undefined {
  return (JSON.parse(metadata) as { signature?: { repository?: { sha256?: string; serviceIndex?: string } } }).signature?.repository;
}

/**
 * `pawket resign`: every version of the feed not repository-signed with the current certificate (for this feed) is signed,
 * the way an overwrite stores a package: the new file first (a new key, beside the old one), then the row switches
 * to it (only if nobody changed the version meanwhile), then the old file goes. Resumable: versions already signed
 * with the current certificate are passed over, so an interrupted run continues where it stopped.
 */
export async function resignPackages(feed: Feed, onProgress?: (p: ResignProgress) => void): Promise<ResignResult> {
  const signing = feed.repositorySigning;
  if (!signing) throw badRequest('Repository signing is not configured (repositorySigningCertificate and an https baseUrl): there is nothing to sign with.');
  const fingerprint = signing.fingerprint;
  const total = await feed.db.countPackages();
  const failures: Array<{ package: string; reason: string }> = [];
  let done = 0;
  let resigned = 0;
  let current = 0;
  const report = () => onProgress?.({ done, total, resigned, current, failed: failures.length });
  for (let after: { lowerId: string; lowerVersion: string } | null = null; ; ) {
    const page = await feed.db.scanByIdentity(after, 100);
    if (page.length === 0) break;
    after = page.at(-1)!;
    for (const record of page) {
      done++;
      // Current: signed with this certificate for this feed (a version copied from another feed names that one).
      const signature = signatureOf(record.metadata);
      if (signature?.sha256 === fingerprint && signature.serviceIndex === signing.serviceIndexUrl) {
        current++;
        report();
        continue;
      }
      const display = `${record.id} ${record.fullVersion}`;
      const temp = join(feed.tempDir, `resign-${randomUUID()}.nupkg`);
      try {
        const content = await feed.blobs.open(record.blobKey);
        if (!content) throw new Error('its file is missing from storage');
        await pipeline(content.stream, createWriteStream(temp));
        const { upload, signer } = await signing.sign({ file: temp, size: record.size, sha512: record.sha512 }, record.id);
        const blobKey = packageBlobKey(feed.scope, record.lowerId, record.lowerVersion, upload.sha512);
        await feed.blobs.putFile(blobKey, temp);
        const switched = await feed.db.replacePackageFile(record.lowerId, record.lowerVersion, record.blobKey, {
          size: upload.size,
          sha512: upload.sha512,
          blobKey,
          metadata: withRepositorySigner(record.metadata, signer),
        });
        if (switched) {
          await feed.blobs.delete(record.blobKey);
          feed.events.packageChanged(record.lowerId);
          resigned++;
        } else {
          // Overwritten or deleted meanwhile: what replaced it was signed at its push; ours is not referenced.
          if (!(await feed.db.isBlobReferenced(blobKey))) await feed.blobs.delete(blobKey);
        }
      } catch (e) {
        failures.push({ package: display, reason: (e as Error).message });
      } finally {
        await rm(temp, { force: true });
      }
      report();
    }
  }
  return { done, total, resigned, current, failed: failures.length, failures };
}
