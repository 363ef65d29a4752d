import { lowerId, toLowerInvariant } from './id.js';
import { lowerNormalizedVersion, type NuGetVersion } from './version.js';

/** The case-insensitive identity of a package version: the keys of URLs, storage and the database. */
export interface PackageIdentityKey {
  readonly lowerId: string;
  readonly lowerVersion: string;
}

/** @example identityKey('Newtonsoft.Json', parseVersion('13.0')!) // { lowerId: 'newtonsoft.json', lowerVersion: '13.0.0' } */
export function identityKey(id: string, version: NuGetVersion): PackageIdentityKey {
  return { lowerId: lowerId(id), lowerVersion: lowerNormalizedVersion(version) };
}

/**
 * Which file of a package a flat-container file name asks for, compared case-insensitively as NuGet clients may vary
 * the case; null when the name is none of this package's. Files are `{id}.{version}.{extension}`, except the nuspec,
 * which the protocol names `{id}.nuspec` (the versioned name is accepted too).
 * @example packageFileKind('Foo.1.0.0.nupkg', { lowerId: 'foo', lowerVersion: '1.0.0' }, ['nupkg', 'nuspec']) // 'nupkg'
 * @example packageFileKind('foo.nuspec', { lowerId: 'foo', lowerVersion: '1.0.0' }, ['nupkg', 'nuspec']) // 'nuspec'
 */
export function packageFileKind<K extends string>(fileName: string, key: PackageIdentityKey, kinds: readonly K[]): K | null {
  const requested = toLowerInvariant(fileName);
  return (
    kinds.find(
      (kind) =>
        requested === `${key.lowerId}.${key.lowerVersion}.${kind}` || (kind === 'nuspec' && requested === `${key.lowerId}.nuspec`),
    ) ?? null
  );
}
