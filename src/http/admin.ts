import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiKeyRecord } from '../db/access-database.js';
import { badRequest, notFound } from '../errors.js';
import type { AuditLog } from '../feed/audit.js';
import type { ApiKeyAuthenticator, Principal } from '../feed/auth.js';
import type { FeedHub } from '../feed/hub.js';
import { keyStatus, type KeyManager } from '../feed/keys.js';
import type { Ownership } from '../feed/ownership.js';
import type { RequestAuthenticator } from './access-control.js';

export interface AdminRouteDeps {
  readonly auth: ApiKeyAuthenticator;
  readonly requestAuth: RequestAuthenticator;
  readonly keys: KeyManager;
  readonly ownership: Ownership;
  readonly audit: AuditLog;
  /** The server's feeds: `?feed=NAME` acts on that feed's owners and prefixes (default: the default feed's). */
  readonly hub?: FeedHub;
}

type FeedQuery = { Querystring: { feed?: string } };

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

/** A key as the admin API shows it: everything but the hash; `status` says whether it works now. */
export function keyJson(k: ApiKeyRecord, now = Date.now()) {
  return { ...k, status: keyStatus(k, now) };
}

/**
 * The admin API (JSON; admin keys only, in X-NuGet-ApiKey, HTTP Basic's password or `Authorization: Bearer`):
 * keys, package owners, prefix reservations and the audit log. The command line does the same on the database.
 *
 * @example curl -H 'X-NuGet-ApiKey: ...' -d '{"name":"ci","owner":"contoso","scopes":["push-new"]}' -H 'content-type: application/json' https://feed/api/admin/keys
 */
export function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const admin = async (request: FastifyRequest): Promise<Principal> => {
    const principal = await deps.requestAuth.authenticate(request);
    deps.auth.authorizeAdmin(principal);
    return principal;
  };
  const opts = { config: { access: 'key' as const } };
  /** The feed `?feed=NAME` names: a feed that holds packages (a virtual feed has no owners of its own). */
  const feedOf = async (request: FastifyRequest<FeedQuery>) => {
    const name = request.query.feed;
    if (!name || !deps.hub) return null;
    const feed = await deps.hub.feed(name);
    if (!feed) throw notFound(`There is no feed '${name.slice(0, 80)}' on this server.`);
    return feed;
  };
  const ownershipOf = async (request: FastifyRequest<FeedQuery>): Promise<Ownership> => {
    const feed = await feedOf(request);
    if (feed?.definition.virtual) throw badRequest(`The feed '${feed.definition.name}' is virtual: owners and prefixes belong to its member feeds.`);
    return feed?.ownership ?? deps.ownership;
  };

  app.get(`${ADMIN_BASE}/keys`, opts, async (request) => {
    await admin(request);
    return { keys: (await deps.keys.list()).map((k) => keyJson(k)) };
  });
  app.post(`${ADMIN_BASE}/keys`, opts, async (request, reply) => {
    const principal = await admin(request);
    const body = parseBody(newKeyBody, request.body);
    const created = await deps.keys.create(principal, body);
    return reply.code(201).header('cache-control', 'no-store').send({ key: created.key, ...keyJson(created.record) });
  });
  app.get<{ Params: { keyId: string } }>(`${ADMIN_BASE}/keys/:keyId`, opts, async (request) => {
    await admin(request);
    return keyJson(await deps.keys.get(request.params.keyId));
  });
  app.delete<{ Params: { keyId: string } }>(`${ADMIN_BASE}/keys/:keyId`, opts, async (request) => {
    const principal = await admin(request);
    return keyJson(await deps.keys.revoke(principal, request.params.keyId));
  });
  app.post<{ Params: { keyId: string } }>(`${ADMIN_BASE}/keys/:keyId/rotate`, opts, async (request, reply) => {
    const principal = await admin(request);
    const rotated = await deps.keys.rotate(principal, request.params.keyId);
    return reply.code(201).header('cache-control', 'no-store').send({ key: rotated.key, ...keyJson(rotated.record) });
  });

  app.get<{ Querystring: { owner?: string; feed?: string } }>(`${ADMIN_BASE}/owners`, opts, async (request) => {
    await admin(request);
    const owner = request.query.owner;
    if (!owner) throw badRequest('Say whose ids to list: /api/admin/owners?owner=NAME (or /api/admin/owners/ID for the owners of an id).');
    return { owner: owner.toLowerCase(), ids: await (await ownershipOf(request)).idsOwnedBy(owner) };
  });
  app.get<{ Params: { id: string } } & FeedQuery>(`${ADMIN_BASE}/owners/:id`, opts, async (request) => {
    await admin(request);
    return { id: request.params.id, owners: await (await ownershipOf(request)).owners(request.params.id) };
  });
  app.put<{ Params: { id: string; owner: string } } & FeedQuery>(`${ADMIN_BASE}/owners/:id/:owner`, opts, async (request) => {
    const principal = await admin(request);
    const { id, owner } = request.params;
    const ownership = await ownershipOf(request);
    const added = await ownership.addOwner(principal, id, owner);
    return { id, added, owners: await ownership.owners(id) };
  });
  app.delete<{ Params: { id: string; owner: string } } & FeedQuery>(`${ADMIN_BASE}/owners/:id/:owner`, opts, async (request) => {
    const principal = await admin(request);
    const { id, owner } = request.params;
    const ownership = await ownershipOf(request);
    await ownership.removeOwner(principal, id, owner);
    return { id, owners: await ownership.owners(id) };
  });

  app.get<FeedQuery>(`${ADMIN_BASE}/prefixes`, opts, async (request) => {
    await admin(request);
    return { prefixes: await (await ownershipOf(request)).listPrefixes() };
  });
  app.post<FeedQuery>(`${ADMIN_BASE}/prefixes`, opts, async (request, reply) => {
    const principal = await admin(request);
    const body = parseBody(prefixBody, request.body);
    return reply.code(201).send(await (await ownershipOf(request)).reservePrefix(principal, body.pattern, body.owner));
  });
  app.delete<{ Params: { pattern: string } } & FeedQuery>(`${ADMIN_BASE}/prefixes/:pattern`, opts, async (request) => {
    const principal = await admin(request);
    await (await ownershipOf(request)).releasePrefix(principal, request.params.pattern);
    return { released: request.params.pattern };
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
    const feed = await feedOf(request as FastifyRequest<FeedQuery>);
    const entries = await deps.audit.list({
      ...(feed ? { feedId: feed.scope.id } : {}),
      limit: whole('limit', 100, 1000) ?? 100,
      before: whole('before', undefined, Number.MAX_SAFE_INTEGER),
      action: q.action || undefined,
      keyId: q.key || undefined,
      target: q.target || undefined,
    });
    return { entries };
  });
}
