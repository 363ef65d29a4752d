import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PawketError, isOutOfSpace, outOfSpace } from '../errors.js';

/**
 * NuGet clients print the HTTP reason phrase ("409 (Package X 1.0.0 already exists...)"), so the message goes there
 * too; Node only accepts printable Latin-1 on the status line.
 */
export function reasonPhrase(message: string): string {
  return message.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 400);
}

/** Answers with a status and a human message in the reason phrase and as the plain-text body. */
export function sendError(reply: FastifyReply, status: number, message: string, headers: Record<string, string> = {}) {
  reply.raw.statusMessage = reasonPhrase(message);
  return reply.code(status).headers(headers).type('text/plain; charset=utf-8').send(message);
}

/** A full disk (a write to storage or the database) is a 507 that says so; anything else is left as it is. */
export function withOutOfSpace<E>(error: E): E | PawketError {
  return !(error instanceof PawketError) && isOutOfSpace(error) ? outOfSpace(error) : error;
}

/**
 * One place turns every error into a response: PawketError as it says, a full disk as 507, framework 4xx as they say,
 * the rest 500.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((thrown: FastifyError | PawketError, request: FastifyRequest, reply: FastifyReply) => {
    const error = withOutOfSpace(thrown);
    if (error instanceof PawketError) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      return sendError(reply, error.status, error.message, { ...error.headers });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return sendError(reply, status, error.message);
    request.log.error({ err: error }, 'request failed');
    return sendError(reply, 500, 'The server failed to handle this request; the error is in its log.');
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, `Nothing here: ${request.method} ${request.url.split('?')[0]} is not a resource of this feed.`),
  );
}
