import { lowerId } from './id.js';
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
