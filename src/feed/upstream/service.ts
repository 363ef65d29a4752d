import { rm } from 'node:fs/promises';
import { loadPackageReader } from '../../package/load.js';
import type { Kysely } from 'kysely';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { Config } from '../../config/schema.js';
import type { PackageDatabase, PackageRecord } from '../../db/database.js';
import { PawketError } from '../../errors.js';
import { enforceQuota } from '../quota.js';
import { lowerId as toLowerId, isValidPackageId } from '../../nuget/id.js';
import { identityKey, type PackageIdentityKey } from '../../nuget/identity.js';
import { parseRange, rangeIsSemVer2 } from '../../nuget/range.js';
import { fullVersion, isPrerelease, isSemVer2, normalizeVersion, parseVersion } from '../../nuget/version.js';
import type { FeedEvents } from '../events.js';
import type { StoredMetadata } from '../stored-metadata.js';
import type { PackageSignatureCheck } from '../../signing/package-signatures.js';
import { toStoredMetadata } from '../stored-metadata.js';
import { withRepositorySigner, type FeedRepositorySigning } from '../../signing/repository-signer.js';
import type { VersionAdvisories } from '../advisories.js';
import { UpstreamClient, UpstreamDown, type UpstreamCatalogEntry } from './client.js';
import { catalogEntryAdvisories } from './upstream-advisories.js';
import { idAllowed } from './patterns.js';
import { UpstreamStore } from './store.js';
import { UpstreamVulnerabilities } from './vulnerabilities.js';
import { packageBlobKey, type FeedScope } from '../feed-scope.js';

/** One version an upstream has, as kept in `upstream_ids.document`. */
export interface UpstreamVersion {
  readonly upstream: string;
  readonly record: PackageRecord;
  readonly metadata: StoredMetadata;
  /** The upstream's published SHA-512 (base64), when it gives one. */
  readonly hash: string | null;
  /** The upstream's deprecation and advisories of this version, when it gives any. */
  readonly advisories?: VersionAdvisories | undefined;
}

/** The merged upstream view of an id: versions (first upstream wins per version); `down` when an upstream had nothing to offer because it was unreachable. */
export interface UpstreamView {
  readonly versions: readonly UpstreamVersion[];
  readonly down: readonly string[];
}

/** An upstream that failed is not asked again for this long (its cached data is served meanwhile). */
const BREAKER_MS = 10_000;
const UNLISTED_PUBLISHED = '1900-01-01T00:00:00+00:00';

type Settings = Pick<Config, 'upstreams' | 'blockShadowing' | 'maxPackageSize' | 'maxPackageEntries'> &
  Partial<Pick<Config, 'quotaBytes' | 'quotaPackages'>>;
type Upstream = Config['upstreams'][number] & { client: UpstreamClient; downUntil: number; lastError: string };

/**
 * Read-through to upstream V3 feeds (docs/UPSTREAMS.md). Metadata (what versions an upstream has) is cached in the
 * database with its fetch time, used within the freshness window and served stale beyond it while the upstream is
 * unreachable; package files are fetched once, checked (published hash, readable package of the right identity) and
 * stored as ordinary package rows marked as mirrored. Concurrent requests for the same thing share one fetch.
 */
