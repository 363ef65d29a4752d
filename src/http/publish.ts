import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyAuthenticator, Principal } from '../feed/auth.js';
import type { ManageService } from '../feed/manage.js';
import type { PublishService } from '../feed/publish.js';
import { receiveUpload } from './receive-upload.js';
import { routes } from './routes.js';

export interface PublishRouteDeps {
  readonly auth: ApiKeyAuthenticator;
  readonly publish: PublishService;
  readonly manage: ManageService;
  readonly tempDir: string;
  readonly maxPackageSize: number;
  /** Told how each push was answered (metrics). */
  readonly onPushAnswered?: (status: number, replaced: boolean) => void;
}

function principalOf(auth: ApiKeyAuthenticator, request: FastifyRequest): Principal {
  const key = request.headers['x-nuget-apikey'];
  return auth.authenticate(Array.isArray(key) ? key[0] : key);
}

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
      if (request.routeOptions.url === routes.publish) deps.onPushAnswered?.(reply.statusCode, reply.raw.statusMessage === 'Replaced');
    });

    const push = async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = principalOf(deps.auth, request);
      const upload = await receiveUpload(request, deps.tempDir, deps.maxPackageSize);
      const result = await deps.publish.publish(upload, principal);
      request.log.info({ id: result.id, version: result.version, by: principal.name }, 'package pushed');
      reply.raw.statusMessage = result.replaced ? 'Replaced' : 'Created';
      return reply.code(201).type('text/plain; charset=utf-8').send(`Package ${result.id} ${result.version} was ${result.replaced ? 'replaced' : 'pushed'}.`);
    };
    scope.put(routes.publish, push);
    scope.post(routes.publish, push);

    scope.delete<{ Params: { id: string; version: string } }>(`${routes.publish}/:id/:version`, async (request, reply) => {
      const { id, version } = request.params;
      const mode = await deps.manage.delete(id, version, principalOf(deps.auth, request));
      return reply.code(200).type('text/plain; charset=utf-8').send(`Package ${id} ${version} was ${mode === 'unlist' ? 'unlisted' : 'deleted'}.`);
    });
    scope.post<{ Params: { id: string; version: string } }>(`${routes.publish}/:id/:version`, async (request, reply) => {
      const { id, version } = request.params;
      await deps.manage.relist(id, version, principalOf(deps.auth, request));
      return reply.code(200).type('text/plain; charset=utf-8').send(`Package ${id} ${version} was relisted.`);
    });
  });
}
