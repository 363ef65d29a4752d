import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobContent, BlobStore } from '../blobs/blob-store.js';
import type { PackageDatabase, PackageRecord } from '../db/database.js';
import type { NewSymbolPackage, SymbolDatabase, SymbolFileRecord, SymbolPackageRecord } from '../db/symbol-database.js';
import { PawketError, badRequest } from '../errors.js';
import { toLowerInvariant } from '../nuget/id.js';
import { identityKey } from '../nuget/identity.js';
import { fullVersion } from '../nuget/version.js';
import type { SymbolPackage, SymbolPackageLimits } from '../package/read-symbols.js';
import type { AuditAction } from './audit.js';
import type { Actor, Principal } from './auth.js';
import type { ReceivedUpload } from './publish.js';
import { copyPackageToTemp } from './package-file-copy.js';
import { symbolsBlobFolder, type FeedScope } from './feed-scope.js';

/** A PDB taken out of a symbols package into a temporary file, with the row that will point to its stored copy. */
export interface ExtractedPdb {
  readonly file: string;
  readonly record: SymbolFileRecord;
}

/**
 * Checks every PDB of a symbols package against the package's assemblies (400 when one does not match) and writes
 * each to a temporary file under `tempDir`, named for its blob key under `prefix`. Adds to `into` as it goes, so the
 * caller removes the temporary files even when a later PDB fails.
 */
export async function extractPdbs(snupkg: SymbolPackage, nupkgFile: string, prefix: string, tempDir: string, into: ExtractedPdb[]): Promise<void> {
  for await (const pdb of snupkg.matchPdbs(nupkgFile)) {
    const file = join(tempDir, `${randomUUID()}.pdb`);
    into.push({ file, record: { path: pdb.path, ssqpKey: pdb.ssqpKey, size: pdb.bytes.length, blobKey: `${prefix}/${into.length}.pdb`, checksums: pdb.checksums } });
    await writeFile(file, pdb.bytes, { flag: 'wx' });
  }
}

/** The access checks a symbols push needs: the same as a push of a package whose id exists already. */
export interface SymbolGuard {
  /** 403 naming the id when the principal may not push to it. */
  authorizePushToExisting(principal: Principal, id: string): Promise<void>;
  record(actor: Actor, action: AuditAction, target: string, detail?: string | null): Promise<void>;
}

export interface SymbolOptions {
  readonly allowOverwrite: boolean;
  readonly limits: SymbolPackageLimits;
  /** The feed the symbols are stored in (their files' key prefix). */
  readonly scope: FeedScope;
  /** Where the package file is downloaded and the PDBs are staged while a push is checked. */
  readonly tempDir: string;
}

export interface SymbolPublishResult {
  readonly id: string;
  readonly version: string;
  readonly pdbs: number;
  readonly replaced: boolean;
}

/** What the symbol server found for a key. */
export type PdbLookup =
  | { readonly status: 'found'; readonly file: SymbolFileRecord }
  | { readonly status: 'not-found' }
  /** PDBs with this key exist, but none has a checksum the client asked for (header `SymbolChecksum`). */
  | { readonly status: 'checksum-mismatch' };

/** Several versions may carry one build's PDB; any of them answers, so a few rows are plenty. */
const LOOKUP_LIMIT = 16;

/**
 * Symbols: push of symbols packages (`.snupkg`) checked against their package, the symbol server's lookups by
 * Simple Symbol Query Protocol key, and the `.snupkg` download.
 *
 * A push writes the PDBs and the `.snupkg` to blob storage first and then commits the rows, as a package push does;
 * a crash in between leaves files nothing points to, removed by the orphan sweep.
 */
export class SymbolService {
  constructor(
    private readonly db: PackageDatabase,
    private readonly symbols: SymbolDatabase,
    private readonly blobs: BlobStore,
    private readonly guard: SymbolGuard,
    private readonly options: SymbolOptions,
  ) {}

  async publish(upload: ReceivedUpload, principal: Principal): Promise<SymbolPublishResult> {
    try {
      return await this.store(upload, principal);
    } finally {
      await rm(upload.file, { force: true });
    }
  }

