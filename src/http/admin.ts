import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiKeyRecord } from '../db/access-database.js';
import { badRequest, notFound } from '../errors.js';
import type { AuditLog } from '../feed/audit.js';
import type { ApiKeyAuthenticator, Principal } from '../feed/auth.js';
import { keyFeedNames, keyStatus, parseKeyFeeds, type FeedNames, type KeyManager } from '../feed/keys.js';
import type { Ownership } from '../feed/ownership.js';
import type { RequestAuthenticator } from './access-control.js';

export interface AdminRouteDeps {
  readonly auth: ApiKeyAuthenticator;
  /** The server's, tied to no feed: keys and the audit log belong to the whole server. */
  readonly requestAuth: RequestAuthenticator;
  readonly keys: KeyManager;
  readonly audit: AuditLog;
  /** The server's feeds by name and id (a key names the feeds it is valid on). */
  readonly feeds: FeedNames;
}

export interface FeedAdminRouteDeps {
  readonly auth: ApiKeyAuthenticator;
  /** The feed's (RequestAuthenticator.forFeed): a key not valid on the feed is refused there. */
  readonly requestAuth: RequestAuthenticator;
  /** The feed's owners and prefix reservations. */
  readonly ownership: Ownership;
}

/** Where the admin API lives. */
export const ADMIN_BASE = '/api/admin';

const stringList = z.union([z.array(z.string()), z.string().transform((s) => [s])]);

const newKeyBody = z
  .object({
    name: z.string(),
    owner: z.string(),
    scopes: stringList,
    patterns: stringList.optional(),
    expires: z.string().nullable().optional(),
    /** Feed names, or `*` (the default): every feed. */
    feeds: z.union([z.array(z.string()), z.string()]).optional(),
  })
  .strict();

