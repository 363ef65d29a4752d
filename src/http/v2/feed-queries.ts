/**
 * The V2 collection and functions: `Packages()`, `Packages(Id='..',Version='..')`, `FindPackagesById()`, `Search()`
 * and `GetUpdates()`, with `$filter`, `$orderby`, `$skip`, `$top`, `$select`, `$inlinecount` and `/$count`.
 *
 * Where the candidates come from:
 * - an id given (`FindPackagesById()`, a key, or a `$filter` that pins the id): that id's versions (V2Catalog);
 * - `Search()`: the search index (feed/search), the same ranking, fields and typo tolerance as V3 search;
 * - `Packages()` otherwise: every id the search index holds, read id by id only as far as the page needs.
 * The `$filter` is then evaluated on each entry, so it means the same whichever way the candidates were found.
 */
import { badRequest } from '../../errors.js';
import type { SearchIndex } from '../../feed/search/search-index.js';
import { v2Packages, type V2Catalog, type V2Package } from '../../feed/v2-catalog.js';
import { lowerId as toLowerId } from '../../nuget/id.js';
import { parseRange, satisfies } from '../../nuget/range.js';
import { compareVersions, lowerNormalizedVersion, parseVersion } from '../../nuget/version.js';
import { checkProperties, matches, orderComparator } from './odata-eval.js';
import {
  booleanParam,
  literalParam,
  parseFilter,
  parseOrderBy,
  parseSelect,
  pinnedIds,
  wholeNumberParam,
  type ODataExpr,
  type OrderByItem,
} from './odata-query.js';

/** Entries per page; a client wanting more follows the `next` link (nuget.org pages by 100 too). */
export const V2_PAGE_SIZE = 100;
/** Ids asked for in one `GetUpdates()` call. */
const MAX_UPDATE_IDS = 1000;
/** Ids read from storage at once while filling a page. */
const LOAD_CONCURRENCY = 8;

export type QueryParams = Readonly<Record<string, string | undefined>>;

/** The system query options of one request. */
export interface ODataOptions {
  readonly filter: ODataExpr | null;
  readonly orderBy: readonly OrderByItem[] | null;
  readonly skip: number;
  readonly top: number | null;
  readonly select: ReadonlySet<string> | null;
  readonly inlineCount: boolean;
  /** `semVerLevel=2.0.0` (or higher): SemVer 2.0.0 versions are visible. */
  readonly semVer2: boolean;
}

const SEMVER2 = parseVersion('2.0.0')!;

/** Reads `$filter`, `$orderby`, `$skip`, `$top`, `$select`, `$inlinecount`/`$count` and `semVerLevel`. */
export function readOptions(params: QueryParams): ODataOptions {
  const filterText = params['$filter']?.trim();
  const orderText = params['$orderby']?.trim();
  const filter = filterText ? parseFilter(filterText) : null;
  const orderBy = orderText ? parseOrderBy(orderText) : null;
  if (filter) checkProperties(filter, '$filter');
  for (const item of orderBy ?? []) checkProperties(item.expr, '$orderby');
  const select = parseSelect(params['$select']);
  const level = parseVersion(literalParam(params['semVerLevel']) ?? '');
  return {
    filter,
    orderBy,
    skip: wholeNumberParam(params['$skip'], '$skip') ?? 0,
    top: wholeNumberParam(params['$top'], '$top'),
    select: select ? new Set(select.map((s) => s.toLowerCase())) : null,
    inlineCount: params['$inlinecount']?.trim().toLowerCase() === 'allpages' || params['$count']?.trim().toLowerCase() === 'true',
    semVer2: level !== null && compareVersions(level, SEMVER2) >= 0,
  };
}

/** The versions of one id a query may return, read only when the query gets that far. */
interface Group {
  readonly lowerId: string;
  readonly totalDownloads: number;
  load(): Promise<V2Package[]>;
}

export interface QueryResult {
  readonly entries: V2Package[];
  /** Matches before `$skip` and `$top` (computed when asked for). */
  readonly total?: number;
  /** Options of the next page, when there is one. */
  readonly nextSkipTop?: { readonly skip: number; readonly top: number | null };
}

/** Whether an `$orderby` only uses id-level values, so ids can be sorted before any of them is read. */
function idLevelOrder(orderBy: readonly OrderByItem[]): boolean {
  return orderBy.every((i) => i.expr.kind === 'property' && ['id', 'downloadcount'].includes(i.expr.name.toLowerCase()));
}

