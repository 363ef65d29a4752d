import { rm } from 'node:fs/promises';
import type { BlobStore } from '../blobs/blob-store.js';
import type { PackageIdentity, PackageRecord, PromotedPackage } from '../db/database.js';
import type { NewSymbolPackage } from '../db/symbol-database.js';
import { PawketError, badRequest, notFound } from '../errors.js';
import { isValidPackageId, lowerId as toLowerId } from '../nuget/id.js';
import { identityKey } from '../nuget/identity.js';
import { parseVersion } from '../nuget/version.js';
import type { Principal } from './auth.js';
import type { Feed } from './feed.js';
import { packageBlobKey, symbolsBlobFolder } from './feed-scope.js';
import type { FeedHub } from './hub.js';
import { enforceQuota } from './quota.js';
import { spoolToTempFile, type SpooledFile } from './spool.js';

/** Most versions one promotion takes: one transaction, and the records held in memory while it runs. */
export const MAX_PROMOTION = 1000;

/** A package version to promote, as a person names it. */
export interface PromotionItem {
  readonly id: string;
  readonly version: string;
}

export interface PromotionRequest {
  /** Source and target feed names. */
  readonly from: string;
  readonly to: string;
  readonly packages: readonly PromotionItem[];
  /** Remove the versions from the source afterwards (a hard delete there). */
  readonly move?: boolean;
}

export interface PromotedVersion {
  readonly id: string;
  readonly version: string;
  readonly size: number;
  /** Base64 SHA-512 of the .nupkg: the same in both feeds. */
  readonly sha512: string;
  /** Whether its symbols package (and PDBs) came along. */
  readonly symbols: boolean;
}

export interface PromotionResult {
  readonly from: string;
  readonly to: string;
  readonly moved: boolean;
  readonly packages: readonly PromotedVersion[];
}

/** One version on its way: the source row, and its symbols when current. */
interface Candidate {
  readonly record: PackageRecord;
  readonly symbols: NewSymbolPackage | null;
}

/**
 * Promotes package versions from one feed to another (docs/FEEDS.md, Promotion): the exact bytes (the .nupkg, and the
 * symbols package and PDBs when there are any) under the target's rules, all of them or none.
 *
 * Everything that can refuse is checked before a byte is copied: each version is in the source (404) and not in the
 * target (409; a promotion never replaces), fits the target's maxPackageSize (413), the principal may create or push
 * to each id there (ownership and prefix reservations; admins may) and, with `move`, delete it from the source, and
 * the whole set fits the target's quota (403). Then the files are copied (hash-checked) under the target's keys and
 * every row is committed in one transaction (PackageDatabase.promotePackages), so consumers of the target see all of
 * the versions at once or none; a failure there removes the copied files. With `move`, the versions are then deleted
 * from the source. In the target a version is published at the promotion time (what its consumers see as new); its
 * listed state, deprecation and mirrored mark come along, its download count starts at zero.
 */
