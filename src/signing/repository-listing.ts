import type { ListedCertificate } from './repository-certificate.js';
import type { RepositorySigningKeys } from './repository-signer.js';

/** What a feed's RepositorySignatures resource says. */
export interface RepositoryCertificateListing {
  /** Every package of the feed carries a repository signature by a listed certificate (clients then require one). */
  readonly allRepositorySigned: boolean;
  /** The current certificate, and each previous one while packages signed with it remain. */
  readonly certificates: readonly ListedCertificate[];
}

/** The counts the listing needs, from the feed's rows. */
export interface SignedPackageCounts {
  countPackages(): Promise<number>;
  countRepositorySigned(fingerprints: readonly string[]): Promise<Record<string, number>>;
}

/** Most often the counts are recomputed while packages keep changing. */
const MIN_RECOUNT_MS = 5_000;

/**
 * A feed's repository certificates as clients see them. The counts scan the feed's rows, so they are recomputed only
 * after a change and at most every few seconds; a listing in between may lag a push by that much, which clients
 * tolerate (they re-read the resource, and a package is signed before it is visible).
 */
export class RepositoryCertificates {
  private cached: { at: number; listing: Promise<RepositoryCertificateListing> } | undefined;
  private changed = true;

  constructor(
    private readonly keys: RepositorySigningKeys,
    private readonly counts: SignedPackageCounts,
  ) {}

  /** A package changed: the next listing counts again. */
  invalidate(): void {
    this.changed = true;
  }

  /** The certificate with this upper-case SHA-256, if listed. */
  async certificate(sha256: string): Promise<ListedCertificate | undefined> {
    return (await this.listing()).certificates.find((c) => c.sha256 === sha256.toUpperCase());
  }

  listing(): Promise<RepositoryCertificateListing> {
    const now = Date.now();
    if (this.cached && (!this.changed || now - this.cached.at < MIN_RECOUNT_MS)) return this.cached.listing;
    this.changed = false;
    const listing = this.count();
    listing.catch(() => {
      if (this.cached?.listing === listing) this.cached = undefined;
    });
    this.cached = { at: now, listing };
    return listing;
  }

  private async count(): Promise<RepositoryCertificateListing> {
    const { current, previous } = this.keys;
    const all = [current, ...previous];
    const [total, bySigner] = await Promise.all([this.counts.countPackages(), this.counts.countRepositorySigned(all.map((c) => c.sha256))]);
    const signed = all.reduce((n, c) => n + (bySigner[c.sha256] ?? 0), 0);
    return {
      allRepositorySigned: signed === total,
      certificates: [current, ...previous.filter((c) => (bySigner[c.sha256] ?? 0) > 0)],
    };
  }
}
