import type { FastifyInstance } from 'fastify';
import type { Feed } from '../feed/feed.js';

const READY_TIMEOUT_MS = 3000;

function withTimeout(check: Promise<void>, what: string): Promise<string | null> {
  return Promise.race([
    check.then(
      () => null,
      (e: Error) => `${what}: ${e.message}`,
    ),
    new Promise<string>((resolve) => setTimeout(() => resolve(`${what}: no answer within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS).unref()),
  ]);
}

/**
 * `/health/live`: the process answers. `/health/ready`: it can serve, i.e. the database and the blob store answer;
 * load balancers take a node out of rotation on 503.
 */
export function healthRoutes(app: FastifyInstance, feed: Feed): void {
  // Load balancers probe without credentials, private feed or not.
  const anonymous = { config: { access: 'anonymous' as const } };
  app.get('/health/live', anonymous, async () => ({ status: 'live' }));
  app.get('/health/ready', anonymous, async (_request, reply) => {
    const problems = (
      await Promise.all([withTimeout(feed.db.ping(), 'database'), withTimeout(feed.blobs.ping(), 'storage')])
    ).filter((p): p is string => p !== null);
    if (problems.length) return reply.code(503).header('cache-control', 'no-store').send({ status: 'unavailable', problems });
    return reply.header('cache-control', 'no-store').send({ status: 'ready' });
  });
}
