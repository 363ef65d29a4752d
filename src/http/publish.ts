import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PackageAccess } from '../feed/access.js';
import type { Principal } from '../feed/auth.js';
import type { DeniedAs, RequestAuthenticator } from './access-control.js';
import type { ManageService } from '../feed/manage.js';
import type { PublishService, PushOrigin } from '../feed/publish.js';
import { lowerId } from '../nuget/id.js';
import { baseUrl } from './base-url.js';
import { receiveUpload } from './receive-upload.js';
import { routes } from './routes.js';

export interface PublishRouteDeps {
  readonly access: PackageAccess;
  readonly requestAuth: RequestAuthenticator;
  readonly publish: PublishService;
  readonly manage: ManageService;
  readonly tempDir: string;
  readonly maxPackageSize: number;
  /** Told how each push was answered (metrics). */
  readonly onPushAnswered?: (status: number, replaced: boolean) => void;
  /** The server's public URL, when configured (a refused push names the feed's staging endpoint). */
  readonly configuredBase?: string | undefined;
  /** Resolves once the id's materialized documents show a change made here (docs/DEPLOYMENT.md); absent when off. */
  readonly materialized?: (lowerId: string) => Promise<void>;
}

/** How a push's client reaches the feed's staging endpoint: the URL a refusal for an id that must be staged names. */
export function pushOrigin(request: FastifyRequest, configuredBase: string | undefined): PushOrigin {
  return { stagingUrl: () => `${baseUrl(request, configuredBase)}${routes.staging}` };
}

/**
 * The caller of a publish route: X-NuGet-ApiKey (or Basic/Bearer credentials), counted against bad-key limits, valid
 * on this feed (a refusal is audited as `denied`).
 */
function principalOf(deps: PublishRouteDeps, request: FastifyRequest, denied: DeniedAs): Promise<Principal> {
  return deps.requestAuth.authenticate(request, { denied });
}

const PUSH_DENIED: DeniedAs = { action: 'push.denied', target: '(any package)' };

/** The V2 feed root without its trailing slash. */
const V2_ROOT = routes.v2.replace(/\/$/, '');

/** These routes check keys themselves, private feed or not. */
const keyChecked = { config: { access: 'key' as const } };

/** PackagePublish/2.0.0: push (PUT or POST), delete (unlist) and relist. */
export function publishRoutes(app: FastifyInstance, deps: PublishRouteDeps): void {
  app.register(async (scope) => {
    // Push bodies are streamed by the handler; never let the framework buffer or parse them.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    // A push refused before its body was read (401, 403, 413...): drain a body of allowed size so the client, still
    // sending, reads our answer instead of a reset connection; close the connection on anything bigger.
    scope.addHook('onSend', async (request, reply) => {
      if (reply.statusCode < 400 || request.raw.complete) return;
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared <= deps.maxPackageSize) request.raw.resume();
      else reply.header('connection', 'close');
    });

    scope.addHook('onResponse', async (request, reply) => {
      const url = request.routeOptions.url;
      if (url === routes.publish || url === routes.feedPublish || url === V2_ROOT) deps.onPushAnswered?.(reply.statusCode, reply.raw.statusMessage === 'Replaced');
    });

    const push = async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = await principalOf(deps, request, PUSH_DENIED);
      // A key that may not push at all is refused before its body is read; id-specific checks need the package.
      await deps.access.authorizeAnyPush(principal);
      const upload = await receiveUpload(request, deps.tempDir, deps.maxPackageSize);
      const result = await deps.publish.publish(upload, principal, pushOrigin(request, deps.configuredBase));
      request.log.info({ id: result.id, version: result.version, by: principal.name }, 'package pushed');
      await deps.materialized?.(lowerId(result.id));
      reply.raw.statusMessage = result.replaced ? 'Replaced' : 'Created';
      return reply.code(201).type('text/plain; charset=utf-8').send(`Package ${result.id} ${result.version} was ${result.replaced ? 'replaced' : 'pushed'}.`);
    };
    const remove = async (request: FastifyRequest<{ Params: { id: string; version: string } }>, reply: FastifyReply) => {
      const { id, version } = request.params;
      const mode = await deps.manage.delete(id, version, await principalOf(deps, request, { action: 'unlist.denied', target: id }));
      await deps.materialized?.(lowerId(id));
      return reply.code(200).type('text/plain; charset=utf-8').send(`Package ${id} ${version} was ${mode === 'unlist' ? 'unlisted' : 'deleted'}.`);
    };
    const relist = async (request: FastifyRequest<{ Params: { id: string; version: string } }>, reply: FastifyReply) => {
      const { id, version } = request.params;
      await deps.manage.relist(id, version, await principalOf(deps, request, { action: 'unlist.denied', target: id }));
      await deps.materialized?.(lowerId(id));
      return reply.code(200).type('text/plain; charset=utf-8').send(`Package ${id} ${version} was relisted.`);
    };
    // V2 clients given the feed URL (`/api/v2/`) push to it and delete below it, as NuGet.Server lays it out.
    for (const base of [routes.publish, routes.feedPublish, V2_ROOT]) {
      scope.put(base, keyChecked, push);
      scope.post(base, keyChecked, push);
      scope.delete<{ Params: { id: string; version: string } }>(`${base}/:id/:version`, keyChecked, remove);
      scope.post<{ Params: { id: string; version: string } }>(`${base}/:id/:version`, keyChecked, relist);
    }
  });
}
