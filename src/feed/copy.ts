import { mkdir, rm } from 'node:fs/promises';
import type { BlobStore } from '../blobs/blob-store.js';
import type { AdvisoryDatabase } from '../db/advisory-database.js';
import type { NewPackage, PackageDatabase } from '../db/database.js';
import { spoolToTempFile } from './spool.js';

/** One side of a copy: a database and its blob store (and its deprecations and advisories, copied when both sides have them). */
export interface FeedStorage {
  readonly db: PackageDatabase;
  readonly blobs: BlobStore;
  readonly advisoryDb?: AdvisoryDatabase;
}

export interface CopyProgress {
  readonly total: number;
  readonly done: number;
  readonly copied: number;
  readonly skipped: number;
}

export interface CopyResult extends CopyProgress {
  /** Deprecated versions and vulnerability advisories written at the target. */
  readonly advisories: number;
  /** Packages that could not be copied, with the reason (hash mismatch, missing file, a different package at the target). */
  readonly failed: ReadonlyArray<{ readonly id: string; readonly version: string; readonly reason: string }>;
}

const PAGE = 200;

/**
 * Copies every package (row, nuspec and file) from one feed storage to another, verifying each file's SHA-512.
 * Resumable: packages already at the target with the same hash are skipped, so a second run continues where an
 * interrupted one stopped. The row is written after the file, as a push does, with its mirrored mark (`mirroredFrom`,
 * read by `scanPackages`), so a mirrored package stays marked in the target.
 */
export async function copyFeed(
  from: FeedStorage,
  to: FeedStorage,
  tempDir: string,
  onProgress: (p: CopyProgress) => void = () => {},
): Promise<CopyResult> {
  await mkdir(tempDir, { recursive: true });
  const total = await from.db.countPackages();
  const failed: Array<{ id: string; version: string; reason: string }> = [];
  let done = 0;
  let copied = 0;
  let skipped = 0;
  let cursor = 0;
  for (;;) {
    const page = await from.db.scanPackages(cursor, PAGE);
    if (page.records.length === 0) break;
    cursor = page.cursor;
    for (const pkg of page.records) {
      const outcome = await copyOne(pkg, from, to, tempDir).catch((e: Error) => e.message);
      if (outcome === 'copied') copied++;
      else if (outcome === 'skipped') skipped++;
      else failed.push({ id: pkg.id, version: pkg.fullVersion, reason: outcome });
      onProgress({ total, done: ++done, copied, skipped });
    }
  }
  const advisories = from.advisoryDb && to.advisoryDb ? await copyAdvisories(from.advisoryDb, to.advisoryDb) : 0;
  return { total, done, copied, skipped, failed, advisories };
}

/** After the packages (a deprecation belongs to a version there): setting them again is harmless, so this resumes too. */
async function copyAdvisories(from: AdvisoryDatabase, to: AdvisoryDatabase): Promise<number> {
  let written = 0;
  for (const d of await from.allDeprecations()) written += await to.setDeprecation(d.lowerId, [d.lowerVersion], d.deprecation);
  for (const v of await from.vulnerabilities()) {
    await to.putVulnerability(v.lowerId, { url: v.url, severity: v.severity, versions: v.versions });
    written++;
  }
  return written;
}

async function copyOne(pkg: NewPackage, from: FeedStorage, to: FeedStorage, tempDir: string): Promise<'copied' | 'skipped'> {
  const existing = await to.db.getPackage(pkg.lowerId, pkg.lowerVersion);
  if (existing) {
    if (existing.sha512 === pkg.sha512) return 'skipped';
    throw new Error(`a different package ${existing.id} ${existing.fullVersion} is already at the target`);
  }
  const content = await from.blobs.open(pkg.blobKey);
  if (!content) throw new Error(`its file ${pkg.blobKey} is missing from the source storage`);
  const spooled = await spoolToTempFile(content.stream, tempDir);
  try {
    if (spooled.sha512 !== pkg.sha512) {
      throw new Error(`its file does not match the recorded SHA-512 (${spooled.sha512.slice(0, 12)}... vs ${pkg.sha512.slice(0, 12)}...)`);
    }
    await to.blobs.putFile(pkg.blobKey, spooled.file);
  } finally {
    await rm(spooled.file, { force: true });
  }
  if (!(await to.db.insertPackage(pkg))) throw new Error('another writer added it to the target during the copy');
  return 'copied';
}
