import type { FastifyInstance } from 'fastify';

/**
 * Sets up an encapsulated scope for routes that take pushed files (see receive-upload.ts): bodies are streamed by
 * the handler, never buffered or parsed by the framework; and a push refused before its body was read (401, 403,
 * 413...) drains a body of allowed size so the client, still sending, reads our answer instead of a reset
 * connection, and closes the connection on anything bigger.
 *
 * @example app.register(async (scope) => { prepareUploadScope(scope, maxPackageSize); scope.put('/upload', handler); });
 */
export function prepareUploadScope(scope: FastifyInstance, maxBytes: number): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
  scope.addHook('onSend', async (request, reply) => {
    if (reply.statusCode < 400 || request.raw.complete) return;
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared <= maxBytes) request.raw.resume();
    else reply.header('connection', 'close');
  });
}