  private async store(upload: ReceivedUpload, principal: Principal): Promise<SymbolPublishResult> {
    // Loaded with the first symbols push, not at start-up (see publish.ts).
    const { openSymbolPackage } = await import('../package/read-symbols.js');
    const snupkg = await openSymbolPackage(upload.file, this.options.limits);
    const staged: ExtractedPdb[] = [];
    try {
      const key = identityKey(snupkg.id, snupkg.version);
      const display = `${snupkg.id} ${fullVersion(snupkg.version)}`;
      const pkg = await this.db.getPackage(key.lowerId, key.lowerVersion);
      if (!pkg) {
        throw badRequest(`Package ${display} is not on this feed: push its .nupkg before its symbols package (.snupkg).`);
      }
      await this.guard.authorizePushToExisting(principal, pkg.id);
      const existing = await this.symbols.getSymbolPackage(key.lowerId, key.lowerVersion);
      // Symbols checked against a file the package no longer has (it was overwritten) are no obstacle.
      const current = existing !== null && existing.packageSha512 === pkg.sha512;
      if (current && !this.options.allowOverwrite) throw conflict(display);

      const prefix = symbolsBlobFolder(this.options.scope, key.lowerId, key.lowerVersion, upload.sha512);
      const nupkgFile = await this.download(pkg);
      try {
        await extractPdbs(snupkg, nupkgFile, prefix, this.options.tempDir, staged);
      } finally {
        await rm(nupkgFile, { force: true });
      }
      snupkg.close();

      const blobKey = `${prefix}.snupkg`;
      const ours = [blobKey, ...staged.map((s) => s.record.blobKey)];
      // Files stored, then the rows; when either fails (a full disk), the files stored so far go at once rather than
      // at the next orphan sweep (unless a row points to them: the same bytes pushed before).
      const storeAll = async () => {
        for (const { file, record } of staged) await this.blobs.putFile(record.blobKey, file);
        await this.blobs.putFile(blobKey, upload.file);
        const record = {
          lowerId: key.lowerId,
          lowerVersion: key.lowerVersion,
          size: upload.size,
          sha512: upload.sha512,
          blobKey,
          published: new Date().toISOString(),
          packageSha512: pkg.sha512,
          files: staged.map((s) => s.record),
        };
        return this.symbols.putSymbolPackage(record, this.options.allowOverwrite || !current);
      };
      const outcome = await storeAll().catch(async (error: unknown) => {
        await this.deleteUnreferenced(ours).catch(() => {});
        throw error;
      });
      if (outcome.status !== 'inserted' && outcome.status !== 'replaced') {
        // Another push won, or the package changed under us: our files may share keys with the winner's (same bytes).
        await this.deleteUnreferenced(ours);
        if (outcome.status === 'exists') throw conflict(display);
        if (outcome.status === 'no-package') throw badRequest(`Package ${display} was deleted while its symbols were being pushed.`);
        throw new PawketError(409, `Package ${display} was replaced while its symbols were being pushed: push the symbols package of the new build.`);
      }
      if (outcome.status === 'replaced') await this.deleteUnreferenced(outcome.previousBlobKeys);
      const version = pkg.fullVersion;
      await this.guard.record(principal, 'symbols.push', `${pkg.id} ${version}`, `${staged.length} PDB${staged.length === 1 ? '' : 's'}`);
      return { id: pkg.id, version, pdbs: staged.length, replaced: outcome.status === 'replaced' };
    } finally {
      snupkg.close();
      await Promise.all(staged.map((s) => rm(s.file, { force: true })));
    }
  }

  /** The package file, copied from blob storage to a temporary file (zip reading needs a file). */
  private async download(pkg: PackageRecord): Promise<string> {
    return copyPackageToTemp(this.blobs, pkg.blobKey, this.options.tempDir, `package ${pkg.id} ${pkg.fullVersion}`);
  }

  /**
   * The symbol server: the PDB stored under `{file}/{key}/{file2}` (compared case-insensitively). When the client
   * sends `SymbolChecksum` (`SHA256:hex;...`, as Visual Studio and dotnet-symbol do), a PDB whose assembly recorded
   * checksums is served only if one of them is among those asked for.
   */
  async findPdb(file: string, key: string, file2: string, checksumHeader?: string): Promise<PdbLookup> {
    const fileName = toLowerInvariant(file);
    if (fileName !== toLowerInvariant(file2)) return { status: 'not-found' };
    const rows = await this.symbols.findSymbolFiles(`${fileName}/${toLowerInvariant(key)}/${fileName}`, LOOKUP_LIMIT);
    const [first] = rows;
    if (!first) return { status: 'not-found' };
    const wanted = new Set((checksumHeader ?? '').split(';').map((c) => c.trim().toLowerCase()).filter((c) => c.length > 0));
    if (wanted.size === 0) return { status: 'found', file: first };
    const match = rows.find((r) => r.checksums.length === 0 || r.checksums.some((c) => wanted.has(c)));
    return match ? { status: 'found', file: match } : { status: 'checksum-mismatch' };
  }

  /** The symbols package of a package version, unless there is none or it belongs to a file the package replaced. */
  async symbolPackageOf(pkg: PackageRecord): Promise<SymbolPackageRecord | null> {
    const record = await this.symbols.getSymbolPackage(pkg.lowerId, pkg.lowerVersion);
    return record && record.packageSha512 === pkg.sha512 ? record : null;
  }

  /** The same with its PDBs, as stored (promotion copies them); null under the same conditions. */
  async storedSymbolsOf(pkg: PackageRecord): Promise<NewSymbolPackage | null> {
    const record = await this.symbols.getSymbolPackageWithFiles(pkg.lowerId, pkg.lowerVersion);
    return record && record.packageSha512 === pkg.sha512 ? record : null;
  }

  open(blobKey: string): Promise<BlobContent | null> {
    return this.blobs.open(blobKey);
  }

  /** Where the client may fetch a file directly (a presigned object-store URL), when storage is set up for it. */
  async redirectUrl(blobKey: string): Promise<string | null> {
    return (await this.blobs.redirectUrl?.(blobKey)) ?? null;
  }

  /** Blob keys of a version's symbols; read them before a hard delete and remove them after with {@link deleteUnreferenced}. */
  blobKeysOf(lowerId: string, lowerVersion: string): Promise<string[]> {
    return this.symbols.symbolBlobKeys(lowerId, lowerVersion);
  }

  /** Removes the blobs no symbols row references (any more). */
  async deleteUnreferenced(blobKeys: readonly string[]): Promise<void> {
    for (const blobKey of new Set(blobKeys)) {
      if (!(await this.symbols.isSymbolBlobReferenced(blobKey))) await this.blobs.delete(blobKey);
    }
  }
}

const conflict = (display: string) =>
  new PawketError(409, `Symbols for package ${display} already exist and cannot be modified. Push a new version of the package instead.`);
