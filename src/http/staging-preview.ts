import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound, PawketError } from '../errors.js';
import type { Principal } from '../feed/auth.js';
import type { GroupPreview, StagingPreviews } from '../feed/staging-preview.js';
import { packageFileKind } from '../nuget/identity.js';
import { lowerId } from '../nuget/id.js';
import { lowerNormalizedVersion, parseVersion } from '../nuget/version.js';
import { BASIC_CHALLENGE, requestKey, type FeedGate, type RequestAuthenticator } from './access-control.js';
import { baseUrl } from './base-url.js';
import { CachedDocument, sendDocument } from './response-cache.js';
import { routes } from './routes.js';
import { sendPackage } from './v3/flat-container.js';
import { filterHive } from './v3/registration.js';
import { registrationIndex, registrationLeaf, registrationPage, type RegistrationUrls } from './v3/registration-documents.js';

export interface StagingPreviewRouteDeps {
  readonly previews: StagingPreviews;
  /** The feed's (RequestAuthenticator.forFeed): bad keys slowed per address, keys of other feeds refused. */
  readonly requestAuth: RequestAuthenticator;
  /** Whether a signed-in person may act on this feed at all. */
  readonly gate: Pick<FeedGate, 'isValidHere'>;
  readonly configuredBase: string | undefined;
}

/** A preview is one owner's, whoever asks: never kept by a proxy or a browser, never put in the feed's response cache. */
const NO_STORE = 'private, no-store';

/** Where a group's preview feed lives: its service index is `{this}/index.json`, every resource under that folder. */
const PREVIEW = `${routes.staging}/preview/:owner/:groupId`;
const FLAT = 'flatcontainer/';
/** The registration hives of the feed, under the preview's folder by the same names (`registration/`, ...). */
const HIVES = Object.values(routes.registration).map((hive) => ({ hive, folder: hive.path.slice('/v3/'.length) }));

type PreviewParams = { owner: string; groupId: string };

/** These routes check keys themselves (once per request), private feed or not. */
const keyChecked = { config: { access: 'key' as const } };

const NO_KEY =
  "A staging group's preview feed needs an API key acting for the group's owner: send it as the password of HTTP Basic auth (any user name; packageSourceCredentials in nuget.config) or in the X-NuGet-ApiKey header.";

/**
 * A staging group's preview feed (docs/STAGING.md, Preview feeds): a read-only service index at
 * `{feed}/v3/staging/preview/{owner}/{groupId}/index.json` with a flat container and registration hives under its
 * folder (where NuGet sends a source's credentials), serving the feed's published packages and the group's staged ones.
 * Every request needs a key (or a sign-in) acting for the group's owner, or an admin's: no key is a 401 with a Basic
 * challenge; another owner's key, and a group that is gone, a 404.
 */
