import type { Deprecation, Vulnerability } from '../nuget/advisory.js';

/** An advisory as stored, with the id it concerns. */
export interface VulnerabilityRecord extends Vulnerability {
  readonly lowerId: string;
  /** ISO 8601 UTC time it was filed or last changed. */
  readonly updatedAt: string;
}

/**
 * Deprecations (per package version, gone with a hard delete) and vulnerability advisories (per id and range), in
 * the same database as the packages. Every change records one in `changes` for the id, so all nodes drop what they
 * rendered from it.
 */
export interface AdvisoryDatabase {
  /**
   * Sets, or with null clears, the deprecation of these versions of an id, in one transaction; returns how many
   * of them exist here (the others are skipped).
   */
  setDeprecation(lowerId: string, lowerVersions: readonly string[], deprecation: Deprecation | null): Promise<number>;
  /** lowerVersion → deprecation, for the deprecated versions of an id. */
  deprecations(lowerId: string): Promise<Map<string, Deprecation>>;
  /** Every deprecation of the feed (for copying a feed). */
  allDeprecations(): Promise<Array<{ readonly lowerId: string; readonly lowerVersion: string; readonly deprecation: Deprecation }>>;
  /** Files an advisory, or replaces the one of this id with the same URL (un-withdrawing it). */
  putVulnerability(lowerId: string, vulnerability: Vulnerability): Promise<void>;
  /** Withdraws an advisory; false when this id has no such advisory in force. */
  withdrawVulnerability(lowerId: string, url: string): Promise<boolean>;
  /** Advisories in force, of one id or of all, ordered by id then URL. */
  vulnerabilities(lowerId?: string): Promise<VulnerabilityRecord[]>;
  /** When any advisory last changed (withdrawals included); null when none was ever filed. */
  vulnerabilitiesUpdated(): Promise<string | null>;
}
