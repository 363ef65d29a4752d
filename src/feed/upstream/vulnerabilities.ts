import type { Vulnerability } from '../../nuget/advisory.js';
import { lowerId as toLowerId } from '../../nuget/id.js';
import type { UpstreamClient } from './client.js';
import type { StoredVulnerabilities, UpstreamStore } from './store.js';
import { vulnerabilityEntries } from './upstream-advisories.js';

/** One upstream's known vulnerabilities as this feed serves them: one data file per upstream. */
export interface UpstreamVulnerabilityFile {
  readonly upstream: string;
  /** When the file's content last changed here: clients download it again when this moves. */
  readonly updated: string;
  /** The data file (lower id → advisories), JSON. */
  readonly body: Buffer;
}

/** What this needs of the upstream service: its breaker, its allow/deny lists and the shadowing rule. */
export interface VulnerabilitySources {
  ask<T>(url: string, work: (client: UpstreamClient) => Promise<T>): Promise<T | null>;
  allows(url: string, id: string): boolean;
  /** Whether an id has pushed versions and upstreams may not show it (blockShadowing). */
  blocked(lowerId: string): Promise<boolean>;
}

type Upstream = { readonly url: string; readonly metadataTtlSeconds: number };

/**
 * The upstreams' VulnerabilityInfo, so that NuGetAudit keeps warning about public packages restored through this
 * feed (the client only asks its own sources). Each upstream's files are fetched when their stamps move, checked
 * entry by entry, filtered by its allow/deny lists (and shadowing), merged into one file and kept in the database:
 * served from there while the upstream is unreachable, and refreshed in the background when older than the
 * upstream's metadata freshness.
 */
export class UpstreamVulnerabilities {
  private readonly held = new Map<string, { stored: StoredVulnerabilities; body: Buffer }>();
  private readonly refreshing = new Map<string, Promise<void>>();

  constructor(
    private readonly store: UpstreamStore,
    private readonly upstreams: readonly Upstream[],
    private readonly sources: VulnerabilitySources,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** One file per upstream that has data (fresh, or stale while it cannot be refreshed), in configured order. */
  async files(): Promise<UpstreamVulnerabilityFile[]> {
    const out: UpstreamVulnerabilityFile[] = [];
    for (const u of this.upstreams) {
      const current = await this.current(u);
      if (current) out.push({ upstream: u.url, updated: current.stored.updated, body: current.body });
    }
    return out;
  }

  private async current(u: Upstream) {
    let held = this.held.get(u.url);
    if (!held) {
      const stored = await this.store.getVulnerabilities(u.url);
      if (stored) held = this.adopt(u.url, stored);
    }
    if (held && this.isFresh(u, held.stored)) return held;
    const refresh = this.refresh(u);
    // Nothing to serve yet: wait for the first fetch (bounded by the upstream timeout). Otherwise serve what we have.
    if (!held) await refresh;
    return this.held.get(u.url) ?? null;
  }

  private isFresh(u: Upstream, s: StoredVulnerabilities): boolean {
    return Date.now() - s.fetchedAt < u.metadataTtlSeconds * 1000;
  }

  private adopt(url: string, stored: StoredVulnerabilities) {
    const held = { stored, body: Buffer.from(stored.document) };
    this.held.set(url, held);
    return held;
  }

  private refresh(u: Upstream): Promise<void> {
    const running = this.refreshing.get(u.url);
    if (running) return running;
    const started = this.fetch(u)
      .catch((err: unknown) => this.onError(err))
      .finally(() => this.refreshing.delete(u.url));
    this.refreshing.set(u.url, started);
    return started;
  }

  private async fetch(u: Upstream): Promise<void> {
    // Another node may have refreshed it meanwhile.
    const stored = await this.store.getVulnerabilities(u.url);
    if (stored && this.isFresh(u, stored)) {
      this.adopt(u.url, stored);
      return;
    }
    const index = await this.sources.ask(u.url, (c) => c.vulnerabilityIndex());
    if (index === null) return; // down, or it offers none: keep what we have
    const now = Date.now();
    const stamp = index.map((f) => `${f.name}@${f.updated}`).join(',');
    if (stored && stored.sourceStamp === stamp) {
      const touched = { ...stored, fetchedAt: now };
      await this.store.putVulnerabilities(u.url, touched);
      this.adopt(u.url, touched);
      return;
    }
    const files = await this.sources.ask(u.url, (c) => Promise.all(index.map((f) => c.vulnerabilityFile(f.url))));
    if (files === null) return;
    const byId: Record<string, Vulnerability[]> = {};
    for (const file of files) {
      for (const [id, entries] of Object.entries(file)) {
        if (!this.sources.allows(u.url, id)) continue;
        const lid = toLowerId(id);
        if (await this.sources.blocked(lid)) continue;
        const checked = vulnerabilityEntries(entries);
        if (checked.length) (byId[lid] ??= []).push(...checked);
      }
    }
    const document = JSON.stringify(byId);
    const updated = stored && stored.document === document ? stored.updated : new Date(now).toISOString();
    const fresh = { fetchedAt: now, sourceStamp: stamp, updated, document };
    await this.store.putVulnerabilities(u.url, fresh);
    this.adopt(u.url, fresh);
  }
}
