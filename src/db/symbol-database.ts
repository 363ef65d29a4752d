/** A PDB of a symbols package, as stored: served by its symbol server key. */
export interface SymbolFileRecord {
  /** Its entry name in the `.snupkg`. */
  readonly path: string;
  /** The Simple Symbol Query Protocol key, lower case: `{file}/{guid}ffffffff/{file}`. */
  readonly ssqpKey: string;
  readonly size: number;
  readonly blobKey: string;
  /** Checksums of the PDB its assembly records and that were verified, as `algorithm:hex`, lower case. */
  readonly checksums: readonly string[];
}

/** The symbols package (`.snupkg`) of one package version. */
export interface SymbolPackageRecord {
  readonly lowerId: string;
  readonly lowerVersion: string;
  readonly size: number;
  /** Base64 SHA-512 of the `.snupkg`. */
  readonly sha512: string;
  readonly blobKey: string;
  /** ISO 8601 UTC time of the push. */
  readonly published: string;
  /** SHA-512 of the `.nupkg` the PDBs were checked against; when the package was replaced since, these are stale. */
  readonly packageSha512: string;
}

export interface NewSymbolPackage extends SymbolPackageRecord {
  readonly files: readonly SymbolFileRecord[];
}

/** What {@link SymbolDatabase.putSymbolPackage} did. */
export type PutSymbolsOutcome =
  | { readonly status: 'inserted' }
  /** Replaced the symbols there were; their blob keys, for removal once nothing references them. */
  | { readonly status: 'replaced'; readonly previousBlobKeys: readonly string[] }
  /** Symbols are there already and `replace` was false (another push won). */
  | { readonly status: 'exists' }
  /** The package version is gone (deleted while its symbols were checked). */
  | { readonly status: 'no-package' }
  /** The package version was replaced (overwrite) by another file than the one the PDBs were checked against. */
  | { readonly status: 'package-changed' };

/**
 * Symbols of packages, in the same database as the packages: a symbols package belongs to one package version
 * and goes with it (hard delete removes it in the same transaction).
 */
export interface SymbolDatabase {
  /** Adds the symbols of an existing package version; with `replace`, swaps out the ones already there. */
  putSymbolPackage(symbols: NewSymbolPackage, replace: boolean): Promise<PutSymbolsOutcome>;
  getSymbolPackage(lowerId: string, lowerVersion: string): Promise<SymbolPackageRecord | null>;
  /** The symbols package of a version with its PDBs (promotion copies them). */
  getSymbolPackageWithFiles(lowerId: string, lowerVersion: string): Promise<NewSymbolPackage | null>;
  /** PDBs stored under this symbol server key (several versions may carry one build's PDB), at most `limit`. */
  findSymbolFiles(ssqpKey: string, limit: number): Promise<SymbolFileRecord[]>;
  /** Blob keys of one version's symbols package and PDBs (removed after a hard delete). */
  symbolBlobKeys(lowerId: string, lowerVersion: string): Promise<string[]>;
  /** Whether a symbols row references this blob (orphan clean-up). */
  isSymbolBlobReferenced(blobKey: string): Promise<boolean>;
  /** Symbols packages with their PDBs in storage order after cursor `after` (0: from the first), for copying a feed. */
  scanSymbolPackages(after: number, limit: number): Promise<{ readonly cursor: number; readonly records: NewSymbolPackage[] }>;
  /** Adds symbols exactly as another feed stored them (even ones its package has outgrown); never replaces. */
  copySymbolPackage(symbols: NewSymbolPackage): Promise<'inserted' | 'exists' | 'no-package'>;
}
