import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PawketError } from '../../errors.js';
import type { Principal } from '../../feed/auth.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import { pushOrigin, type PublishRouteDeps } from '../publish.js';
import { withOutOfSpace } from '../errors.js';
import { receiveFormUpload } from '../receive-upload.js';
import { prepareUploadScope } from '../upload-scope.js';
import { uploadPage } from './pages.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';

export type UploadFormDeps = Omit<PublishRouteDeps, 'manage'> & {
  /** The feed the form pushes to: its pages' links stay under its prefix. */
  readonly scope: FeedScope;
};

/** The form field that carries the key (pages.ts puts it before the file). */
const KEY_FIELD = 'apikey';

/**
 * `POST /upload`: the upload page's form, for browsers without JavaScript. The same checks and use case as a push
 * (key, push scope, size bound, streaming to a temporary file, publish), answered with the upload page showing the
 * push's message, with the push's status.
 *
 * CSRF: the only credential this route accepts is the form's key field. A cross-site form post carries the
 * browser's cookies (Pawket sets none) and its cached HTTP Basic credentials (a private feed's pages), never a value
 * another site does not know, so the key headers and Basic auth are ignored here on purpose.
 */
export function uploadFormRoute(app: FastifyInstance, deps: UploadFormDeps): void {
  app.register(async (scope) => {
    prepareUploadScope(scope, deps.maxPackageSize);
    scope.addHook('onResponse', async (_request, reply) => deps.onPushAnswered?.(reply.statusCode, reply.raw.statusMessage === 'Replaced'));
    // The route checks the key itself, on a private feed too.
    scope.post('/upload', { config: { access: 'key' as const } }, (request, reply) => upload(deps, request, reply));
  });
}

async function upload(deps: UploadFormDeps, request: FastifyRequest, reply: FastifyReply) {
  const paths = UiPaths.of(request, deps.scope);
  let principal: Principal | undefined;
  try {
    const received = await receiveFormUpload(request, deps.tempDir, deps.maxPackageSize, async (fields) => {
      principal = await deps.requestAuth.authenticateKey(request, fields.get(KEY_FIELD) || undefined, { denied: { action: 'push.denied', target: '(any package)' } });
      await deps.access.authorizeAnyPush(principal);
    });
    // The check ran before receiveFormUpload resolved, so the principal is set.
    const result = await deps.publish.publish(received, principal!, pushOrigin(request, deps.configuredBase));
    request.log.info({ id: result.id, version: result.version, by: principal!.name }, 'package pushed (upload form)');
    reply.raw.statusMessage = result.replaced ? 'Replaced' : 'Created';
    const message = `Package ${result.id} ${result.version} was ${result.replaced ? 'replaced' : 'pushed'}.`;
    return sendPage(reply, uploadPage(paths, { ok: true, message, id: result.id, version: result.version }), 201);
  } catch (thrown) {
    const err = withOutOfSpace(thrown);
    if (!(err instanceof PawketError)) {
      request.log.error({ err }, 'upload form failed');
      return sendPage(reply, uploadPage(paths, { ok: false, message: 'The server failed to handle this upload; the error is in its log.' }), 500);
    }
    if (err.status >= 500) request.log.error({ err }, 'upload form failed');
    // Retry-After, Connection: close; never a Basic challenge (the key is the form's).
    const { 'www-authenticate': _challenge, ...headers } = err.headers;
    return sendPage(reply.headers(headers), uploadPage(paths, { ok: false, message: err.message }), err.status);
  }
}
