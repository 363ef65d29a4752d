/**
 * V2 autocomplete, as NuGet.Protocol's `AutoCompleteResourceV2Feed` asks it (the Package Manager Console's tab
 * completion on a V2 source) and as nuget.org answers it: plain JSON arrays of strings.
 *
 * - `GET /api/v2/package-ids?partialId=newt&includePrerelease=False&semVerLevel=2.0.0` → `["Newtonsoft.Json", ...]`:
 *   at most 30 ids, by the rules of V3 autocomplete (ids starting with the text first, then ids with a word starting
 *   with it, most downloaded first); no text lists the most downloaded ids.
 * - `GET /api/v2/package-versions/{id}?includePrerelease=True&semVerLevel=2.0.0` → `["1.0.0", "2.0.0-beta"]`: the
 *   listed versions of the id, ascending; `[]` for an unknown id. The client narrows them to a typed prefix itself.
 *
 * Both hide unlisted versions, prerelease ones unless `includePrerelease` is true, and SemVer 2.0.0 ones unless
 * `semVerLevel` is 2.0.0 or more, as the rest of the V2 feed does. Like the rest of the V2 feed they read this feed's
 * packages only, never the upstreams: an id completed here is one a V2 client can then install from here.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SearchFilter, SearchIndex } from '../../feed/search/search-index.js';
import { compareVersions, parseVersion, versionOf } from '../../nuget/version.js';
import { routes } from '../routes.js';
import { booleanParam, literalParam } from './odata-query.js';

/** nuget.org's answer size for `package-ids` (its V2 endpoint asks its autocomplete service for 30). */
export const MAX_PACKAGE_IDS = 30;

const SEMVER2 = versionOf('2.0.0');

type Query = Record<string, string | string[] | undefined>;

/** The first value of a query parameter, its name matched case-insensitively (as ASP.NET binds them on nuget.org). */
function param(query: Query, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(query)) {
    if (key.toLowerCase() !== lower) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) return first;
  }
  return undefined;
}

function readFilter(query: Query): SearchFilter {
  const level = parseVersion(literalParam(param(query, 'semVerLevel')) ?? '');
  return {
    prerelease: booleanParam(param(query, 'includePrerelease'), 'includePrerelease', false),
    semVer2: level !== null && compareVersions(level, SEMVER2) >= 0,
    packageType: null,
  };
}

function sendArray(reply: FastifyReply, values: readonly string[]) {
  return reply.type('application/json; charset=utf-8').header('cache-control', 'no-cache').send(JSON.stringify(values));
}

/** Registers `package-ids` and `package-versions/{id}` under the V2 feed root, answered from `index`. */
export function v2AutocompleteRoutes(app: FastifyInstance, index: SearchIndex): void {
  app.get(`${routes.v2}package-ids`, async (request, reply) => {
    const query = request.query as Query;
    const partialId = param(query, 'partialId') ?? '';
    const results = await index.autocompleteIds({ query: partialId, skip: 0, take: MAX_PACKAGE_IDS, ...readFilter(query) });
    return sendArray(reply, results.ids);
  });

  app.get<{ Params: { id: string } }>(`${routes.v2}package-versions/:id`, async (request, reply) => {
    return sendArray(reply, await index.autocompleteVersions(request.params.id, readFilter(request.query as Query)));
  });
}