export class UpstreamService {
  private readonly upstreams: Upstream[];
  private readonly store: UpstreamStore;
  /** The upstreams' known vulnerabilities, served in this feed's VulnerabilityInfo. */
  readonly vulnerabilities: UpstreamVulnerabilities;
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** lowerId → when its merged view stops being fresh; documents rendered from it are dropped then. */
  private readonly expiries = new Map<string, number>();
  private readonly states = new Map<string, { blocked: boolean; mirrored: Map<string, string> }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: PackageDatabase,
    kysely: Kysely<never>,
    private readonly blobs: BlobStore,
    private readonly events: FeedEvents,
    private readonly settings: Settings,
    private readonly tempDir: string,
    /** The feed whose upstreams these are: mirrored packages are stored as its rows and files. */
    private readonly scope: FeedScope,
    private readonly log: (message: string) => void = () => {},
    /** Verifies mirrored packages' signatures: one with a broken signature is not cached. */
    private readonly signatures?: PackageSignatureCheck,
    /** Adds the repository signature to every mirrored package before it is stored. */
    private readonly repositorySigning: FeedRepositorySigning | null = null,
  ) {
    this.store = new UpstreamStore(kysely, scope.id);
    this.vulnerabilities = new UpstreamVulnerabilities(
      this.store,
      settings.upstreams,
      {
        ask: (url, work) => this.ask(url, work),
        allows: (url, id) => this.allows(url, id),
        blocked: async (lid) => settings.blockShadowing && (await this.localState(lid)).blocked,
      },
      (err) => log(`upstream: could not refresh vulnerability data (${(err as Error).message})`),
    );
    this.upstreams = settings.upstreams.map((u) => ({ ...u, client: new UpstreamClient(u.url, u.timeoutMs), downUntil: 0, lastError: '' }));
    events.onPackageChanged((lid) => this.states.delete(lid));
    const minTtl = Math.min(...settings.upstreams.map((u) => u.metadataTtlSeconds));
    const every = Math.min(30_000, Math.max(250, (minTtl * 1000) / 4));
    this.timer = setInterval(() => this.expire(), every);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  get blockShadowing(): boolean {
    return this.settings.blockShadowing;
  }

  /** Whether some upstream may be asked for this id. */
  covers(id: string): boolean {
    return isValidPackageId(id) && this.upstreams.some((u) => idAllowed(id, u.allow, u.deny));
  }

  /** The upstreams' service index URLs, in the configured order. */
  get urls(): readonly string[] {
    return this.upstreams.map((u) => u.url);
  }

  /** Whether this upstream may be asked for (or show) this id: its allow and deny lists. */
  allows(url: string, id: string): boolean {
    const u = this.upstreams.find((x) => x.url === url);
    return u !== undefined && isValidPackageId(id) && idAllowed(id, u.allow, u.deny);
  }

  /**
   * A request to one upstream that is not about one id's metadata (search), through the same circuit breaker: null
   * while the upstream is marked down, or when the request fails (which marks it down).
   */
  async ask<T>(url: string, work: (client: UpstreamClient) => Promise<T>): Promise<T | null> {
    const u = this.upstreams.find((x) => x.url === url);
    if (!u || u.downUntil > Date.now()) return null;
    try {
      return await work(u.client);
    } catch (err) {
      if (!(err instanceof UpstreamDown)) throw err;
      this.markDown(u, err);
      return null;
    }
  }

  /** Which versions of an id are mirrored, and whether the id is blocked from upstreams (it has pushed versions). */
  async localState(lowerId: string): Promise<{ blocked: boolean; mirrored: Map<string, string> }> {
    const cached = this.states.get(lowerId);
    if (cached) return cached;
    const mirrored = await this.store.mirrored(lowerId);
    const blocked = this.settings.blockShadowing && (await this.db.listVersions(lowerId)).some((r) => !mirrored.has(r.lowerVersion));
    const state = { blocked, mirrored };
    this.states.set(lowerId, state);
    if (this.states.size > 20_000) this.states.delete(this.states.keys().next().value!);
    return state;
  }

  /** The merged view of the upstreams that may be asked for this id. */
  async view(id: string): Promise<UpstreamView> {
    const lid = toLowerId(id);
    const versions = new Map<string, UpstreamVersion>();
    const down: string[] = [];
    let expires = Infinity;
    for (const u of this.upstreams) {
      if (!idAllowed(id, u.allow, u.deny)) continue;
      const got = await this.upstreamView(u, lid);
      if (got === 'down') {
        down.push(`${u.url} (${u.lastError})`);
        expires = Math.min(expires, Date.now() + BREAKER_MS);
        continue;
      }
      expires = Math.min(expires, Math.max(got.fetchedAt + u.metadataTtlSeconds * 1000, Date.now() + (got.stale ? BREAKER_MS : 0)));
      for (const v of got.versions) if (!versions.has(v.record.lowerVersion)) versions.set(v.record.lowerVersion, v);
    }
    if (expires !== Infinity) this.expiries.set(lid, expires);
    return { versions: [...versions.values()], down };
  }

  /**
   * Fetches one version from the upstream that has it and stores it as a mirrored package; returns its row, or null
   * when no upstream has it. A failure (unreachable, truncated, wrong hash, not a package) is a 502 naming it; nothing
   * is stored then.
   * @example await upstream.mirror('Newtonsoft.Json', '13.0.3')
   */
  async mirror(id: string, version: string): Promise<PackageRecord | null> {
    const parsed = parseVersion(version);
    if (!parsed || !isValidPackageId(id)) return null;
    const key = identityKey(id, parsed);
    return this.once(`mirror|${key.lowerId}|${key.lowerVersion}`, async () => {
      const existing = await this.db.getPackage(key.lowerId, key.lowerVersion);
      if (existing) return existing;
      if ((await this.localState(key.lowerId)).blocked) return null;
      const view = await this.view(id);
      const entry = view.versions.find((v) => v.record.lowerVersion === key.lowerVersion);
      if (!entry) {
        if (view.down.length) throw new PawketError(502, `Package ${id} ${version} is not cached and the upstream is unreachable: ${view.down.join('; ')}`);
        return null;
      }
      return this.fetchAndStore(entry, key);
    });
  }

  private async fetchAndStore(entry: UpstreamVersion, key: PackageIdentityKey): Promise<PackageRecord> {
    const u = this.upstreams.find((x) => x.url === entry.upstream)!;
    const display = `${entry.record.id} ${entry.record.fullVersion}`;
    const fail = (why: string) => new PawketError(502, `Could not fetch ${display} from ${u.url}: ${why}. Nothing was cached.`);
    let downloaded;
    try {
      downloaded = await u.client.download(key.lowerId, key.lowerVersion, this.tempDir, this.settings.maxPackageSize);
    } catch (err) {
      this.markDown(u, err);
      throw fail((err as Error).message);
    }
    if (!downloaded) throw fail('the upstream lists this version but has no file for it');
    try {
      if (entry.hash && downloaded.sha512 !== entry.hash) {
        throw fail(`its SHA-512 ${downloaded.sha512} is not the published ${entry.hash}`);
      }
      let read;
      try {
        const { readPackageFile } = await loadPackageReader();
        read = await readPackageFile(downloaded.file, { maxEntries: this.settings.maxPackageEntries });
      } catch (err) {
        throw fail(`not a readable package (${(err as Error).message})`);
      }
      const got = identityKey(read.metadata.id, read.metadata.version);
      if (got.lowerId !== key.lowerId || got.lowerVersion !== key.lowerVersion) {
        throw fail(`the file is ${read.metadata.id} ${fullVersion(read.metadata.version)}`);
      }
      let signature;
      try {
        signature = await this.signatures?.check(downloaded.file, { id: read.metadata.id, display, owner: null, mirrored: true });
      } catch (err) {
        this.log(`upstream: not caching ${display} from ${u.url}: ${(err as Error).message}`);
        throw fail((err as Error).message);
      }
      // Mirrored versions count against the feed's quota like pushed ones (they take the same disk): over it, the
      // download is refused with the quota named rather than cached.
      const quota = { feedName: this.scope.name, quotaBytes: this.settings.quotaBytes ?? 0, quotaPackages: this.settings.quotaPackages ?? 0 };
      // Signed after the upstream's hash was checked; what is stored and served is the signed package.
      const signed = await this.repositorySigning?.sign(downloaded, read.metadata.id);
      if (signed) downloaded = signed.upload;
      await enforceQuota(this.db, quota, { packages: 1, bytes: downloaded.size }, `caching ${display} from ${u.url}`);
      const blobKey = packageBlobKey(this.scope, key.lowerId, key.lowerVersion, downloaded.sha512);
      await this.blobs.putFile(blobKey, downloaded.file);
      const m = read.metadata;
      const row = {
        id: m.id,
        ...key,
        version: normalizeVersion(m.version),
        fullVersion: fullVersion(m.version),
        originalVersion: m.version.original,
        isPrerelease: isPrerelease(m.version),
        isSemVer2: m.isSemVer2,
        listed: entry.record.listed,
        published: entry.record.listed && entry.record.published !== UNLISTED_PUBLISHED ? entry.record.published : new Date().toISOString(),
        size: downloaded.size,
        sha512: downloaded.sha512,
        blobKey,
        metadata: withRepositorySigner(toStoredMetadata(m, signature), signed?.signer),
        nuspec: read.nuspec,
        // The mark commits with the row: a visible mirrored row is always marked, a row that lost to a push never.
        mirroredFrom: u.url,
      };
      if (!(await this.db.insertPackage(row))) {
        // Another node mirrored (or someone pushed) it first; the winner's file may share our key.
        if (!(await this.db.isBlobReferenced(blobKey))) await this.blobs.delete(blobKey);
      }
      this.states.delete(key.lowerId);
      this.events.packageChanged(key.lowerId);
      return (await this.db.getPackage(key.lowerId, key.lowerVersion))!;
    } finally {
      await rm(downloaded.file, { force: true });
    }
  }

  private async upstreamView(
    u: Upstream,
    lid: string,
  ): Promise<{ versions: UpstreamVersion[]; fetchedAt: number; stale: boolean } | 'down'> {
    const stored = await this.store.getView(lid, u.url);
    const parse = (s: { document: string; fetchedAt: number; found: boolean }, stale: boolean) => ({
      versions: s.found ? (JSON.parse(s.document) as UpstreamVersion[]) : [],
      fetchedAt: s.fetchedAt,
      stale,
    });
    if (stored && Date.now() - stored.fetchedAt < u.metadataTtlSeconds * 1000) return parse(stored, false);
    if (u.downUntil > Date.now()) return stored ? parse(stored, true) : 'down';
    try {
      return await this.once(`view|${u.url}|${lid}`, async () => {
        const entries = await u.client.registration(lid);
        const versions = entries ? toVersions(u.url, lid, entries) : [];
        const fresh = { fetchedAt: Date.now(), found: versions.length > 0, document: JSON.stringify(versions) };
        await this.store.putView(lid, u.url, fresh);
        if (stored && (stored.document !== fresh.document || stored.found !== fresh.found)) this.events.packageChanged(lid);
        return parse(fresh, false);
      });
    } catch (err) {
      if (!(err instanceof UpstreamDown)) throw err;
      this.markDown(u, err);
      return stored ? parse(stored, true) : 'down';
    }
  }

  private markDown(u: Upstream, err: unknown): void {
    u.downUntil = Date.now() + BREAKER_MS;
    u.lastError = (err as Error).message;
    this.log(`upstream: ${u.url} is unavailable (${u.lastError}); serving cached data for ${BREAKER_MS / 1000} s`);
  }

  /** Drops rendered documents of ids whose upstream view went stale, so the next request asks again. */
  private expire(): void {
    const now = Date.now();
    for (const [lid, until] of this.expiries) {
      if (until > now) continue;
      this.expiries.delete(lid);
      this.events.packageChanged(lid);
    }
  }

  private once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key);
    if (running) return running as Promise<T>;
    const started = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, started);
    return started;
  }
}

