import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** An upstream that timed out, refused, answered an error status or answered something unreadable: treated as down. */
export class UpstreamDown extends Error {
  override name = 'UpstreamDown';
}

/** The resources of a V3 feed that read-through needs. */
export interface UpstreamResources {
  /** PackageBaseAddress/3.0.0, with a trailing slash. */
  readonly packageBase: string;
  /** The SemVer 2.0.0 registration hive (3.6.0) or the best available one, with a trailing slash. */
  readonly registrations: string;
  /** SearchQueryService, when the upstream offers one (merged search). */
  readonly search: string | null;
  /** SearchAutocompleteService, when the upstream offers one (merged search). */
  readonly autocomplete: string | null;
  /** VulnerabilityInfo/6.7.0, when the upstream offers it (its advisories are served here too). */
  readonly vulnerabilityInfo: string | null;
}

const serviceIndexSchema = z.object({
  resources: z.array(z.object({ '@id': z.string(), '@type': z.union([z.string(), z.array(z.string())]) })),
});

const text = z.string().nullish().catch(null);
const dependencySchema = z.object({ id: z.string().min(1), range: z.string().nullish().catch(null) });
const catalogEntrySchema = z.object({
  id: z.string().min(1),
  version: z.string().min(1),
  listed: z.boolean().nullish().catch(null),
  published: text,
  packageHash: text,
  packageHashAlgorithm: text,
  packageSize: z.number().nullish().catch(null),
  authors: z.union([z.string(), z.array(z.string())]).nullish().catch(null),
  description: text,
  summary: text,
  title: text,
  tags: z.union([z.string(), z.array(z.string())]).nullish().catch(null),
  iconUrl: text,
  projectUrl: text,
  licenseUrl: text,
  licenseExpression: text,
  language: text,
  minClientVersion: text,
  requireLicenseAcceptance: z.boolean().nullish().catch(null),
  releaseNotes: text,
  copyright: text,
  dependencyGroups: z
    .array(z.object({ targetFramework: text, dependencies: z.array(dependencySchema).nullish().catch(null) }))
    .nullish()
    .catch(null),
  deprecation: z
    .object({
      reasons: z.array(z.string()),
      message: text,
      alternatePackage: z.object({ id: z.string(), range: text }).nullish().catch(null),
    })
    .nullish()
    .catch(null),
  vulnerabilities: z
    .array(z.object({ advisoryUrl: z.string(), severity: z.union([z.string(), z.number()]) }))
    .nullish()
    .catch(null),
});
export type UpstreamCatalogEntry = z.output<typeof catalogEntrySchema>;

const words = z.union([z.string(), z.array(z.string())]).nullish().catch(null);
/** One search hit; fields clients need are checked, anything odd in the rest is dropped. */
const searchHitSchema = z.object({
  id: z.string().min(1),
  version: z.string().min(1),
  description: text,
  summary: text,
  title: text,
  iconUrl: text,
  licenseUrl: text,
  licenseExpression: text,
  projectUrl: text,
  tags: words,
  authors: words,
  owners: words,
  totalDownloads: z.number().nullish().catch(null),
  packageTypes: z.array(z.object({ name: z.string() })).nullish().catch(null),
  versions: z.array(z.object({ version: z.string(), downloads: z.number().nullish().catch(null) })).nullish().catch(null),
});
export type UpstreamSearchHit = z.output<typeof searchHitSchema>;
const searchPageSchema = z.object({ totalHits: z.number().int().nonnegative(), data: z.array(z.unknown()) });

/** A page of an upstream's search or autocomplete: unreadable items are left out, `totalHits` is the upstream's. */
export interface UpstreamPage<T> {
  readonly totalHits: number;
  readonly data: readonly T[];
}

/** VulnerabilityInfo: at most 16 files, each named, absolute and dated (NuGet's own limits). */
const vulnerabilityIndexSchema = z
  .array(z.object({ '@name': z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), '@id': z.string().url(), '@updated': z.string().min(1) }))
  .max(16);
const vulnerabilityFileSchema = z.record(z.string(), z.array(z.unknown()));

/** One data file of an upstream's VulnerabilityInfo. */
export interface VulnerabilityFileRef {
  readonly name: string;
  readonly url: string;
  readonly updated: string;
}

