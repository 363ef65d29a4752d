import type { BlobContent, BlobStore } from '../../blobs/blob-store.js';
import type { PackageRecord } from '../../db/database.js';
import type { SymbolPackageRecord } from '../../db/symbol-database.js';
import type { PdbLookup, SymbolPublishResult, SymbolService } from '../symbols.js';
import type { VirtualMembers } from './members.js';
import { readOnly } from './read-only.js';
import type { VirtualReader } from './virtual-reader.js';

/**
 * Symbols on a virtual feed: a package's symbols package is the one of the member that serves it; the symbol server
 * finds a PDB in the first member that has it (a PDB key names one build, whichever feed holds it). Symbols are pushed
 * to a member.
 */
export class VirtualSymbols implements Pick<SymbolService, 'publish' | 'findPdb' | 'symbolPackageOf' | 'open' | 'redirectUrl'> {
  constructor(
    private readonly reader: VirtualReader,
    private readonly members: VirtualMembers,
    private readonly blobs: BlobStore,
  ) {}

  publish(): Promise<SymbolPublishResult> {
    return Promise.reject(readOnly(this.members.definition.name, this.members.names(), 'push'));
  }

  async findPdb(file: string, key: string, file2: string, checksumHeader?: string): Promise<PdbLookup> {
    let mismatch: PdbLookup | undefined;
    for (const member of await this.members.feeds()) {
      const found = await member.symbols.findPdb(file, key, file2, checksumHeader);
      if (found.status === 'found') return found;
      if (found.status === 'checksum-mismatch') mismatch ??= found;
    }
    return mismatch ?? { status: 'not-found' };
  }

  async symbolPackageOf(pkg: PackageRecord): Promise<SymbolPackageRecord | null> {
    return (await this.reader.memberOf(pkg.lowerId))?.symbols.symbolPackageOf(pkg) ?? null;
  }

  open(blobKey: string): Promise<BlobContent | null> {
    return this.blobs.open(blobKey);
  }

  async redirectUrl(blobKey: string): Promise<string | null> {
    return (await this.blobs.redirectUrl?.(blobKey)) ?? null;
  }
}
