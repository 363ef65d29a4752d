import type { AdvisoryDatabase } from '../db/advisory-database.js';
import type { PackageDatabase } from '../db/database.js';
import { badRequest, notFound } from '../errors.js';
import {
  checkAdvisoryUrl,
  isVulnerable,
  MAX_DEPRECATION_MESSAGE,
  normalizeVulnerableRange,
  parseSeverity,
  type Deprecation,
  type DeprecationReason,
  type AlternatePackage,
  type Vulnerability,
} from '../nuget/advisory.js';
import { isValidPackageId, lowerId as toLowerId } from '../nuget/id.js';
import { parseRange, satisfies } from '../nuget/range.js';
import { compareVersions, parseVersion, type NuGetVersion } from '../nuget/version.js';
import type { PackageGuard } from './access.js';
import type { Principal } from './auth.js';
import type { FeedEvents } from './events.js';
import { SILENT_NOTIFIER, type FeedNotifier } from './webhook-events.js';

/** What is known against the versions of one id. */
export interface IdAdvisories {
  /** lowerVersion → its deprecation. */
  readonly deprecations: ReadonlyMap<string, Deprecation>;
  readonly vulnerabilities: readonly Vulnerability[];
}

/** What is known against one version. */
export interface VersionAdvisories {
  readonly deprecation: Deprecation | null;
  readonly vulnerabilities: readonly Vulnerability[];
}

export const NO_ADVISORIES: IdAdvisories = { deprecations: new Map(), vulnerabilities: [] };

/**
 * What is known against one version: ours (this feed's deprecation wins) and, for a version from an upstream,
 * the upstream's (advisories of both, one per URL).
 */
export function advisoriesOfVersion(
  all: IdAdvisories,
  v: { readonly record: { readonly lowerVersion: string }; readonly parsed: NuGetVersion; readonly upstreamAdvisories?: VersionAdvisories | undefined },
): VersionAdvisories {
  const ours = all.vulnerabilities.filter((x) => isVulnerable(x, v.parsed));
  const theirs = (v.upstreamAdvisories?.vulnerabilities ?? []).filter((x) => !ours.some((o) => o.url === x.url));
  return {
    deprecation: all.deprecations.get(v.record.lowerVersion) ?? v.upstreamAdvisories?.deprecation ?? null,
    vulnerabilities: theirs.length ? [...ours, ...theirs] : ours,
  };
}

/** The VulnerabilityInfo data file: lower id → advisories, as NuGet's audit reads it. */
export interface VulnerabilityData {
  /** When an advisory last changed; clients re-download the file when it moves. */
  readonly updated: string | null;
  readonly byId: Readonly<Record<string, readonly Vulnerability[]>>;
}

export interface DeprecationInput {
  readonly reasons: readonly DeprecationReason[];
  readonly message?: string | null;
  readonly alternate?: AlternatePackage | null;
}

export interface VulnerabilityInput {
  readonly url: string;
  readonly severity: string | number;
  readonly versions: string;
}

/** Ids whose advisories stay cached (a few hundred bytes each), dropped when the id changes. */
const CACHED_IDS = 20_000;

/**
 * Deprecations and vulnerability advisories: set by owners (or admins) through the API and the command line, read by
 * registration (Visual Studio, `dotnet list package --deprecated/--vulnerable`), the VulnerabilityInfo resource
 * (NuGetAudit during restore) and the web UI.
 */
export class AdvisoryService {
  private readonly cache = new Map<string, IdAdvisories>();
  private data: Promise<VulnerabilityData> | null = null;

  constructor(
    private readonly db: AdvisoryDatabase,
    private readonly packages: Pick<PackageDatabase, 'listVersions'>,
    private readonly access: PackageGuard,
    private readonly events: FeedEvents,
    /** Told of deprecations that committed (webhooks). */
    private readonly notifier: FeedNotifier = SILENT_NOTIFIER,
  ) {
    events.onPackageChanged((lid) => {
      this.cache.delete(lid);
      this.data = null;
    });
  }

  async forId(lowerId: string): Promise<IdAdvisories> {
    const cached = this.cache.get(lowerId);
    if (cached) return cached;
    const [deprecations, vulnerabilities] = await Promise.all([this.db.deprecations(lowerId), this.db.vulnerabilities(lowerId)]);
    const found = deprecations.size === 0 && vulnerabilities.length === 0 ? NO_ADVISORIES : { deprecations, vulnerabilities };
    this.cache.set(lowerId, found);
    if (this.cache.size > CACHED_IDS) this.cache.delete(this.cache.keys().next().value!);
    return found;
  }

  vulnerabilityData(): Promise<VulnerabilityData> {
    this.data ??= (async () => {
      const [rows, updated] = await Promise.all([this.db.vulnerabilities(), this.db.vulnerabilitiesUpdated()]);
      const byId: Record<string, Vulnerability[]> = {};
      for (const r of rows) (byId[r.lowerId] ??= []).push({ url: r.url, severity: r.severity, versions: r.versions });
      return { updated, byId };
    })().catch((err: unknown) => {
      this.data = null;
      throw err;
    });
    return this.data;
  }

