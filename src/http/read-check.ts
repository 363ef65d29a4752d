import type { FastifyInstance } from 'fastify';

/** Where a proxy in front asks whether a request may read this feed (`/f/{name}/-/auth/read` for other feeds). */
export const READ_CHECK_PATH = '/-/auth/read';

/**
 * The answer nginx's `auth_request` asks for before it serves a private feed's materialized file (docs/DEPLOYMENT.md):
 * 204 when the request's credentials (X-NuGet-ApiKey, Basic, Bearer, or a signed-in person's session) read this feed,
 * else the 401 (with its Basic challenge), 403 or 429 any read of the feed gets. The private-feed hook
 * (access-control.ts) decides, as for every other read: this route only says yes once it let the request through.
 */
export function readCheckRoutes(app: FastifyInstance): void {
  app.get(READ_CHECK_PATH, async (_request, reply) => reply.code(204).header('cache-control', 'no-store').send());
}
