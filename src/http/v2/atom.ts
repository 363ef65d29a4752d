/**
 * Atom documents of the V2 feed: a `<feed>` of package entries (with `m:count` and a `next` link when asked for or
 * needed) and a single `<entry>`. Laid out as nuget.org and NuGet.Server lay them out, which is what NuGet.Client's
 * V2FeedParser, PackageManagement's NuGet provider and Paket read: the id in `<title>`, the authors in
 * `<author><name>`, the download URL in `<content src>`, everything else in `m:properties`.
 */
import type { V2Package } from '../../feed/v2-catalog.js';
import type { ODataValue } from './odata-query.js';
import { PROPERTIES, type EntryUrls, type PropertyDef } from './properties.js';
import { document, el, seq, type Markup } from './xml.js';

export const NS = {
  atom: 'http://www.w3.org/2005/Atom',
  d: 'http://schemas.microsoft.com/ado/2007/08/dataservices',
  m: 'http://schemas.microsoft.com/ado/2007/08/dataservices/metadata',
  scheme: 'http://schemas.microsoft.com/ado/2007/08/dataservices/scheme',
} as const;

export const ATOM_FEED_TYPE = 'application/atom+xml;type=feed;charset=utf-8';
export const ATOM_ENTRY_TYPE = 'application/atom+xml;type=entry;charset=utf-8';

/** URLs of one request: the feed root (`.../api/v2/`), the flat container and the download URL of a version. */
export interface FeedUrls extends EntryUrls {
  /** Absolute, ending in `/`. */
  readonly root: string;
  download(p: V2Package): string;
}

/** Edm.DateTime as nuget.org writes it, in UTC. */
function dateText(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

function valueText(def: PropertyDef, v: ODataValue): string {
  if (v instanceof Date) return dateText(v);
  if (def.type === 'Edm.Boolean') return v ? 'true' : 'false';
  return String(v);
}

function property(def: PropertyDef, p: V2Package, urls: EntryUrls): Markup {
  const v = def.value(p, urls);
  const type = def.type === 'Edm.String' ? undefined : def.type;
  if (v === null) return el(`d:${def.name}`, { 'm:type': type, 'm:null': 'true' });
  // Padded tags and free text keep their spaces.
  const space = typeof v === 'string' && v !== v.trim() ? 'preserve' : undefined;
  return el(`d:${def.name}`, { 'm:type': type, 'xml:space': space }, valueText(def, v));
}

/** `Packages(Id='Foo',Version='1.0.0')`: the entity key as a relative URL. */
export function entityPath(p: V2Package): string {
  const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
  return `Packages(Id=${quote(p.view.record.id)},Version=${quote(p.view.record.fullVersion)})`;
}

function entryBody(p: V2Package, urls: FeedUrls, select: ReadonlySet<string> | null): Markup[] {
  const path = entityPath(p);
  const m = p.view.metadata;
  const properties = PROPERTIES.filter((def) => select === null || select.has(def.name.toLowerCase()));
  return [
    el('id', {}, urls.root + path),
    el('category', { term: 'NuGetGallery.V2FeedPackage', scheme: NS.scheme }),
    el('link', { rel: 'edit', title: 'V2FeedPackage', href: path }),
    el('title', { type: 'text' }, p.view.record.id),
    el('summary', { type: 'text' }, m.summary ?? ''),
    el('updated', {}, dateText(new Date(p.view.record.published))),
    el('author', {}, el('name', {}, m.authors)),
    el('link', { rel: 'edit-media', title: 'V2FeedPackage', href: `${path}/$value` }),
    el('content', { type: 'application/zip', src: urls.download(p) }),
    el('m:properties', {}, seq(properties.map((def) => property(def, p, urls)))),
  ];
}

const rootNamespaces = (root: string) => ({
  'xml:base': root,
  xmlns: NS.atom,
  'xmlns:d': NS.d,
  'xmlns:m': NS.m,
});

/** A single entry document (`Packages(Id='..',Version='..')`). */
export function entryDocument(p: V2Package, urls: FeedUrls, select: ReadonlySet<string> | null): string {
  return document(el('entry', rootNamespaces(urls.root), ...entryBody(p, urls, select)));
}

export interface FeedPage {
  /** The collection or function the feed answers, e.g. `Packages`, `Search`, `FindPackagesById`. */
  readonly title: string;
  readonly entries: readonly V2Package[];
  /** `$inlinecount=allpages`: the number of matches before paging. */
  readonly count?: number;
  /** Absolute URL of the next page. */
  readonly next?: string;
  readonly select: ReadonlySet<string> | null;
}

/** A feed document. */
export function feedDocument(page: FeedPage, urls: FeedUrls): string {
  const newest = page.entries.reduce((t, p) => (p.view.record.published > t ? p.view.record.published : t), '');
  return document(
    el(
      'feed',
      rootNamespaces(urls.root),
      page.count !== undefined ? el('m:count', {}, String(page.count)) : null,
      el('id', {}, urls.root + page.title),
      el('title', { type: 'text' }, page.title),
      el('updated', {}, dateText(newest ? new Date(newest) : new Date())),
      el('link', { rel: 'self', title: page.title, href: page.title }),
      ...page.entries.map((p) => el('entry', {}, ...entryBody(p, urls, page.select))),
      page.next ? el('link', { rel: 'next', href: page.next }) : null,
    ),
  );
}