export async function promote(hub: FeedHub, request: PromotionRequest, principal: Principal): Promise<PromotionResult> {
  const from = await openFeedNamed(hub, request.from);
  const to = await openFeedNamed(hub, request.to);
  const [fromName, toName] = [from.scope.name, to.scope.name];
  if (from.scope.id === to.scope.id) throw badRequest(`Promoting from feed '${fromName}' to itself does nothing: name another target feed.`);
  if (from.definition.virtual) throw badRequest(`Feed '${fromName}' is a virtual feed (a view of other feeds): promote from the member feed that holds the packages.`);
  if (to.definition.virtual) throw badRequest(`Feed '${toName}' is a virtual feed (a view of other feeds) and holds no packages: promote into one of its member feeds.`);
  // A key acts on the feeds it is valid on: both of them (an admin key for some feeds only is an admin there).
  const target = `(promotion from ${fromName} to ${toName})`;
  await from.access.authorizeFeed(principal, 'promote.denied', target);
  await to.access.authorizeFeed(principal, 'promote.denied', target);
  const items = checkedItems(request.packages);

  const candidates = await sourceVersions(from, items);
  await refuseExisting(to, candidates);
  for (const { record } of candidates) {
    if (record.size > to.config.maxPackageSize) {
      throw new PawketError(
        413,
        `Package ${display(record)} is ${record.size} bytes: feed '${toName}' takes packages of at most ${to.config.maxPackageSize} bytes (maxPackageSize). Nothing was promoted.`,
      );
    }
  }
  for (const id of distinctIds(candidates)) {
    await authorizeTarget(to, principal, id);
    if (request.move) await from.access.authorizeUnlist(principal, id);
  }
  const bytes = candidates.reduce((sum, c) => sum + c.record.size, 0);
  const what = candidates.length === 1 ? `promoting ${display(candidates[0]!.record)}` : `promoting these ${candidates.length} packages`;
  await enforceQuota(to.db, quotaOf(to), { packages: candidates.length, bytes }, what);

  const published = new Date().toISOString();
  const copied = new CopiedFiles(to);
  try {
    const promoted: PromotedPackage[] = [];
    for (const c of candidates) promoted.push(await copyFiles(from, to, c, published, copied));
    const outcome = await to.db.promotePackages(from.scope.id, promoted);
    if (outcome.status === 'conflict') {
      throw new PawketError(409, `${names(outcome.identities, candidates)} ${outcome.identities.length === 1 ? 'was' : 'were'} added to feed '${toName}' meanwhile: nothing was promoted.`);
    }
    if (outcome.status === 'source-changed') {
      throw new PawketError(409, `${names(outcome.identities, candidates)} ${outcome.identities.length === 1 ? 'was' : 'were'} deleted or replaced in feed '${fromName}' meanwhile: nothing was promoted.`);
    }
  } catch (error) {
    await copied.removeUnreferenced().catch(() => {});
    throw error;
  }

  for (const id of distinctIds(candidates)) to.events.packageChanged(toLowerId(id));
  // An id may have been registered here with the source's owners: the verified marks of search follow.
  await to.ownership.reload();
  const detail = `from ${fromName} to ${toName}`;
  for (const { record } of candidates) await to.access.record(principal, 'promote', display(record), detail);
  if (request.move) await removeFromSource(from, candidates, principal, detail);
  else for (const { record } of candidates) await from.access.record(principal, 'promote', display(record), detail);

  return {
    from: fromName,
    to: toName,
    moved: request.move === true,
    packages: candidates.map(({ record, symbols }) => ({
      id: record.id,
      version: record.fullVersion,
      size: record.size,
      sha512: record.sha512,
      symbols: symbols !== null,
    })),
  };
}

async function openFeedNamed(hub: FeedHub, name: string): Promise<Feed> {
  const feed = await hub.feed(name);
  if (!feed) throw notFound(`There is no feed '${name.slice(0, 64)}' on this server: \`pawket feeds list\` shows the feeds.`);
  return feed;
}

/** Valid ids and versions, each identity once, at most MAX_PROMOTION. */
function checkedItems(packages: readonly PromotionItem[]): PromotionItem[] {
  if (packages.length === 0) throw badRequest('Name at least one package version to promote (an id and a version).');
  if (packages.length > MAX_PROMOTION) {
    throw badRequest(`At most ${MAX_PROMOTION} package versions can be promoted at once (got ${packages.length}): promote them in several calls.`);
  }
  const seen = new Set<string>();
  const items: PromotionItem[] = [];
  for (const p of packages) {
    if (!isValidPackageId(p.id)) throw badRequest(`'${p.id.slice(0, 120)}' is not a valid package id.`);
    const version = parseVersion(p.version);
    if (!version) throw badRequest(`'${p.version.slice(0, 120)}' is not a NuGet version (package ${p.id}).`);
    const key = identityKey(p.id, version);
    const k = `${key.lowerId} ${key.lowerVersion}`;
    if (seen.has(k)) continue;
    seen.add(k);
    items.push(p);
  }
  return items;
}

