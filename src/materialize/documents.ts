import { createHash } from 'node:crypto';
import type { IdAdvisories } from '../feed/advisories.js';
import type { SortedVersion } from '../feed/package-reader.js';
import { routes } from '../http/routes.js';
import { chunk, MAX_INLINED_VERSIONS, PAGE_SIZE, registrationIndex, registrationLeaf, registrationPage, type RegistrationUrls } from '../http/v3/registration-documents.js';
import { filterHive, withAdvisories } from '../http/v3/registration.js';
import type { RegistrationVersion } from '../http/v3/registration-documents.js';
import { documentPaths } from './layout.js';

/** A JSON document to write (with its gzip twin). */
export interface JsonDocument {
  readonly path: string;
  readonly bytes: Buffer;
}

/** One version's documents: its package file, nuspec, and a leaf per hive that shows it (rendered on demand). */
export interface VersionDocuments {
  readonly lowerVersion: string;
  readonly blobKey: string;
  readonly sha512: string;
  /** Changes whenever any of its documents would; computed from what they are made of, without rendering them. */
  readonly digest: string;
  leaves(): JsonDocument[];
}

/** A linked registration page (ids with more versions than nuget.org inlines), rendered on demand. */
export interface PageDocument {
  readonly key: string;
  readonly path: string;
  readonly digest: string;
  render(): JsonDocument;
}

/** Every restore document of one id, as the dynamic routes would render them for `base`. */
export interface IdDocuments {
  readonly versions: readonly VersionDocuments[];
  readonly pages: readonly PageDocument[];
  /** Registration indexes and the versions list: written last, since they point at everything else. */
  readonly indexes: readonly JsonDocument[];
}

const HIVES = Object.values(routes.registration);
const digestOf = (...parts: Array<string | Buffer>) => {
  const hash = createHash('sha1');
  for (const p of parts) hash.update(p).update('\0');
  return hash.digest('base64url').slice(0, 16);
};
// Exactly the bytes the response cache sends: JSON.stringify of the same value (the base needs no escaping).
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** What a version's leaf is made of (a package's metadata never changes without its hash changing). */
const leafInputs = (v: SortedVersion) => [v.record.sha512, v.record.blobKey, String(v.record.listed), v.record.published, v.record.mirroredFrom ?? ''];
/** What a version's entry in a page or inlined index is made of: its leaf's inputs and its advisories. */
const entryInputs = (v: RegistrationVersion) => [...leafInputs(v), JSON.stringify(v.advisories ?? null), JSON.stringify(v.upstreamAdvisories ?? null)];

/**
 * The documents of one id for one public base URL (`https://host[/f/name]`), made by the same functions the routes
 * use, so a materialized file equals what the dynamic route answers for that base. Leaves and linked pages are
 * rendered only when asked for: a change to an id with thousands of versions renders what it changed.
 */
export function renderIdDocuments(base: string, lid: string, versions: SortedVersion[], advisories: IdAdvisories): IdDocuments {
  const flatContainer = base + routes.flatContainer;
  const pages: PageDocument[] = [];
  const indexes: JsonDocument[] = [];
  const hives = HIVES.map((hive) => ({ hive, urls: { hive: base + hive.path, flatContainer } as RegistrationUrls }));
  for (const { hive, urls } of hives) {
    const visible = withAdvisories(filterHive(versions, hive), advisories);
    if (!visible.length) continue;
    if (visible.length > MAX_INLINED_VERSIONS) {
      for (const page of chunk(visible, PAGE_SIZE)) {
        const lower = page[0]!.record.lowerVersion;
        const upper = page.at(-1)!.record.lowerVersion;
        const path = documentPaths.page(hive.path, lid, lower, upper);
        pages.push({
          key: `${hive.path}|${lower}|${upper}`,
          path,
          digest: digestOf(...page.flatMap(entryInputs)),
          render: () => ({ path, bytes: json(registrationPage(urls, lid, visible, lower, upper)) }),
        });
      }
    }
    indexes.push({ path: documentPaths.registrationIndex(hive.path, lid), bytes: json(registrationIndex(urls, lid, visible)) });
  }
  if (versions.length) indexes.push({ path: documentPaths.flatIndex(lid), bytes: json({ versions: versions.map((v) => v.record.lowerVersion) }) });
  return {
    versions: versions.map((v) => ({
      lowerVersion: v.record.lowerVersion,
      blobKey: v.record.blobKey,
      sha512: v.record.sha512,
      digest: digestOf(...leafInputs(v), String(v.record.isSemVer2)),
      leaves: () =>
        hives
          .filter(({ hive }) => hive.semVer2 || !v.record.isSemVer2)
          .map(({ hive, urls }) => ({ path: documentPaths.leaf(hive.path, lid, v.record.lowerVersion), bytes: json(registrationLeaf(urls, v)) })),
    })),
    pages,
    indexes,
  };
}

/** Every path an id's documents may have had for these versions and pages (what removing them removes). */
export function versionPaths(lid: string, lv: string): string[] {
  return [documentPaths.nupkg(lid, lv), documentPaths.nuspec(lid, lv), ...HIVES.map((h) => documentPaths.leaf(h.path, lid, lv))];
}

export function pagePath(lid: string, key: string): string {
  const [hivePath, lower, upper] = key.split('|') as [string, string, string];
  return documentPaths.page(hivePath, lid, lower, upper);
}

export function indexPaths(lid: string): string[] {
  return [...HIVES.map((h) => documentPaths.registrationIndex(h.path, lid)), documentPaths.flatIndex(lid)];
}
