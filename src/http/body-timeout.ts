import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** A request body stopped arriving for longer than `uploadIdleTimeout`; its connection was closed. */
export class BodyStalledError extends Error {
  constructor(readonly idleMs: number) {
    super(`no byte of the request body arrived for ${idleMs / 1000} s`);
    this.name = 'BodyStalledError';
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Aborts a request body that sends nothing for `idleMs`: its socket is destroyed, so whatever reads the body (a push's
 * spool) fails and removes what it wrote, and the client's socket, file handle and spool file are freed. Only the
 * client's silence counts: time the server itself takes (bytes received but not yet read, handling after the body
 * ended) never does, so a slow upload that keeps sending, or a long publish after it, is never cut.
 *
 * Covers every route, and also the rest of a refused push's body that is drained after the answer.
 * @example installBodyIdleTimeout(app, config.uploadIdleTimeout)
 */
export function installBodyIdleTimeout(app: FastifyInstance, idleMs: number): void {
  const checkEvery = Math.max(25, Math.min(1000, Math.floor(idleMs / 4)));
  app.addHook('onRequest', (request, _reply, done) => {
    const req = request.raw;
    const socket = req.socket;
    if (!hasBody(req) || req.complete) return done();
    let seen = socket.bytesRead;
    let quietSince = Date.now();
    const timer = setInterval(() => {
      // New bytes, or bytes received that the server has not read yet: the client is not the one waiting.
      if (socket.bytesRead !== seen || req.readableLength > 0) {
        seen = socket.bytesRead;
        quietSince = Date.now();
        return;
      }
      if (Date.now() - quietSince < idleMs) return;
      stop();
      request.log.warn({ idleTimeoutMs: idleMs, method: req.method, url: req.url }, 'request body stalled: connection closed');
      req.destroy(new BodyStalledError(idleMs));
    }, checkEvery);
    timer.unref();
    const stop = () => {
      clearInterval(timer);
      req.off('end', stop);
      req.off('close', stop);
      socket.off('close', stop);
    };
    req.once('end', stop);
    req.once('close', stop);
    socket.once('close', stop);
    done();
  });
}
