import { mkdir, rm } from 'node:fs/promises';
import type { BlobStore } from '../blobs/blob-store.js';
import type { AccessDatabase, AuditEntry } from '../db/access-database.js';
import type { AdvisoryDatabase } from '../db/advisory-database.js';
import type { NewPackage, PackageDatabase } from '../db/database.js';
import type { FeedDatabase, FeedRecord } from '../db/feed-database.js';
import type { SignerPolicyDatabase } from '../db/signer-policy-database.js';
import type { NewSymbolPackage, SymbolDatabase } from '../db/symbol-database.js';
import { PawketError } from '../errors.js';
import { spoolToTempFile, type SpooledFile } from './spool.js';

/**
 * One feed's rows on one side of a copy: its packages and the stores beside them (deprecations and advisories; owners
 * and prefixes; symbols; signer policies), each copied when both sides have it, and the blob store (the server's, keys carry the feed).
 */
export interface FeedStorage {
  readonly db: PackageDatabase;
  readonly blobs: BlobStore;
  readonly advisoryDb?: AdvisoryDatabase;
  readonly accessDb?: AccessDatabase;
  readonly symbolDb?: SymbolDatabase;
  readonly signerDb?: SignerPolicyDatabase;
}

/** One side of a copy of a whole server: its feed definitions, what the feeds share (keys, audit log, files), each feed's rows. */
export interface ServerStorage {
  readonly feedDb: FeedDatabase;
  /** Keys and the audit log are the server's (an audit entry names its feed), whichever feed this store is of. */
  readonly accessDb: AccessDatabase;
  readonly blobs: BlobStore;
  /** The stores of one feed's rows. */
  feed(id: number): FeedStorage;
}

export interface CopyProgress {
  readonly total: number;
  readonly done: number;
  readonly copied: number;
  readonly skipped: number;
}

/** A package version (or its symbols) that could not be copied, with the reason. */
export interface CopyFailure {
  readonly id: string;
  readonly version: string;
  readonly reason: string;
}

/** A feed's owners and prefixes that the target did not have yet. */
export interface OwnershipCopyResult {
  readonly registrations: number;
  readonly prefixes: number;
}

export interface SymbolsCopyResult {
  readonly total: number;
  readonly copied: number;
  readonly skipped: number;
  readonly failed: readonly CopyFailure[];
}

/** What copying one feed's content did. */
export interface CopyResult extends CopyProgress {
  /** Deprecated versions and vulnerability advisories written at the target. */
  readonly advisories: number;
  /** Packages that could not be copied, with the reason (hash mismatch, missing file, a different package at the target). */
  readonly failed: readonly CopyFailure[];
  readonly ownership: OwnershipCopyResult;
  readonly symbols: SymbolsCopyResult;
  /** Versions whose download total was set at the target. */
  readonly downloadCounts: number;
  /** Trusted-signer policies added at the target (those it has by name are left as they are). */
  readonly signerPolicies: number;
}

/** Feed definitions at the target: added (with their ids), brought up to date, or already as at the source. */
export interface DefinitionsCopyResult {
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
}

export interface ServerCopyResult {
  readonly definitions: DefinitionsCopyResult;
  /** API keys written as stored (each one, every run: a key revoked or used at the source since is brought up to date). */
  readonly keys: number;
  /** Audit log entries the target did not have. */
  readonly auditEntries: number;
  /** Each feed that holds packages (virtual feeds hold none), in id order. */
  readonly feeds: ReadonlyArray<{ readonly id: number; readonly name: string; readonly result: CopyResult }>;
  /** Whether every package and symbols package of every feed arrived. */
  readonly complete: boolean;
}

const PAGE = 200;

/**
 * Copies a whole server from one storage to another: every feed definition (same ids, names, settings and members),
 * the API keys, each feed's content ({@link copyFeed}) and the audit log. Resumable and idempotent as copyFeed is. A
 * target whose feeds disagree with the source's (an id with another name, a name with another id) is refused before
 * anything is copied: the ids are in blob keys and in keys' feed lists, so they cannot be renumbered.
 */
