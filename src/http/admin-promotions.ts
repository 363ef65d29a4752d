import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiKeyAuthenticator } from '../feed/auth.js';
import type { FeedHub } from '../feed/hub.js';
import { MAX_PROMOTION, promote } from '../feed/promote.js';
import type { RequestAuthenticator } from './access-control.js';
import { ADMIN_BASE, parseBody } from './admin.js';

export interface AdminPromotionDeps {
  readonly auth: ApiKeyAuthenticator;
  /** The server's, tied to no feed: a promotion involves two. */
  readonly requestAuth: RequestAuthenticator;
  readonly hub: FeedHub;
}

/** Bounded: a package id has at most 100 characters; feed names 64. */
const promotionBody = z
  .object({
    from: z.string().min(1).max(64),
    to: z.string().min(1).max(64),
    packages: z
      .array(z.object({ id: z.string().min(1).max(100), version: z.string().min(1).max(256) }).strict())
      .min(1)
      .max(MAX_PROMOTION),
    move: z.boolean().optional(),
  })
  .strict();

/**
 * `POST /api/admin/promotions` (admin keys valid on both feeds): promotes package versions between feeds, all or none (feed/promote.ts),
 * and answers 201 with what was promoted; 404 (not in the source), 409 (in the target already), 403 (quota,
 * ownership), 413 (the target's maxPackageSize) with the reason.
 *
 * @example curl -H 'X-NuGet-ApiKey: ...' -H 'content-type: application/json' \
 *   -d '{"from":"dev","to":"release","packages":[{"id":"Contoso.Core","version":"1.2.0"}]}' https://feed/api/admin/promotions
 */
export function adminPromotionRoutes(app: FastifyInstance, deps: AdminPromotionDeps): void {
  app.post(`${ADMIN_BASE}/promotions`, { config: { access: 'key' as const } }, async (request, reply) => {
    const principal = await deps.requestAuth.authenticate(request);
    // An admin key valid on both feeds (promote() checks the feeds).
    deps.auth.authorizeFeedAdmin(principal);
    const body = parseBody(promotionBody, request.body);
    const result = await promote(deps.hub, body, principal);
    request.log.info({ from: result.from, to: result.to, packages: result.packages.length, moved: result.moved, by: principal.name }, 'packages promoted');
    return reply.code(201).send(result);
  });
}
