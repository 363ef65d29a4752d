import { PawketError } from '../../errors.js';
import { isValidPackageId } from '../../nuget/id.js';
import { findBestMatch, isFloating, parseRange, satisfies } from '../../nuget/range.js';
import { compareVersions, parseVersion, type NuGetVersion } from '../../nuget/version.js';
import type { UpstreamService } from './service.js';

/** One `ID[@RANGE]` argument of `pawket mirror add`. */
export interface MirrorRequest {
  readonly id: string;
  readonly range: string | null;
}

/**
 * Parses `ID[@RANGE]`: no range means the latest listed version; a floating range (`1.*`) its best match; any other
 * range every listed version in it (an exact `[1.2.3]` also an unlisted one).
 * @example parseMirrorRequest('Newtonsoft.Json@[13.0,14.0)') // { id: 'Newtonsoft.Json', range: '[13.0,14.0)' }
 */
export function parseMirrorRequest(arg: string): MirrorRequest {
  const at = arg.indexOf('@');
  const id = at < 0 ? arg : arg.slice(0, at);
  const range = at < 0 ? null : arg.slice(at + 1);
  if (!isValidPackageId(id)) throw new PawketError(400, `"${id}" is not a valid package id.`);
  if (range !== null && !parseRange(range)) throw new PawketError(400, `"${range}" is not a NuGet version range.`);
  return { id, range };
}

/** The versions (full version strings) one request names, from the upstreams' view. */
export async function planMirror(upstream: UpstreamService, request: MirrorRequest): Promise<string[]> {
  if (!upstream.covers(request.id)) throw new PawketError(400, `No upstream may be asked for ${request.id} (allow/deny lists).`);
  const view = await upstream.view(request.id);
  if (view.versions.length === 0) {
    throw new PawketError(view.down.length ? 502 : 404, view.down.length
      ? `The upstream is unreachable and knows nothing cached of ${request.id}: ${view.down.join('; ')}`
      : `No upstream has ${request.id}.`);
  }
  const all = view.versions.map((v) => ({ parsed: parseVersion(v.record.fullVersion)!, v }));
  const listed = all.filter((x) => x.v.record.listed);
  const pick = (xs: typeof all) => xs.map((x) => x.v.record.fullVersion);
  if (request.range === null) {
    const stable = listed.filter((x) => x.parsed.releaseLabels.length === 0);
    const latest = (stable.length ? stable : listed).sort((a, b) => compareVersions(a.parsed, b.parsed)).at(-1);
    return latest ? pick([latest]) : [];
  }
  const range = parseRange(request.range)!;
  if (isFloating(range)) {
    const best = findBestMatch(range, listed.map((x) => x.parsed));
    return best ? pick(listed.filter((x) => compareVersions(x.parsed, best as NuGetVersion) === 0)) : [];
  }
  const exact = range.minVersion && range.maxVersion && range.isMinInclusive && range.isMaxInclusive &&
    compareVersions(range.minVersion, range.maxVersion) === 0;
  return pick((exact ? all : listed).filter((x) => satisfies(range, x.parsed)));
}