function compareGroups(orderBy: readonly OrderByItem[]) {
  return (a: Group, b: Group): number => {
    for (const item of orderBy) {
      const name = item.expr.kind === 'property' ? item.expr.name.toLowerCase() : '';
      const order =
        name === 'id' ? (a.lowerId < b.lowerId ? -1 : a.lowerId > b.lowerId ? 1 : 0) : Math.sign(a.totalDownloads - b.totalDownloads);
      if (order !== 0) return item.descending ? -order : order;
    }
    return 0;
  };
}

/**
 * Runs the options over candidate groups: filters each entry, orders, pages. Ids are read in order and only until
 * the page (plus one entry, to know whether there is a next page) is full, unless the order or a count needs them all.
 */
export async function runQuery(groups: Group[], opts: ODataOptions, needTotal: boolean): Promise<QueryResult> {
  const pageSize = Math.min(opts.top ?? V2_PAGE_SIZE, V2_PAGE_SIZE);
  const needAll = needTotal || (opts.orderBy !== null && !idLevelOrder(opts.orderBy));
  const ordered = opts.orderBy && !needAll ? [...groups].sort(compareGroups(opts.orderBy)) : groups;
  const want = opts.skip + pageSize + 1;
  const matched: V2Package[] = [];
  for (let i = 0; i < ordered.length && (needAll || matched.length < want); i += LOAD_CONCURRENCY) {
    const batch = await Promise.all(ordered.slice(i, i + LOAD_CONCURRENCY).map((g) => g.load()));
    for (const entries of batch) for (const p of entries) if (matches(opts.filter, p)) matched.push(p);
  }
  if (needAll && opts.orderBy) matched.sort(orderComparator(opts.orderBy));
  const entries = matched.slice(opts.skip, opts.skip + pageSize);
  const more = matched.length > opts.skip + pageSize && (opts.top === null || opts.top > pageSize);
  return {
    entries,
    ...(needTotal ? { total: matched.length } : {}),
    ...(more ? { nextSkipTop: { skip: opts.skip + pageSize, top: opts.top === null ? null : opts.top - pageSize } } : {}),
  };
}

/** Everything the V2 queries read. */
export interface V2Sources {
  readonly catalog: V2Catalog;
  readonly index: SearchIndex;
}

function idGroup(sources: V2Sources, id: string, semVer2: boolean, keep: (p: V2Package) => boolean = () => true): Group {
  let loaded: Promise<V2Package[]> | undefined;
  return {
    lowerId: toLowerId(id),
    totalDownloads: 0,
    load: () =>
      (loaded ??= sources.catalog.get(id).then((found) => (found ? v2Packages(found, { semVer2 }).filter(keep) : []))),
  };
}

/** Every id the search index holds (ids with a listed version the SemVer level allows), by id. */
async function allIds(sources: V2Sources, semVer2: boolean): Promise<{ lowerId: string; totalDownloads: number }[]> {
  const all = await sources.index.search({ query: '', skip: 0, take: Number.MAX_SAFE_INTEGER, prerelease: true, semVer2, packageType: null });
  return all.packages
    .map((p) => ({ lowerId: p.lowerId, totalDownloads: p.totalDownloads }))
    .sort((a, b) => (a.lowerId < b.lowerId ? -1 : a.lowerId > b.lowerId ? 1 : 0));
}

/**
 * `Packages()`: every version of every id (unlisted ones too, marked by `Listed` and the 1900 publish date), in key
 * order unless `$orderby` says otherwise.
 */
export async function packagesQuery(sources: V2Sources, opts: ODataOptions, needTotal: boolean): Promise<QueryResult> {
  const pinned = opts.filter ? pinnedIds(opts.filter) : null;
  const groups: Group[] = pinned
    ? pinned.map((id) => idGroup(sources, id, opts.semVer2))
    : (await allIds(sources, opts.semVer2)).map((g) => ({ ...idGroup(sources, g.lowerId, opts.semVer2), totalDownloads: g.totalDownloads }));
  return runQuery(groups, opts, needTotal);
}

/** `FindPackagesById()?id='Foo'`: every version of one id, listed or not, ascending. */
export async function findPackagesByIdQuery(sources: V2Sources, params: QueryParams, opts: ODataOptions, needTotal: boolean): Promise<QueryResult> {
  const id = literalParam(params['id'])?.trim();
  if (!id) throw badRequest("FindPackagesById() needs the id parameter, for example FindPackagesById()?id='Newtonsoft.Json'.");
  return runQuery([idGroup(sources, id, opts.semVer2)], opts, needTotal);
}