/** Each version's row in the source, with its current symbols; a 404 naming the ones that are not there. */
async function sourceVersions(from: Feed, items: readonly PromotionItem[]): Promise<Candidate[]> {
  const found: Candidate[] = [];
  const missing: string[] = [];
  for (const item of items) {
    const key = identityKey(item.id, parseVersion(item.version)!);
    const record = await from.db.getPackage(key.lowerId, key.lowerVersion);
    if (!record) missing.push(`${item.id} ${item.version}`);
    else found.push({ record, symbols: await from.symbols.storedSymbolsOf(record) });
  }
  if (missing.length > 0) {
    throw notFound(`${listed(missing)} ${missing.length === 1 ? 'is' : 'are'} not in feed '${from.scope.name}': nothing was promoted.`);
  }
  return found;
}

/** A promotion never replaces: a 409 naming the versions the target has already. */
async function refuseExisting(to: Feed, candidates: readonly Candidate[]): Promise<void> {
  const existing: string[] = [];
  for (const { record } of candidates) {
    if (await to.db.getPackage(record.lowerId, record.lowerVersion)) existing.push(display(record));
  }
  if (existing.length > 0) {
    throw new PawketError(
      409,
      `${listed(existing)} ${existing.length === 1 ? 'is' : 'are'} already in feed '${to.scope.name}' and a promotion never replaces a version: nothing was promoted.`,
    );
  }
}

/**
 * The target's rules for the principal, as a push of the id there would have them, without claiming the id (the
 * promotion registers it with the source's owners): admins may; others need the push scopes, and ownership of an
 * id the target has, or a prefix reservation there that is theirs (or none) for an id it has not.
 */
async function authorizeTarget(to: Feed, principal: Principal, id: string): Promise<void> {
  if (to.auth.isAdmin(principal)) return;
  const lowerId = toLowerId(id);
  const registration = await to.accessDb.registration(lowerId);
  const isNew = !registration.registered && !(await to.accessDb.hasPackages(lowerId));
  to.auth.authorizePush(principal, id, { isNew });
  const feed = `feed '${to.scope.name}'`;
  if (isNew) {
    const reservation = await to.ownership.governing(lowerId);
    if (reservation && reservation.owner !== principal.owner) {
      throw new PawketError(403, `Package id ${id} is under the prefix ${reservation.pattern} reserved for ${reservation.owner} in ${feed}; ${principal.owner} may not promote it there.`);
    }
  } else if (!registration.owners.includes(principal.owner)) {
    throw new PawketError(403, `Package id ${id} in ${feed} is owned by ${registration.owners.join(', ') || 'no one'}; ${principal.owner} may not promote it there.`);
  }
}

const quotaOf = (feed: Feed) => ({ feedName: feed.scope.name, quotaBytes: feed.config.quotaBytes, quotaPackages: feed.config.quotaPackages });

/** Files copied into the target so far, removed again (unless a row references them) when the promotion fails. */
class CopiedFiles {
  private readonly packages: string[] = [];
  private readonly symbols: string[] = [];

  constructor(private readonly to: Feed) {}

  package(key: string): void {
    this.packages.push(key);
  }

  symbol(key: string): void {
    this.symbols.push(key);
  }

  /**
   * A row may reference one of these keys: the same bytes promoted or pushed into the target by another writer, whose
   * file shares the key. Those stay.
   */
  async removeUnreferenced(): Promise<void> {
    for (const key of this.packages) if (!(await this.to.db.isBlobReferenced(key))) await this.to.blobs.delete(key);
    await this.to.symbols.deleteUnreferenced(this.symbols);
  }
}