export function stagingPreviewRoutes(app: FastifyInstance, deps: StagingPreviewRouteDeps): void {
  /** The one authentication of a request: a key, else a signed-in person with a role here; 401 otherwise. */
  const principalOf = async (request: FastifyRequest): Promise<Principal> => {
    const viewer = request.pawketViewer;
    if (requestKey(request) === undefined) {
      if (viewer && deps.gate.isValidHere(viewer.principal)) return viewer.principal;
      // Anonymous: refused without a single query.
      throw new PawketError(401, NO_KEY, BASIC_CHALLENGE);
    }
    try {
      return await deps.requestAuth.authenticate(request, { read: true });
    } catch (err) {
      // The private feed's wording ("This feed is private") would be wrong on a public feed: say what a preview needs.
      if (err instanceof PawketError && err.status === 401) throw new PawketError(401, `The API key sent does not work on this feed. ${NO_KEY}`, BASIC_CHALLENGE);
      throw err;
    }
  };

  /** The group's preview for this request, with the staged versions of `ids` loaded; 404 when gone or not the caller's. */
  const previewOf = async (request: FastifyRequest<{ Params: PreviewParams }>, ids: readonly string[]): Promise<GroupPreview> => {
    const principal = await principalOf(request);
    const { owner, groupId } = request.params;
    const preview = await deps.previews.open(principal, owner, groupId, ids);
    if (!preview) {
      throw notFound(
        `There is no staging group '${groupId.slice(0, 100)}' of ${owner.slice(0, 64)} on this feed for this key: it was promoted, deleted or expired, or the key does not act for its owner.`,
      );
    }
    return preview;
  };

  /** The preview's folder as this request reached it (the prefix NuGet matches credentials against), ending in `/`. */
  const folderOf = (request: FastifyRequest<{ Params: PreviewParams }>) => {
    const { owner, groupId } = request.params;
    return `${baseUrl(request, deps.configuredBase)}${routes.staging}/preview/${encodeURIComponent(owner)}/${encodeURIComponent(groupId)}/`;
  };

  const send = (request: FastifyRequest, reply: FastifyReply, doc: unknown) =>
    sendDocument(request, reply, new CachedDocument(Buffer.from(JSON.stringify(doc))), NO_STORE);

  app.register(async (scope) => {
    // Failures too (401, 404): nothing of a preview may be stored on the way.
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', NO_STORE);
      return payload;
    });

    scope.get<{ Params: PreviewParams }>(`${PREVIEW}/index.json`, keyChecked, async (request, reply) => {
      await previewOf(request, []);
      return send(request, reply, previewServiceIndex(folderOf(request)));
    });

    scope.get<{ Params: PreviewParams & { id: string } }>(`${PREVIEW}/${FLAT}:id/index.json`, keyChecked, async (request, reply) => {
      const { id } = request.params;
      const versions = await (await previewOf(request, [id])).versions(id);
      if (!versions.length) throw notFound(`Package ${id} is neither published on this feed nor staged in this group.`);
      return send(request, reply, { versions: versions.map((v) => v.record.lowerVersion) });
    });

    scope.get<{ Params: PreviewParams & { id: string; version: string; file: string } }>(
      `${PREVIEW}/${FLAT}:id/:version/:file`,
      keyChecked,
      async (request, reply) => {
        const { id, version, file } = request.params;
        const preview = await previewOf(request, [id]);
        const record = await preview.find(id, version);
        const missing = () => notFound(`Package ${id} ${version} is neither published on this feed nor staged in this group.`);
        if (!record) throw missing();
        const kind = packageFileKind(file, record, ['nupkg', 'nuspec'] as const);
        if (kind === 'nuspec') {
          const nuspec = await preview.nuspec(id, version);
          if (!nuspec) throw missing();
          return reply.type('application/xml; charset=utf-8').send(nuspec);
        }
        if (kind !== 'nupkg') throw notFound(`${file} is not a file of package ${record.id} ${record.fullVersion} in this preview.`);
        return sendPackage(request, reply, preview, record, NO_STORE, undefined);
      },
    );

    for (const { hive, folder } of HIVES) {
      const urls = (request: FastifyRequest<{ Params: PreviewParams }>): RegistrationUrls => {
        const at = folderOf(request);
        return { hive: at + folder, flatContainer: at + FLAT };
      };
      const visible = async (request: FastifyRequest<{ Params: PreviewParams & { id: string } }>) =>
        filterHive(await (await previewOf(request, [request.params.id])).versions(request.params.id), hive);
      const gone = (id: string) => notFound(`Package ${id} is neither published on this feed nor staged in this group.`);

      scope.get<{ Params: PreviewParams & { id: string } }>(`${PREVIEW}/${folder}:id/index.json`, keyChecked, async (request, reply) => {
        const versions = await visible(request);
        if (!versions.length) throw gone(request.params.id);
        return send(request, reply, registrationIndex(urls(request), lowerId(request.params.id), versions));
      });

      scope.get<{ Params: PreviewParams & { id: string; lower: string; upper: string } }>(
        `${PREVIEW}/${folder}:id/page/:lower/:upper.json`,
        keyChecked,
        async (request, reply) => {
          const { id, lower, upper } = request.params;
          const doc = registrationPage(urls(request), lowerId(id), await visible(request), lower, upper);
          if (!doc) throw notFound(`Registration page ${lower}/${upper} of ${id} does not exist in this preview.`);
          return send(request, reply, doc);
        },
      );

      scope.get<{ Params: PreviewParams & { id: string; version: string } }>(`${PREVIEW}/${folder}:id/:version.json`, keyChecked, async (request, reply) => {
        const { id, version } = request.params;
        const parsed = parseVersion(version);
        const wanted = parsed ? lowerNormalizedVersion(parsed) : null;
        const leaf = wanted === null ? undefined : (await visible(request)).find((v) => v.record.lowerVersion === wanted);
        if (!leaf) throw notFound(`Package ${id} ${version} is neither published on this feed nor staged in this group.`);
        return send(request, reply, registrationLeaf(urls(request), leaf));
      });
    }
  });
}

/** What a client needs to restore and add packages from the preview: every URL under the preview's folder. */
function previewServiceIndex(folder: string) {
  const r = (path: string, types: string[], comment: string, extra: Record<string, string> = {}) =>
    types.map((type) => ({ '@id': folder + path, '@type': type, comment, ...extra }));
  const [plain, gzip, semVer2] = HIVES.map((h) => h.folder) as [string, string, string];
  return {
    version: '3.0.0',
    resources: [
      ...r(FLAT, ['PackageBaseAddress/3.0.0'], "Package versions, .nupkg and .nuspec files: the feed's published packages and the group's staged ones."),
      ...r(plain, ['RegistrationsBaseUrl', 'RegistrationsBaseUrl/3.0.0-beta', 'RegistrationsBaseUrl/3.0.0-rc'], 'Package metadata, SemVer 2.0.0 packages hidden.'),
      ...r(gzip, ['RegistrationsBaseUrl/3.4.0'], 'Package metadata (gzip), SemVer 2.0.0 packages hidden.'),
      ...r(semVer2, ['RegistrationsBaseUrl/3.6.0', 'RegistrationsBaseUrl/Versioned'], 'Package metadata (gzip), SemVer 2.0.0 packages included.', { clientVersion: '4.3.0' }),
    ],
    '@context': { '@vocab': 'http://schema.nuget.org/services#', comment: 'http://www.w3.org/2000/01/rdf-schema#comment' },
  };
}