export async function copyServer(
  from: ServerStorage,
  to: ServerStorage,
  tempDir: string,
  onProgress: (feed: string, p: CopyProgress) => void = () => {},
): Promise<ServerCopyResult> {
  const sources = await from.feedDb.listFeeds();
  const definitions = await copyDefinitions(sources, to.feedDb);
  const keys = await copyKeys(from.accessDb, to.accessDb);
  const feeds: Array<{ id: number; name: string; result: CopyResult }> = [];
  for (const feed of sources) {
    if (feed.members !== null) continue;
    const result = await copyFeed(from.feed(feed.id), to.feed(feed.id), tempDir, (p) => onProgress(feed.name, p));
    feeds.push({ id: feed.id, name: feed.name, result });
  }
  // Entries refer to keys and packages: after them, as in a single feed's copy.
  const auditEntries = await copyAuditLog(from.accessDb, to.accessDb);
  const complete = feeds.every((f) => f.result.failed.length === 0 && f.result.symbols.failed.length === 0);
  return { definitions, keys, auditEntries, feeds, complete };
}

async function copyDefinitions(sources: readonly FeedRecord[], to: FeedDatabase): Promise<DefinitionsCopyResult> {
  const targets = await to.listFeeds();
  for (const source of sources) {
    const byId = targets.find((t) => t.id === source.id);
    const byName = targets.find((t) => t.name.toLowerCase() === source.name.toLowerCase());
    if ((byId || byName) && byId !== byName) {
      const other = byId ?? byName!;
      throw new PawketError(
        409,
        `The target has feed '${other.name}' (id ${other.id}) where the source has '${source.name}' (id ${source.id}): ` +
          'feeds keep their ids in a copy, so copy into a new database (or delete that feed at the target).',
      );
    }
  }
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  for (const source of sources) {
    const target = targets.find((t) => t.id === source.id);
    if (!target) {
      if (!(await to.insertFeed(source))) throw new Error(`another writer added feed ${source.id} or '${source.name}' to the target during the copy`);
      created++;
    } else if (sameDefinition(source, target)) {
      unchanged++;
    } else {
      await to.updateFeed({ ...target, description: source.description, settings: source.settings, members: source.members });
      updated++;
    }
  }
  return { created, updated, unchanged };
}

const sameDefinition = (a: FeedRecord, b: FeedRecord) =>
  a.description === b.description && JSON.stringify(a.settings) === JSON.stringify(b.settings) && JSON.stringify(a.members) === JSON.stringify(b.members);

/**
 * Copies one feed's content from one storage to another: every package (row, nuspec and file, verifying each file's
 * SHA-512), then deprecations and advisories, symbols, owners, prefixes and download counts.
 * Resumable and idempotent: what is at the target already is skipped (or written again with the same values), so a
 * second run continues where an interrupted one stopped and a run after a complete one changes nothing. The package row
 * is written after the file, as a push does, with its mirrored mark (`mirroredFrom`, read by `scanPackages`), so a
 * mirrored package stays marked in the target.
 */
export async function copyFeed(
  from: FeedStorage,
  to: FeedStorage,
  tempDir: string,
  onProgress: (p: CopyProgress) => void = () => {},
): Promise<CopyResult> {
  await mkdir(tempDir, { recursive: true });
  const packages = await copyPackages(from, to, tempDir, onProgress);
  // Everything below refers to package versions, so it follows the packages.
  const advisories = from.advisoryDb && to.advisoryDb ? await copyAdvisories(from.advisoryDb, to.advisoryDb) : 0;
  const symbols = from.symbolDb && to.symbolDb ? await copySymbols(from, to, from.symbolDb, to.symbolDb, tempDir) : NO_SYMBOLS;
  const ownership = from.accessDb && to.accessDb ? await copyOwnership(from.accessDb, to.accessDb) : NO_OWNERSHIP;
  const downloadCounts = await copyDownloadCounts(from.db, to.db);
  const signerPolicies = from.signerDb && to.signerDb ? await copySignerPolicies(from.signerDb, to.signerDb) : 0;
  return { ...packages, advisories, symbols, ownership, downloadCounts, signerPolicies };
}