  /**
   * Deprecates the versions of an id that `versions` name: exact versions, ranges (`[1.0.0, 2.0.0)`) or `*` for all.
   * Returns the versions deprecated (full strings, ascending).
   * @example await advisories.deprecate(key, 'Contoso.Old', ['*'], { reasons: ['Legacy'], alternate: { id: 'Contoso.New', range: null } })
   */
  async deprecate(principal: Principal, id: string, versions: readonly string[], input: DeprecationInput): Promise<string[]> {
    const deprecation = checkDeprecation(input);
    const chosen = await this.choose(principal, id, versions);
    await this.db.setDeprecation(toLowerId(id), chosen.map((v) => v.lowerVersion), deprecation);
    this.events.packageChanged(toLowerId(id));
    await this.access.record(principal, 'deprecate', `${id} ${chosen.map((v) => v.version).join(', ')}`, deprecation.reasons.join(', '));
    await this.notifier.notify(principal, { event: 'package.deprecated', package: { id, versions: chosen.map((v) => v.version), deprecation } });
    return chosen.map((v) => v.version);
  }

  async undeprecate(principal: Principal, id: string, versions: readonly string[]): Promise<string[]> {
    const chosen = await this.choose(principal, id, versions);
    await this.db.setDeprecation(toLowerId(id), chosen.map((v) => v.lowerVersion), null);
    this.events.packageChanged(toLowerId(id));
    await this.access.record(principal, 'undeprecate', `${id} ${chosen.map((v) => v.version).join(', ')}`);
    return chosen.map((v) => v.version);
  }

  /** Files an advisory for an id (or replaces the one with the same URL); returns it as stored. */
  async fileVulnerability(principal: Principal, id: string, input: VulnerabilityInput): Promise<Vulnerability> {
    checkId(id);
    const vulnerability = checkVulnerability(input);
    await this.access.authorizeAdvisory(principal, id);
    await this.db.putVulnerability(toLowerId(id), vulnerability);
    this.events.packageChanged(toLowerId(id));
    await this.access.record(principal, 'advisory.file', id, `${vulnerability.url} ${vulnerability.versions}`);
    return vulnerability;
  }

  async withdrawVulnerability(principal: Principal, id: string, url: string): Promise<void> {
    checkId(id);
    await this.access.authorizeAdvisory(principal, id);
    if (!(await this.db.withdrawVulnerability(toLowerId(id), url))) {
      throw notFound(`Package ${id} has no advisory ${url} in force on this feed.`);
    }
    this.events.packageChanged(toLowerId(id));
    await this.access.record(principal, 'advisory.withdraw', id, url);
  }

  private async choose(principal: Principal, id: string, specs: readonly string[]) {
    checkId(id);
    if (specs.length === 0) throw badRequest('Name the versions: exact versions, ranges such as "[1.0.0, 2.0.0)", or "*" for all.');
    await this.access.authorizeAdvisory(principal, id);
    const all = (await this.packages.listVersions(toLowerId(id))).map((r) => ({
      lowerVersion: r.lowerVersion,
      version: r.fullVersion,
      parsed: parseVersion(r.fullVersion)!,
    }));
    const chosen = new Map<string, (typeof all)[number]>();
    for (const spec of specs) {
      const matches = all.filter(versionMatcher(id, spec));
      if (matches.length === 0) throw notFound(`Package ${id} has no version ${spec} on this feed.`);
      for (const m of matches) chosen.set(m.lowerVersion, m);
    }
    return [...chosen.values()].sort((a, b) => compareVersions(a.parsed, b.parsed));
  }
}

/** An exact version (any accepted spelling), a range, or `*`: which of an id's versions it names. */
function versionMatcher(id: string, spec: string): (v: { parsed: NuGetVersion }) => boolean {
  const text = spec.trim();
  if (text === '*') return () => true;
  const exact = parseVersion(text);
  if (exact) return (v) => compareVersions(v.parsed, exact) === 0;
  const range = parseRange(text);
  if (range) return (v) => satisfies(range, v.parsed);
  throw badRequest(`"${spec}" is neither a version nor a version range of ${id}.`);
}

function checkId(id: string): void {
  if (!isValidPackageId(id)) throw badRequest(`"${id}" is not a valid package id.`);
}

function checkDeprecation(input: DeprecationInput): Deprecation {
  if (input.reasons.length === 0) throw badRequest('A deprecation needs at least one reason: Legacy, CriticalBugs or Other.');
  const message = input.message?.trim() || null;
  if (message && message.length > MAX_DEPRECATION_MESSAGE) {
    throw badRequest(`The deprecation message is ${message.length} characters long; at most ${MAX_DEPRECATION_MESSAGE} are kept.`);
  }
  if (input.reasons.includes('Other') && input.reasons.length === 1 && !message) {
    throw badRequest('A deprecation for "Other" reasons needs a message saying why.');
  }
  return { reasons: [...new Set(input.reasons)], message, alternate: input.alternate ?? null };
}

function checkVulnerability(input: VulnerabilityInput): Vulnerability {
  const severity = parseSeverity(input.severity);
  if (severity === null) throw badRequest(`Severity "${input.severity}" is not one of low, moderate, high, critical (or 0-3).`);
  try {
    return { url: checkAdvisoryUrl(input.url), severity, versions: normalizeVulnerableRange(input.versions) };
  } catch (err) {
    throw badRequest(`Invalid advisory: ${(err as Error).message}.`);
  }
}