const prefixBody = z.object({ pattern: z.string(), owner: z.string() }).strict();

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    throw badRequest(`Invalid request body: ${result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

/** A key as the admin API shows it: everything but the hash; `feeds` by name (or `*`); `status` says whether it works now. */
export function keyJson(k: ApiKeyRecord, feeds: Pick<FeedNames, 'nameOf'>, now = Date.now()) {
  return { ...k, feeds: keyFeedNames(k.feeds, feeds), status: keyStatus(k, now) };
}

/**
 * The admin API of the server (JSON; admin keys valid on every feed, in X-NuGet-ApiKey, HTTP Basic's password or
 * `Authorization: Bearer`): keys and the audit log. The command line does the same on the database.
 *
 * @example curl -H 'X-NuGet-ApiKey: ...' -d '{"name":"ci","owner":"contoso","scopes":["push-new"],"feeds":["dev"]}' -H 'content-type: application/json' https://feed/api/admin/keys
 */
export function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const admin = async (request: FastifyRequest): Promise<Principal> => {
    const principal = await deps.requestAuth.authenticate(request);
    deps.auth.authorizeAdmin(principal);
    return principal;
  };
  const opts = { config: { access: 'key' as const } };
  const shown = (k: ApiKeyRecord) => keyJson(k, deps.feeds);

  app.get(`${ADMIN_BASE}/keys`, opts, async (request) => {
    await admin(request);
    return { keys: (await deps.keys.list()).map(shown) };
  });
  app.post(`${ADMIN_BASE}/keys`, opts, async (request, reply) => {
    const principal = await admin(request);
    const { feeds, ...body } = parseBody(newKeyBody, request.body);
    const created = await deps.keys.create(principal, { ...body, feeds: parseKeyFeeds(feeds, deps.feeds) });
    return reply.code(201).header('cache-control', 'no-store').send({ key: created.key, ...shown(created.record) });
  });
  app.get<{ Params: { keyId: string } }>(`${ADMIN_BASE}/keys/:keyId`, opts, async (request) => {
    await admin(request);
    return shown(await deps.keys.get(request.params.keyId));
  });
  app.delete<{ Params: { keyId: string } }>(`${ADMIN_BASE}/keys/:keyId`, opts, async (request) => {
    const principal = await admin(request);
    return shown(await deps.keys.revoke(principal, request.params.keyId));
  });
  app.post<{ Params: { keyId: string } }>(`${ADMIN_BASE}/keys/:keyId/rotate`, opts, async (request, reply) => {
    const principal = await admin(request);
    const rotated = await deps.keys.rotate(principal, request.params.keyId);
    return reply.code(201).header('cache-control', 'no-store').send({ key: rotated.key, ...shown(rotated.record) });
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(`${ADMIN_BASE}/audit`, opts, async (request) => {
    await admin(request);
    const q = request.query;
    const whole = (name: string, fallback: number | undefined, max: number) => {
      const text = q[name];
      if (text === undefined || text === '') return fallback;
      if (!/^\d+$/.test(text)) throw badRequest(`The ${name} parameter must be a whole number.`);
      return Math.min(Number(text), max);
    };
    // `?feed=NAME`: only what happened in that feed.
    const feedName = q.feed || undefined;
    const feedId = feedName === undefined ? undefined : deps.feeds.idOf(feedName);
    if (feedName !== undefined && feedId === undefined) throw notFound(`There is no feed '${feedName.slice(0, 80)}' on this server.`);
    const entries = await deps.audit.list({
      ...(feedId !== undefined ? { feedId } : {}),
      limit: whole('limit', 100, 1000) ?? 100,
      before: whole('before', undefined, Number.MAX_SAFE_INTEGER),
      action: q.action || undefined,
      keyId: q.key || undefined,
      target: q.target || undefined,
    });
    return { entries };
  });
}

/**
 * One feed's owners and prefix reservations, under the feed's URLs (`/api/admin/owners` on the default feed,
 * `/f/dev/api/admin/owners` on `dev`): admin keys valid on that feed.
 */
export function feedAdminRoutes(app: FastifyInstance, deps: FeedAdminRouteDeps): void {
  const admin = async (request: FastifyRequest): Promise<Principal> => {
    const principal = await deps.requestAuth.authenticate(request);
    deps.auth.authorizeFeedAdmin(principal);
    return principal;
  };
  const opts = { config: { access: 'key' as const } };

  app.get<{ Querystring: { owner?: string } }>(`${ADMIN_BASE}/owners`, opts, async (request) => {
    await admin(request);
    const owner = request.query.owner;
    if (!owner) throw badRequest('Say whose ids to list: /api/admin/owners?owner=NAME (or /api/admin/owners/ID for the owners of an id).');
    return { owner: owner.toLowerCase(), ids: await deps.ownership.idsOwnedBy(owner) };
  });
  app.get<{ Params: { id: string } }>(`${ADMIN_BASE}/owners/:id`, opts, async (request) => {
    await admin(request);
    return { id: request.params.id, owners: await deps.ownership.owners(request.params.id) };
  });
  app.put<{ Params: { id: string; owner: string } }>(`${ADMIN_BASE}/owners/:id/:owner`, opts, async (request) => {
    const principal = await admin(request);
    const { id, owner } = request.params;
    const added = await deps.ownership.addOwner(principal, id, owner);
    return { id, added, owners: await deps.ownership.owners(id) };
  });
  app.delete<{ Params: { id: string; owner: string } }>(`${ADMIN_BASE}/owners/:id/:owner`, opts, async (request) => {
    const principal = await admin(request);
    const { id, owner } = request.params;
    await deps.ownership.removeOwner(principal, id, owner);
    return { id, owners: await deps.ownership.owners(id) };
  });

  app.get(`${ADMIN_BASE}/prefixes`, opts, async (request) => {
    await admin(request);
    return { prefixes: await deps.ownership.listPrefixes() };
  });
  app.post(`${ADMIN_BASE}/prefixes`, opts, async (request, reply) => {
    const principal = await admin(request);
    const body = parseBody(prefixBody, request.body);
    return reply.code(201).send(await deps.ownership.reservePrefix(principal, body.pattern, body.owner));
  });
  app.delete<{ Params: { pattern: string } }>(`${ADMIN_BASE}/prefixes/:pattern`, opts, async (request) => {
    const principal = await admin(request);
    await deps.ownership.releasePrefix(principal, request.params.pattern);
    return { released: request.params.pattern };
  });
}