/** Copies one version's files under the target's keys, checking they are the bytes the source recorded. */
async function copyFiles(from: Feed, to: Feed, c: Candidate, published: string, copied: CopiedFiles): Promise<PromotedPackage> {
  const { record } = c;
  const blobKey = packageBlobKey(to.scope, record.lowerId, record.lowerVersion, record.sha512);
  copied.package(blobKey);
  await copyBlob(from.blobs, to.blobs, record.blobKey, blobKey, to.tempDir, (s) =>
    s.sha512 === record.sha512 ? null : `the file of ${display(record)} in feed '${from.scope.name}' does not match its recorded SHA-512`,
  );
  let symbols: NewSymbolPackage | null = null;
  if (c.symbols) {
    const source = c.symbols;
    const folder = symbolsBlobFolder(to.scope, record.lowerId, record.lowerVersion, source.sha512);
    symbols = { ...source, blobKey: `${folder}.snupkg`, published, files: source.files.map((f, i) => ({ ...f, blobKey: `${folder}/${i}.pdb` })) };
    copied.symbol(symbols.blobKey);
    await copyBlob(from.blobs, to.blobs, source.blobKey, symbols.blobKey, to.tempDir, (s) =>
      s.sha512 === source.sha512 && s.size === source.size ? null : `the symbols package of ${display(record)} does not match its recorded SHA-512`,
    );
    for (const [i, file] of source.files.entries()) {
      const target = symbols.files[i]!.blobKey;
      copied.symbol(target);
      await copyBlob(from.blobs, to.blobs, file.blobKey, target, to.tempDir, (s) =>
        s.size === file.size ? null : `the PDB ${file.path} of ${display(record)} has ${s.size} bytes instead of the recorded ${file.size}`,
      );
    }
  }
  return { lowerId: record.lowerId, lowerVersion: record.lowerVersion, sha512: record.sha512, blobKey, published, symbols };
}

/** Streams a blob through a temporary file (hashed on the way), checks it and stores it under the target key. */
async function copyBlob(
  from: BlobStore,
  to: BlobStore,
  fromKey: string,
  toKey: string,
  tempDir: string,
  check: (s: SpooledFile) => string | null,
): Promise<void> {
  const content = await from.open(fromKey);
  if (!content) throw new PawketError(500, `The file ${fromKey} is missing from storage: nothing was promoted.`);
  const spooled = await spoolToTempFile(content.stream, tempDir);
  try {
    const problem = check(spooled);
    if (problem) throw new PawketError(500, `${problem}: nothing was promoted.`);
    await to.putFile(toKey, spooled.file);
  } finally {
    await rm(spooled.file, { force: true });
  }
}

/**
 * `--move`: each version is deleted from the source (a hard delete, whatever its delete mode: a move leaves no copy
 * behind), under the source's rules. The promotion has happened by then; a failure says so.
 */
async function removeFromSource(from: Feed, candidates: readonly Candidate[], principal: Principal, detail: string): Promise<void> {
  for (const { record } of candidates) {
    try {
      await from.manage.remove(record.id, record.version, principal, 'delete');
    } catch (error) {
      // Deleted by someone else meanwhile: gone, as asked.
      if (error instanceof PawketError && error.status === 404) continue;
      const why = error instanceof Error ? error.message : String(error);
      throw new PawketError(
        error instanceof PawketError ? error.status : 500,
        `The packages were promoted, but ${display(record)} could not be removed from feed '${from.scope.name}': ${why}`,
      );
    }
    await from.access.record(principal, 'promote', display(record), `${detail}, moved (deleted here)`);
  }
}

const display = (r: PackageRecord) => `${r.id} ${r.fullVersion}`;

/** Each id once, as first named (its lower-case form is `toLowerId(id)`). */
function distinctIds(candidates: readonly Candidate[]): string[] {
  const ids = new Map<string, string>();
  for (const { record } of candidates) if (!ids.has(record.lowerId)) ids.set(record.lowerId, record.id);
  return [...ids.values()];
}

/** A few names, then how many more: messages end up in a status line. */
function listed(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(', ');
  const more = names.length > 5 ? ` and ${names.length - 5} more` : '';
  return `${names.length === 1 ? 'Package' : 'Packages'} ${shown}${more}`;
}

function names(identities: readonly PackageIdentity[], candidates: readonly Candidate[]): string {
  return listed(
    identities.map((i) => {
      const c = candidates.find((x) => x.record.lowerId === i.lowerId && x.record.lowerVersion === i.lowerVersion);
      return c ? display(c.record) : `${i.lowerId} ${i.lowerVersion}`;
    }),
  );
}