const list = (v: string | string[] | null | undefined): string[] =>
  v == null ? [] : Array.isArray(v) ? v : v.split(/[\s,;]+/).filter((t) => t.length > 0);

/** Upstream catalog entries as version rows (only valid identities of the asked id; garbage is dropped). */
function toVersions(upstream: string, lid: string, entries: UpstreamCatalogEntry[]): UpstreamVersion[] {
  const out: UpstreamVersion[] = [];
  for (const e of entries) {
    const v = parseVersion(e.version);
    if (!v || !isValidPackageId(e.id) || toLowerId(e.id) !== lid) continue;
    const groups = (e.dependencyGroups ?? []).map((g) => ({
      targetFramework: g.targetFramework ?? null,
      dependencies: (g.dependencies ?? []).map((d) => ({ id: d.id, range: d.range && d.range !== '(, )' ? d.range : null })),
    }));
    const semVer2 =
      isSemVer2(v) ||
      groups.some((g) => g.dependencies.some((d) => {
        const r = d.range ? parseRange(d.range) : null;
        return r !== null && rangeIsSemVer2(r);
      }));
    const metadata: StoredMetadata = {
      id: e.id,
      version: fullVersion(v),
      title: e.title || null,
      authors: list(e.authors).join(', '),
      owners: null,
      description: e.description ?? '',
      summary: e.summary || null,
      releaseNotes: e.releaseNotes || null,
      copyright: e.copyright || null,
      language: e.language || null,
      tags: list(e.tags),
      projectUrl: e.projectUrl || null,
      iconUrl: e.iconUrl || null,
      icon: null,
      readme: null,
      licenseUrl: e.licenseUrl || null,
      license: e.licenseExpression ? { type: 'expression', value: e.licenseExpression, version: null } : null,
      repository: null,
      requireLicenseAcceptance: e.requireLicenseAcceptance ?? false,
      developmentDependency: false,
      minClientVersion: e.minClientVersion || null,
      serviceable: false,
      dependencyGroups: groups,
      packageTypes: [],
      frameworks: [],
      isSemVer2: semVer2,
    };
    const key = identityKey(e.id, v);
    const listed = e.listed ?? !(e.published ?? '').startsWith('1900-');
    const hash = e.packageHash && (e.packageHashAlgorithm ?? 'SHA512').toUpperCase() === 'SHA512' ? e.packageHash : null;
    out.push({
      upstream,
      hash,
      advisories: catalogEntryAdvisories(e, fullVersion(v)),
      metadata,
      record: {
        id: e.id,
        ...key,
        version: normalizeVersion(v),
        fullVersion: fullVersion(v),
        originalVersion: e.version,
        isPrerelease: isPrerelease(v),
        isSemVer2: semVer2,
        listed,
        published: e.published ?? new Date(0).toISOString(),
        size: e.packageSize ?? 0,
        sha512: hash ?? '',
        blobKey: '',
        metadata: JSON.stringify(metadata),
      },
    });
  }
  return out;
}
