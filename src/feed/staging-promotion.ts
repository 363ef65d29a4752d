import { rm } from 'node:fs/promises';
import type { BlobStore } from '../blobs/blob-store.js';
import type { PackageIdentity } from '../db/database.js';
import type { NewSymbolPackage } from '../db/symbol-database.js';
import type { PromotedStagedPackage, StagedArtifactRecord, StagingDatabase, StagingGroupRecord } from '../db/staging-database.js';
import { isPrerelease, parseVersion } from '../nuget/version.js';
import type { SymbolPackageLimits } from '../package/read-symbols.js';
import type { PackageAccess } from './access.js';
import type { Principal } from './auth.js';
import type { FeedEvents } from './events.js';
import { copyPackageToTemp } from './package-file-copy.js';
import type { ReadFence } from './read-fence.js';
import { StagingError, artifactBlockers } from './staging.js';
import type { StoredMetadata } from './stored-metadata.js';
import { extractPdbs, type ExtractedPdb } from './symbols.js';
import type { FeedNotifier } from './webhook-events.js';

/** What a promotion made visible. */
export interface PromotionView {
  /** The group promoted (gone now), or null for one package. */
  readonly group: { readonly id: string; readonly name: string; readonly owner: string } | null;
  readonly packages: readonly { readonly id: string; readonly version: string; readonly symbols: boolean }[];
  /** When they became visible: their published time. */
  readonly published: string;
}

export interface PromotionDeps {
  readonly staging: StagingDatabase;
  readonly blobs: BlobStore;
  readonly access: Pick<PackageAccess, 'authorizePromote' | 'record'>;
  readonly events: FeedEvents;
  /** Null in processes that serve no reads (tools): they still commit atomically. */
  readonly fence: ReadFence | null;
  readonly notifier?: FeedNotifier;
  /** Removes stored PDBs no symbols row references (a promotion that did not commit). */
  readonly deleteUnreferencedSymbols: (blobKeys: readonly string[]) => Promise<void>;
  readonly symbolLimits: SymbolPackageLimits;
  readonly tempDir: string;
  readonly onWarning: (message: string) => void;
  readonly now: () => Date;
}

/**
 * Promotes staged packages (one, or a group's) into the feed (docs/STAGING.md, Promotion): everything that can refuse
 * is checked first (blockers, the rights of a push of every id), the symbols' PDBs are stored, then a read fence is
 * raised so that every node sees the commit at once, and one transaction turns every staged row into a package row.
 * Nothing is visible until then; after it, all of them are, with the same published time.
 */
export async function promoteStagedPackages(
  deps: PromotionDeps,
  principal: Principal,
  members: readonly StagedArtifactRecord[],
  group: StagingGroupRecord | null,
): Promise<PromotionView> {
  const packages = members.filter((m) => m.kind === 'package');
  const what = group ? `group '${group.groupId}'` : `${packages[0]?.id} ${packages[0]?.fullVersion}`;
  if (packages.length === 0) throw new StagingError(409, 'EmptyGroup', `The ${what} has no staged package to promote.`);
  for (const m of members) {
    const blocker = artifactBlockers(m)[0];
    if (blocker) throw new StagingError(409, blocker.code, `${what} cannot be promoted: ${blocker.message}`);
  }
  const symbolsOf = new Map(members.filter((m) => m.kind === 'symbols').map((m) => [`${m.lowerId}\n${m.lowerVersion}`, m]));

  // The rights of a push of each id, for the person (or key) promoting; new ids go to the owner that staged them.
  const claims = new Map<string, string[]>();
  for (const p of packages) if (!claims.has(p.lowerId)) claims.set(p.lowerId, await deps.access.authorizePromote(principal, p.id, p.owner));

  const pdbs: ExtractedPdb[] = [];
  const storedPdbs: string[] = [];
  let committed = false;
  try {
    const rows: PromotedStagedPackage[] = [];
    for (const p of packages) {
      const symbols = symbolsOf.get(`${p.lowerId}\n${p.lowerVersion}`) ?? null;
      rows.push({
        lowerId: p.lowerId,
        lowerVersion: p.lowerVersion,
        sha512: p.sha512,
        originalVersion: p.originalVersion ?? p.fullVersion,
        isPrerelease: isPrerelease(parseVersion(p.fullVersion)!),
        isSemVer2: (JSON.parse(p.metadata) as StoredMetadata).isSemVer2,
        claimOwners: claims.get(p.lowerId)!,
        symbols: symbols ? await storeSymbols(deps, p, symbols, pdbs, storedPdbs) : null,
      });
    }

    const fence = await deps.fence?.raise();
    if (fence && fence.unacknowledged.length > 0) {
      deps.onWarning(`promotion of ${what}: node(s) ${fence.unacknowledged.join(', ')} did not acknowledge the read fence in time; readers there may see it one change poll late`);
    }
    const published = deps.now().toISOString();
    let outcome;
    try {
      outcome = await deps.staging.promote({ owner: packages[0]!.owner, lowerGroupId: group?.lowerGroupId ?? null, packages: rows, published });
      // Caches here drop every id at once (other nodes: their change watcher, behind the fence).
      if (outcome.status === 'promoted') for (const lowerId of claims.keys()) deps.events.packageChanged(lowerId);
    } finally {
      if (fence) await deps.fence!.lower(fence).catch(() => {});
    }
    if (outcome.status === 'conflict') throw new StagingError(409, 'AlreadyPublished', `${what} cannot be promoted: ${names(outcome.identities, packages)} published on this feed meanwhile.`);
    if (outcome.status === 'changed') {
      throw new StagingError(409, 'StagingChanged', `${what} changed while it was being promoted (${names(outcome.identities, packages)} staged again, removed or added): look at it and promote again.`);
    }
    committed = true;

    const view: PromotionView = {
      group: group ? { id: group.groupId, name: group.name, owner: group.owner } : null,
      packages: packages.map((p) => ({ id: p.id, version: p.fullVersion, symbols: symbolsOf.has(`${p.lowerId}\n${p.lowerVersion}`) })),
      published,
    };
    for (const p of view.packages) await deps.access.record(principal, 'promote', `${p.id} ${p.version}`, group ? `group ${group.groupId}` : 'from staging');
    for (const p of packages) {
      await deps.notifier?.notify(principal, {
        event: 'package.pushed',
        package: { id: p.id, version: p.fullVersion, size: p.size, sha512: p.sha512, replaced: false, promoted: true, group: group?.groupId ?? null },
      });
    }
    if (group) await deps.notifier?.notify(principal, { event: 'group.promoted', group: view.group!, packages: view.packages.map(({ id, version }) => ({ id, version })) });
    return view;
  } finally {
    await Promise.all(pdbs.map((p) => rm(p.file, { force: true })));
    if (!committed && storedPdbs.length > 0) await deps.deleteUnreferencedSymbols(storedPdbs).catch(() => {});
  }
}

