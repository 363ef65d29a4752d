import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.js';
import { advisoriesOfVersion, NO_ADVISORIES, type AdvisoryService, type IdAdvisories } from '../../feed/advisories.js';
import type { PackageReader, SortedVersion } from '../../feed/package-reader.js';
import { lowerId } from '../../nuget/id.js';
import { baseUrl } from '../base-url.js';
import { REVALIDATE, sendDocument, type ResponseCache } from '../response-cache.js';
import { cacheKeys, routes, type RegistrationHive } from '../routes.js';
import {
  registrationIndex,
  registrationLeaf,
  registrationPage,
  type RegistrationUrls,
  type RegistrationVersion,
} from './registration-documents.js';

/** RegistrationsBaseUrl in its three hives; the plain hives hide SemVer 2.0.0 versions from older clients. */
export function registrationRoutes(
  app: FastifyInstance,
  reader: PackageReader,
  cache: ResponseCache,
  configuredBase: string | undefined,
  advisories: Pick<AdvisoryService, 'forId'>,
): void {
  for (const hive of Object.values(routes.registration)) {
    const context = (request: FastifyRequest, id: string) => {
      const base = baseUrl(request, configuredBase);
      const visible = async () => withAdvisories(filterHive(await reader.versions(id), hive), await advisories.forId(lowerId(id)));
      return { base, visible, key: (suffix: string) => cacheKeys.registration(hive.path, lowerId(id), suffix) };
    };
    const urls = (base: string): RegistrationUrls => ({ hive: base + hive.path, flatContainer: base + routes.flatContainer });

    app.get<{ Params: { id: string } }>(`${hive.path}:id/index.json`, async (request, reply) => {
      const { id } = request.params;
      const c = context(request, id);
      const doc = await cache.get(
        c.key('index'),
        lowerId(id),
        async (renderBase) => {
          const versions = await c.visible();
          return versions.length ? registrationIndex(urls(renderBase), lowerId(id), versions) : null;
        },
        c.base,
      );
      if (!doc) throw notFound(`Package ${id} was not found on this feed.`);
      return sendDocument(request, reply, doc, REVALIDATE);
    });

    app.get<{ Params: { id: string; lower: string; upper: string } }>(
      `${hive.path}:id/page/:lower/:upper.json`,
      async (request, reply) => {
        const { id, lower, upper } = request.params;
        const c = context(request, id);
        const doc = await cache.get(
          c.key(`page|${lower}|${upper}`),
          lowerId(id),
          async (renderBase) => registrationPage(urls(renderBase), lowerId(id), await c.visible(), lower, upper),
          c.base,
        );
        if (!doc) throw notFound(`Registration page ${lower}/${upper} of ${id} does not exist.`);
        return sendDocument(request, reply, doc, REVALIDATE);
      },
    );

    app.get<{ Params: { id: string; version: string } }>(`${hive.path}:id/:version.json`, async (request, reply) => {
      const { id, version } = request.params;
      const c = context(request, id);
      const doc = await cache.get(
        c.key(`leaf|${version}`),
        lowerId(id),
        async (renderBase) => {
          const record = await reader.find(id, version);
          const leaf = record && (await c.visible()).find((v) => v.record.lowerVersion === record.lowerVersion);
          return leaf ? registrationLeaf(urls(renderBase), leaf) : null;
        },
        c.base,
      );
      if (!doc) throw notFound(`Package ${id} ${version} was not found on this feed.`);
      return sendDocument(request, reply, doc, REVALIDATE);
    });
  }
}

/** Versions with their deprecation and advisories, as registration shows them. */
export function withAdvisories(versions: SortedVersion[], all: IdAdvisories): RegistrationVersion[] {
  if (all === NO_ADVISORIES && !versions.some((v) => v.upstreamAdvisories)) return versions;
  return versions.map((v) => ({ ...v, advisories: advisoriesOfVersion(all, v) }));
}

/** The versions a hive shows: the plain hives hide SemVer 2.0.0 ones. */
export function filterHive(versions: SortedVersion[], hive: RegistrationHive): SortedVersion[] {
  return hive.semVer2 ? versions : versions.filter((v) => !v.record.isSemVer2);
}