const leafSchema = z.object({ catalogEntry: catalogEntrySchema });
const pageSchema = z.object({ '@id': z.string(), items: z.array(leafSchema).nullish() });
const indexSchema = z.object({ items: z.array(pageSchema) });

/** Bounds on what an upstream may make us read. */
const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;
const MAX_PAGES = 500;

export interface DownloadedFile {
  readonly file: string;
  readonly size: number;
  /** Base64 SHA-512. */
  readonly sha512: string;
}

/**
 * A client for one upstream V3 feed on Node's fetch. Every request is bounded: `timeoutMs` for the answer to start
 * and for every pause while it streams, and a size cap; anything unexpected is an {@link UpstreamDown}.
 */
export class UpstreamClient {
  private resources: { value: UpstreamResources; until: number } | undefined;

  constructor(
    readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  /** The resources from the service index (kept for an hour). */
  async resolve(): Promise<UpstreamResources> {
    if (this.resources && this.resources.until > Date.now()) return this.resources.value;
    const index = serviceIndexSchema.safeParse(await this.json(this.url));
    if (!index.success) throw new UpstreamDown(`${this.url} is not a NuGet V3 service index`);
    const find = (...types: string[]) => {
      for (const type of types) {
        const r = index.data.resources.find((x) => (Array.isArray(x['@type']) ? x['@type'] : [x['@type']]).includes(type));
        if (r) return r['@id'];
      }
      return null;
    };
    const base = (url: string | null) => (url === null || url.endsWith('/') ? url : `${url}/`);
    const packageBase = base(find('PackageBaseAddress/3.0.0'));
    const registrations = base(find('RegistrationsBaseUrl/3.6.0', 'RegistrationsBaseUrl/3.4.0', 'RegistrationsBaseUrl'));
    if (!packageBase || !registrations) throw new UpstreamDown(`${this.url} lacks PackageBaseAddress or RegistrationsBaseUrl`);
    const family = (name: string) => [`${name}/3.5.0`, `${name}/3.0.0-rc`, `${name}/3.0.0-beta`, name];
    const search = find(...family('SearchQueryService'));
    const autocomplete = find(...family('SearchAutocompleteService'));
    const vulnerabilityInfo = find('VulnerabilityInfo/6.7.0');
    const value = { packageBase, registrations, search, autocomplete, vulnerabilityInfo };
    this.resources = { value, until: Date.now() + 3_600_000 };
    return value;
  }

  /** Every version the upstream has of an id (listed or not) with its catalog entry; null when it has none (404). */
  async registration(lowerId: string): Promise<UpstreamCatalogEntry[] | null> {
    const { registrations } = await this.resolve();
    const raw = await this.json(`${registrations}${lowerId}/index.json`, true);
    if (raw === null) return null;
    const index = indexSchema.safeParse(raw);
    if (!index.success) throw new UpstreamDown(`${this.url}: unreadable registration of ${lowerId}`);
    if (index.data.items.length > MAX_PAGES) throw new UpstreamDown(`${this.url}: too many registration pages for ${lowerId}`);
    const entries: UpstreamCatalogEntry[] = [];
    for (const page of index.data.items) {
      let items = page.items;
      if (!items) {
        const linked = pageSchema.safeParse(await this.json(page['@id']));
        if (!linked.success || !linked.data.items) throw new UpstreamDown(`${this.url}: unreadable registration page of ${lowerId}`);
        items = linked.data.items;
      }
      for (const leaf of items) entries.push(leaf.catalogEntry);
    }
    return entries;
  }

  /**
   * One page of the upstream's SearchQueryService for these query parameters; null when it offers no search. An
   * answer that is not a search page is an {@link UpstreamDown}; single unreadable hits are left out.
   */
  async search(params: URLSearchParams): Promise<UpstreamPage<UpstreamSearchHit> | null> {
    const { search } = await this.resolve();
    if (!search) return null;
    const page = await this.page(search, params);
    const data = page.data.flatMap((item) => {
      const hit = searchHitSchema.safeParse(item);
      return hit.success ? [hit.data] : [];
    });
    return { totalHits: page.totalHits, data };
  }

  /** The upstream's SearchAutocompleteService (ids for `q`, versions for `id`); null when it offers none. */
  async autocomplete(params: URLSearchParams): Promise<UpstreamPage<string> | null> {
    const { autocomplete } = await this.resolve();
    if (!autocomplete) return null;
    const page = await this.page(autocomplete, params);
    return { totalHits: page.totalHits, data: page.data.filter((x): x is string => typeof x === 'string') };
  }

  private async page(url: string, params: URLSearchParams) {
    const full = `${url}${url.includes('?') ? '&' : '?'}${params}`;
    const page = searchPageSchema.safeParse(await this.json(full));
    if (!page.success) throw new UpstreamDown(`${full}: not a search answer`);
    return page.data;
  }

  /** The upstream's vulnerability index (its data files and when each changed); null when it offers none. */
  async vulnerabilityIndex(): Promise<readonly VulnerabilityFileRef[] | null> {
    const { vulnerabilityInfo } = await this.resolve();
    if (!vulnerabilityInfo) return null;
    const index = vulnerabilityIndexSchema.safeParse(await this.json(vulnerabilityInfo));
    if (!index.success) throw new UpstreamDown(`${vulnerabilityInfo}: not a vulnerability index`);
    return index.data.map((f) => ({ name: f['@name'], url: f['@id'], updated: f['@updated'] }));
  }

  /** One vulnerability data file: lower id → entries as the upstream wrote them (the caller checks each). */
  async vulnerabilityFile(url: string): Promise<Record<string, unknown[]>> {
    const file = vulnerabilityFileSchema.safeParse(await this.json(url));
    if (!file.success) throw new UpstreamDown(`${url}: not a vulnerability data file`);
    return file.data;
  }

  /** Downloads a `.nupkg` into `dir`, hashing it; null on 404. The caller removes the file. */
  async download(lowerId: string, lowerVersion: string, dir: string, maxBytes: number): Promise<DownloadedFile | null> {
    const { packageBase } = await this.resolve();
    const url = `${packageBase}${lowerId}/${lowerVersion}/${lowerId}.${lowerVersion}.nupkg`;
    const { response, idle, done } = await this.start(url);
    try {
      if (response.status === 404) return null;
      if (!response.ok || !response.body) throw new UpstreamDown(`${url} answered ${response.status}`);
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) throw new UpstreamDown(`${url} is larger than the package size limit`);
      const file = join(dir, `upstream-${randomUUID()}.nupkg`);
      const hash = createHash('sha512');
      const out = createWriteStream(file);
      let writeError: Error | undefined;
      out.on('error', (err) => (writeError = err));
      let size = 0;
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          idle();
          if (writeError) throw writeError;
          size += chunk.length;
          if (size > maxBytes) throw new UpstreamDown(`${url} is larger than the package size limit`);
          hash.update(chunk);
          if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
        if (Number.isFinite(declared) && declared !== size) throw new UpstreamDown(`${url} was truncated (${size} of ${declared} bytes)`);
      } catch (err) {
        out.destroy();
        await rm(file, { force: true });
        throw err instanceof UpstreamDown ? err : new UpstreamDown(`${url}: ${(err as Error).message}`);
      }
      return { file, size, sha512: hash.digest('base64') };
    } finally {
      done();
    }
  }

  /** A JSON document; null for 404 when `allow404`. */
  private async json(url: string, allow404 = false): Promise<unknown> {
    const { response, idle, done } = await this.start(url);
    try {
      if (allow404 && response.status === 404) return null;
      if (!response.ok || !response.body) throw new UpstreamDown(`${url} answered ${response.status}`);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        idle();
        size += chunk.length;
        if (size > MAX_DOCUMENT_BYTES) throw new UpstreamDown(`${url} is too large`);
        chunks.push(Buffer.from(chunk));
      }
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      throw err instanceof UpstreamDown ? err : new UpstreamDown(`${url}: ${(err as Error).message}`);
    } finally {
      done();
    }
  }

  /** Starts a GET whose every pause is bounded by the timeout (`idle()` re-arms it); `done()` disarms it. */
  private async start(url: string) {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new UpstreamDown(`${url} did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
    };
    const done = () => clearTimeout(timer);
    idle();
    try {
      const response = await fetch(url, {
        signal: controller.signal,
        headers: { accept: 'application/json, application/octet-stream, */*', 'user-agent': 'Pawket (upstream read-through)' },
        redirect: 'follow',
      });
      idle();
      return { response, idle, done };
    } catch (err) {
      done();
      const reason = controller.signal.aborted ? (controller.signal.reason as Error).message : (err as Error).message;
      throw new UpstreamDown(`${url}: ${reason}`);
    }
  }
}
