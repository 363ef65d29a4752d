import type { NuGetVersion } from '../nuget/version.js';

/** A dependency as the nuspec declares it; `range` is the original range text, `null` when absent (any version). */
export interface Dependency {
  readonly id: string;
  readonly range: string | null;
  readonly exclude?: string;
  readonly include?: string;
}

/** Dependencies for one target framework; `targetFramework` is `null` for the framework-agnostic group. */
export interface DependencyGroup {
  readonly targetFramework: string | null;
  readonly dependencies: readonly Dependency[];
}

export interface PackageType {
  readonly name: string;
  readonly version: string | null;
}

export interface License {
  readonly type: 'expression' | 'file';
  readonly value: string;
  readonly version: string | null;
}

export interface Repository {
  readonly type: string | null;
  readonly url: string | null;
  readonly branch: string | null;
  readonly commit: string | null;
}

/**
 * Everything Pawket keeps from a package's nuspec.
 * Strings are trimmed; optional fields are `null` when absent or empty.
 */
export interface PackageMetadata {
  readonly id: string;
  readonly version: NuGetVersion;
  readonly title: string | null;
  readonly authors: string;
  readonly owners: string | null;
  readonly description: string;
  readonly summary: string | null;
  readonly releaseNotes: string | null;
  readonly copyright: string | null;
  readonly language: string | null;
  /** Tags split on whitespace, commas and semicolons, as nuget.org does. */
  readonly tags: readonly string[];
  readonly projectUrl: string | null;
  readonly iconUrl: string | null;
  /** Path of the icon file inside the package (`<icon>`). */
  readonly icon: string | null;
  /** Path of the readme file inside the package (`<readme>`). */
  readonly readme: string | null;
  readonly licenseUrl: string | null;
  readonly license: License | null;
  readonly repository: Repository | null;
  readonly requireLicenseAcceptance: boolean;
  readonly developmentDependency: boolean;
  readonly minClientVersion: string | null;
  readonly serviceable: boolean;
  readonly dependencyGroups: readonly DependencyGroup[];
  /** Empty when the nuspec declares none (clients then assume `Dependency`). */
  readonly packageTypes: readonly PackageType[];
  /** Target frameworks from dependency groups and lib/ref/build folders, as short folder names. */
  readonly frameworks: readonly string[];
  /** SemVer 2.0.0 package: its version or a dependency range bound is SemVer 2.0.0. */
  readonly isSemVer2: boolean;
}

/** A package read from an untrusted file: its metadata plus the nuspec bytes exactly as stored in the package. */
export interface ReadPackage {
  readonly metadata: PackageMetadata;
  readonly nuspec: Buffer;
  /** Entry names in the zip, as stored (used by symbol validation and the UI). */
  readonly entries: readonly string[];
}
