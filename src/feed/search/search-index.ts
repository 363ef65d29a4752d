/**
 * The search use cases behind one interface: today an in-memory index per process (memory-index.ts); a database
 * full-text or external engine could stand in without the web layer noticing.
 */

/** Which versions a request may see, as the protocol's `prerelease`, `semVerLevel` and `packageType` say. */
export interface SearchFilter {
  /** Include prerelease versions (`prerelease=true`). */
  readonly prerelease: boolean;
  /** Include SemVer 2.0.0 versions (`semVerLevel` >= 2.0.0). */
  readonly semVer2: boolean;
  /** Only ids whose shown version declares this package type (case-insensitive); null for any. */
  readonly packageType: string | null;
}

export interface SearchRequest extends SearchFilter {
  readonly query: string;
  readonly skip: number;
  readonly take: number;
}

export interface SearchResultVersion {
  /** Full version string (normalized, with build metadata). */
  readonly version: string;
  /** Lower-case normalized version: the key of URLs. */
  readonly lowerVersion: string;
  readonly downloads: number;
  /** The upstream this version was mirrored from (docs/UPSTREAMS.md); absent for pushed versions. */
  readonly mirroredFrom?: string;
}

/** The searchable, displayable metadata of one package version. */
export interface PackageText {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly authors: readonly string[];
  readonly owners: readonly string[];
  /** The nuspec's `<iconUrl>` (or what an upstream says). */
  readonly iconUrl: string | null;
  /** Whether the version has an icon of its own (`<icon>`), which the feed serves and then points clients at. */
  readonly embeddedIcon: boolean;
  readonly licenseUrl: string | null;
  readonly licenseExpression: string | null;
  readonly projectUrl: string | null;
  /** Declared package types; `['Dependency']` when the package declares none. */
  readonly packageTypes: readonly string[];
}

/** One id in search results: the metadata of its latest version the filter allows, and the versions it allows. */
export interface SearchResultPackage extends PackageText {
  readonly lowerId: string;
  readonly version: string;
  readonly lowerVersion: string;
  /** Downloads of every version of the id. */
  readonly totalDownloads: number;
  /** Listed versions the filter allows, ascending. */
  readonly versions: readonly SearchResultVersion[];
  /** The upstream the shown version comes from: mirrored, or (merged search) only the upstream has the id. */
  readonly mirroredFrom?: string;
}

export interface SearchResults {
  /** Matches before skip and take. */
  readonly totalHits: number;
  readonly packages: readonly SearchResultPackage[];
}

export interface AutocompleteResults {
  readonly totalHits: number;
  readonly ids: readonly string[];
}

/** Downloads counted since the last flush, per version. */
export interface DownloadDelta {
  readonly lowerId: string;
  readonly lowerVersion: string;
  readonly count: number;
}

export interface SearchIndex {
  /** Ranked ids matching a query (nuget.org's query syntax); an empty query lists every id, most downloaded first. */
  search(request: SearchRequest): Promise<SearchResults>;
  /** Ids starting with, or having a word starting with, `request.query`; prefix matches first. */
  autocompleteIds(request: SearchRequest): Promise<AutocompleteResults>;
  /** Listed versions of an id the filter allows, ascending, as full strings; empty for unknown ids. */
  autocompleteVersions(id: string, filter: SearchFilter): Promise<string[]>;
  /** Downloads the counter has just written to the database. */
  addDownloads(deltas: readonly DownloadDelta[]): void;
  close(): Promise<void>;
}