/** A feed's signer policies: a target that lacks them would take packages its source refuses. */
async function copySignerPolicies(from: SignerPolicyDatabase, to: SignerPolicyDatabase): Promise<number> {
  let added = 0;
  for (const { policyId: _policyId, ...policy } of await from.listPolicies()) if (await to.createPolicy(policy)) added++;
  return added;
}

const NO_SYMBOLS: SymbolsCopyResult = { total: 0, copied: 0, skipped: 0, failed: [] };
const NO_OWNERSHIP: OwnershipCopyResult = { registrations: 0, prefixes: 0 };

async function copyPackages(
  from: FeedStorage,
  to: FeedStorage,
  tempDir: string,
  onProgress: (p: CopyProgress) => void,
): Promise<CopyProgress & { failed: CopyFailure[] }> {
  const total = await from.db.countPackages();
  const failed: CopyFailure[] = [];
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
  return { total, done, copied, skipped, failed };
}

async function copyOne(pkg: NewPackage, from: FeedStorage, to: FeedStorage, tempDir: string): Promise<'copied' | 'skipped'> {
  const existing = await to.db.getPackage(pkg.lowerId, pkg.lowerVersion);
  if (existing) {
    if (existing.sha512 === pkg.sha512) return 'skipped';
    throw new Error(`a different package ${existing.id} ${existing.fullVersion} is already at the target`);
  }
  await copyBlob(from.blobs, to.blobs, pkg.blobKey, tempDir, (s) =>
    s.sha512 === pkg.sha512 ? null : `its file does not match the recorded SHA-512 (${s.sha512.slice(0, 12)}... vs ${pkg.sha512.slice(0, 12)}...)`,
  );
  if (!(await to.db.insertPackage(pkg))) throw new Error('another writer added it to the target during the copy');
  return 'copied';
}