/**
 * `Search()?searchTerm='..'&targetFramework='..'&includePrerelease=..`: the ids the search index ranks for the term
 * (nuget.org's query syntax), each with its listed versions the prerelease and SemVer choices allow; usually narrowed
 * to one version per id with `$filter=IsLatestVersion` or `IsAbsoluteLatestVersion`. `targetFramework` is accepted
 * and, as on nuget.org, does not narrow the results.
 */
export async function searchQuery(sources: V2Sources, params: QueryParams, opts: ODataOptions, needTotal: boolean): Promise<QueryResult> {
  const term = (literalParam(params['searchTerm']) ?? '').trim();
  const prerelease = booleanParam(params['includePrerelease'], 'includePrerelease', false);
  const keep = (p: V2Package) => p.view.record.listed && (prerelease || !p.view.record.isPrerelease);
  const pinned = term === '' && opts.filter ? pinnedIds(opts.filter) : null;
  let groups: Group[];
  if (pinned) {
    groups = pinned.map((id) => idGroup(sources, id, opts.semVer2, keep));
  } else {
    const found = await sources.index.search({ query: term, skip: 0, take: Number.MAX_SAFE_INTEGER, prerelease, semVer2: opts.semVer2, packageType: null });
    groups = found.packages.map((r) => ({ ...idGroup(sources, r.lowerId, opts.semVer2, keep), totalDownloads: r.totalDownloads }));
  }
  return runQuery(groups, opts, needTotal);
}

function splitList(value: string | null): string[] {
  return (value ?? '').split('|').map((s) => s.trim());
}

/**
 * `GetUpdates()?packageIds='A|B'&versions='1.0|2.0'&includePrerelease=..&includeAllVersions=..&versionConstraints='..|..'`:
 * for each id, the listed versions above the given one (within its constraint, when one is given); only the highest
 * unless `includeAllVersions`. `targetFrameworks` is accepted and does not narrow the results.
 */
export async function getUpdatesQuery(sources: V2Sources, params: QueryParams, opts: ODataOptions, needTotal: boolean): Promise<QueryResult> {
  const ids = splitList(literalParam(params['packageIds']));
  const versions = splitList(literalParam(params['versions']));
  const constraintsText = literalParam(params['versionConstraints']);
  const constraints = constraintsText === null ? [] : splitList(constraintsText);
  if (ids.length === 0 || ids[0] === '') return { entries: [], ...(needTotal ? { total: 0 } : {}) };
  if (ids.length !== versions.length) throw badRequest('GetUpdates() needs as many versions as packageIds (separated by |).');
  if (constraintsText !== null && constraints.length !== ids.length) {
    throw badRequest('GetUpdates() needs as many versionConstraints as packageIds (separated by |), when it has any.');
  }
  if (ids.length > MAX_UPDATE_IDS) throw badRequest(`GetUpdates() takes at most ${MAX_UPDATE_IDS} packageIds at once.`);
  const prerelease = booleanParam(params['includePrerelease'], 'includePrerelease', false);
  const allVersions = booleanParam(params['includeAllVersions'], 'includeAllVersions', false);

  const groups: Group[] = ids.map((id, i) => {
    const current = parseVersion(versions[i]!);
    if (!current) throw badRequest(`GetUpdates(): '${versions[i]!.slice(0, 50)}' is not a version.`);
    const constraintText = constraints[i] ?? '';
    const constraint = constraintText === '' ? null : parseRange(constraintText);
    if (constraintText !== '' && !constraint) throw badRequest(`GetUpdates(): '${constraintText.slice(0, 50)}' is not a version range.`);
    const base = idGroup(sources, id, opts.semVer2);
    return {
      ...base,
      async load() {
        const newer = (await base.load()).filter(
          (p) =>
            p.view.record.listed &&
            (prerelease || !p.view.record.isPrerelease) &&
            compareVersions(p.view.parsed, current) > 0 &&
            (constraint === null || satisfies(constraint, p.view.parsed)),
        );
        return allVersions ? newer : newer.slice(-1);
      },
    };
  });
  return runQuery(groups, opts, needTotal);
}

/** `Packages(Id='Foo',Version='1.0.0')`: one version, whatever its SemVer level or listing; null when unknown. */
export async function packageByKey(sources: V2Sources, id: string, version: string): Promise<V2Package | null> {
  const parsed = parseVersion(version);
  const found = parsed ? await sources.catalog.get(id) : null;
  if (!parsed || !found) return null;
  const lowerVersion = lowerNormalizedVersion(parsed);
  return v2Packages(found, { semVer2: true }).find((p) => p.view.record.lowerVersion === lowerVersion) ?? null;
}