/** The staged symbols as a published symbols package: its PDBs taken out again (checked at staging) and stored. */
async function storeSymbols(deps: PromotionDeps, pkg: StagedArtifactRecord, symbols: StagedArtifactRecord, pdbs: ExtractedPdb[], stored: string[]): Promise<NewSymbolPackage> {
  const { openSymbolPackage } = await import('../package/read-symbols.js');
  const snupkgFile = await copyPackageToTemp(deps.blobs, symbols.blobKey, deps.tempDir, `staged symbols of ${pkg.id} ${pkg.fullVersion}`);
  const nupkgFile = await copyPackageToTemp(deps.blobs, pkg.blobKey, deps.tempDir, `staged package ${pkg.id} ${pkg.fullVersion}`).catch(async (e: unknown) => {
    await rm(snupkgFile, { force: true });
    throw e;
  });
  const snupkg = await openSymbolPackage(snupkgFile, deps.symbolLimits).catch(async (e: unknown) => {
    await Promise.all([rm(snupkgFile, { force: true }), rm(nupkgFile, { force: true })]);
    throw e;
  });
  const first = pdbs.length;
  try {
    // The symbols' blob key ends in `.snupkg`; their PDBs sit beside it, as a push of symbols stores them.
    await extractPdbs(snupkg, nupkgFile, symbols.blobKey.replace(/\.snupkg$/, ''), deps.tempDir, pdbs);
  } finally {
    snupkg.close();
    await Promise.all([rm(snupkgFile, { force: true }), rm(nupkgFile, { force: true })]);
  }
  const files = pdbs.slice(first);
  for (const { file, record } of files) {
    stored.push(record.blobKey);
    await deps.blobs.putFile(record.blobKey, file);
  }
  return {
    lowerId: pkg.lowerId,
    lowerVersion: pkg.lowerVersion,
    size: symbols.size,
    sha512: symbols.sha512,
    blobKey: symbols.blobKey,
    published: deps.now().toISOString(),
    packageSha512: pkg.sha512,
    files: files.map((f) => f.record),
  };
}

function names(identities: readonly PackageIdentity[], packages: readonly StagedArtifactRecord[]): string {
  const shown = identities.slice(0, 5).map((i) => {
    const p = packages.find((x) => x.lowerId === i.lowerId && x.lowerVersion === i.lowerVersion);
    return p ? `${p.id} ${p.fullVersion}` : `${i.lowerId} ${i.lowerVersion}`;
  });
  return shown.join(', ') + (identities.length > 5 ? ` and ${identities.length - 5} more` : '') + (identities.length === 1 ? ' was' : ' were');
}