/** Streams one blob to a temporary file, checks it (`check` returns what is wrong, or null) and stores it under the same key. */
async function copyBlob(from: BlobStore, to: BlobStore, blobKey: string, tempDir: string, check: (s: SpooledFile) => string | null): Promise<void> {
  const content = await from.open(blobKey);
  if (!content) throw new Error(`its file ${blobKey} is missing from the source storage`);
  const spooled = await spoolToTempFile(content.stream, tempDir);
  try {
    const problem = check(spooled);
    if (problem) throw new Error(problem);
    await to.putFile(blobKey, spooled.file);
  } finally {
    await rm(spooled.file, { force: true });
  }
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

/** Symbols packages and their PDBs, under the same blob keys, each row referring to its package version at the target. */
async function copySymbols(from: FeedStorage, to: FeedStorage, fromDb: SymbolDatabase, toDb: SymbolDatabase, tempDir: string): Promise<SymbolsCopyResult> {
  const failed: CopyFailure[] = [];
  let total = 0;
  let copied = 0;
  let skipped = 0;
  for (let cursor = 0; ; ) {
    const page = await fromDb.scanSymbolPackages(cursor, PAGE);
    if (page.records.length === 0) break;
    cursor = page.cursor;
    for (const symbols of page.records) {
      total++;
      const outcome = await copyOneSymbols(symbols, from, to, toDb, tempDir).catch((e: Error) => e.message);
      if (outcome === 'copied') copied++;
      else if (outcome === 'skipped') skipped++;
      else failed.push({ id: symbols.lowerId, version: symbols.lowerVersion, reason: outcome });
    }
  }
  return { total, copied, skipped, failed };
}

async function copyOneSymbols(symbols: NewSymbolPackage, from: FeedStorage, to: FeedStorage, toDb: SymbolDatabase, tempDir: string): Promise<'copied' | 'skipped'> {
  const existing = await toDb.getSymbolPackage(symbols.lowerId, symbols.lowerVersion);
  if (existing) {
    if (existing.sha512 === symbols.sha512) return 'skipped';
    throw new Error('different symbols are already at the target');
  }
  // Checked before the files are written, so a package that failed to copy leaves no symbols files behind.
  if (!(await to.db.getPackage(symbols.lowerId, symbols.lowerVersion))) throw new Error('its package version is not at the target');
  await copyBlob(from.blobs, to.blobs, symbols.blobKey, tempDir, (s) =>
    s.sha512 === symbols.sha512 && s.size === symbols.size ? null : 'its .snupkg does not match the recorded SHA-512',
  );
  // Only a PDB's size is recorded (its checksums are of the PDB with its id zeroed, as the assembly records them).
  for (const pdb of symbols.files) {
    await copyBlob(from.blobs, to.blobs, pdb.blobKey, tempDir, (s) =>
      s.size === pdb.size ? null : `its PDB ${pdb.path} has ${s.size} bytes instead of the recorded ${pdb.size}`,
    );
  }
  const outcome = await toDb.copySymbolPackage(symbols);
  if (outcome === 'no-package') throw new Error('its package version was deleted from the target during the copy');
  return outcome === 'inserted' ? 'copied' : 'skipped';
}

/** Registrations and owners, then prefix reservations: the feed's own. */
async function copyOwnership(from: AccessDatabase, to: AccessDatabase): Promise<OwnershipCopyResult> {
  return { registrations: await copyRegistrations(from, to), prefixes: await copyPrefixes(from, to) };
}

/**
 * Hashes, feed lists and all: the keys keep working at the target, on the same feeds (ids are kept). Overwriting makes
 * a second run pick up revocations and use.
 */
async function copyKeys(from: AccessDatabase, to: AccessDatabase): Promise<number> {
  const keys = await from.listStoredKeys();
  for (const key of keys) await to.putKey(key);
  return keys.length;
}

/** Adds what the target lacks (owners given at the target are kept), so a second run changes nothing. */
async function copyRegistrations(from: AccessDatabase, to: AccessDatabase): Promise<number> {
  let changed = 0;
  for (const registration of await from.listRegistrations()) if (await to.copyRegistration(registration)) changed++;
  return changed;
}

/** A pattern reserved at the target already (by anyone) stays as it is. */
async function copyPrefixes(from: AccessDatabase, to: AccessDatabase): Promise<number> {
  let reserved = 0;
  for (const reservation of await from.listPrefixes()) if (await to.reservePrefix(reservation)) reserved++;
  return reserved;
}

/**
 * Appends, oldest first and each in its feed, the source's entries the target does not have: an entry counts as there
 * when one with the same fields (seq aside; sequence numbers are the target's own) is, as many times as the source has it.
 */
async function copyAuditLog(from: AccessDatabase, to: AccessDatabase): Promise<number> {
  const atTarget = new Map<string, number>();
  for await (const entry of scanAudit(to)) {
    const key = auditKey(entry);
    atTarget.set(key, (atTarget.get(key) ?? 0) + 1);
  }
  let appended = 0;
  let missing: Array<Omit<AuditEntry, 'seq'>> = [];
  for await (const { seq: _seq, ...entry } of scanAudit(from)) {
    const key = auditKey(entry);
    const there = atTarget.get(key) ?? 0;
    if (there > 0) atTarget.set(key, there - 1);
    else missing.push(entry);
    if (missing.length >= PAGE) {
      await to.appendAuditEntries(missing);
      appended += missing.length;
      missing = [];
    }
  }
  await to.appendAuditEntries(missing);
  return appended + missing.length;
}

async function* scanAudit(db: AccessDatabase): AsyncGenerator<AuditEntry> {
  for (let after = 0; ; ) {
    const page = await db.scanAudit(after, PAGE);
    const last = page.at(-1);
    if (!last) return;
    after = last.seq;
    yield* page;
  }
}

const auditKey = (e: Omit<AuditEntry, 'seq'>): string =>
  JSON.stringify([e.feedId, e.at, e.keyId, e.actor, e.owner, e.action, e.target, e.detail, e.address]);

/**
 * The target's totals are set to the source's, not added to: a second run does not double them and brings the
 * latest totals. Downloads counted at the target before the last run are overwritten, so switch over after it.
 */
async function copyDownloadCounts(from: PackageDatabase, to: PackageDatabase): Promise<number> {
  const counts = await from.listDownloadCounts();
  await to.setDownloadCounts(counts);
  return counts.length;
}
