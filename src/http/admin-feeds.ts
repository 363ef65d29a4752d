import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { badRequest } from '../errors.js';
import type { ApiKeyAuthenticator, Principal } from '../feed/auth.js';
import { FeedAdmin, type FeedSummary } from '../feed/feed-admin.js';
import type { FeedHub } from '../feed/hub.js';
import type { RequestAuthenticator } from './access-control.js';
import { ADMIN_BASE, parseBody } from './admin.js';
import { baseUrl } from './base-url.js';
import { feedPathOf } from './feed-router.js';
import { feedUrls } from './feed-urls.js';

export interface AdminFeedRouteDeps {
  readonly hub: FeedHub;
  readonly auth: ApiKeyAuthenticator;
  readonly requestAuth: RequestAuthenticator;
  /** The server's public URL, when configured. */
  readonly configuredBase: string | undefined;
}

/** A feed definition is a few settings: far below Fastify's default 1 MiB. */
const BODY_LIMIT = 64 * 1024;

const settings = z.record(z.string(), z.unknown());
const members = z.array(z.string()).max(1000);

const newFeedBody = z
  .object({ name: z.string(), description: z.string().optional(), settings: settings.optional(), members: members.nullable().optional() })
  .strict();

/** A null setting goes back to the configuration's value (JSON merge patch). */
const feedChangeBody = z.object({ description: z.string().optional(), settings: settings.optional(), members: members.optional() }).strict();

/**
 * The feeds of the server over JSON (admin keys only), beside the keys of src/http/admin.ts; `pawket feeds` does the
 * same on the database. Registered on the root app only.
 *
 * @example curl -H 'X-NuGet-ApiKey: ...' -H 'content-type: application/json' -d '{"name":"dev","settings":{"allowOverwrite":true}}' https://feed/api/admin/feeds
 */
export function adminFeedRoutes(app: FastifyInstance, deps: AdminFeedRouteDeps): void {
  const feeds = new FeedAdmin(deps.hub);
  const admin = async (request: FastifyRequest): Promise<Principal> => {
    const principal = await deps.requestAuth.authenticate(request);
    deps.auth.authorizeAdmin(principal);
    return principal;
  };
  const withUrls = (request: FastifyRequest, feed: FeedSummary) => {
    // The server's URL, also when the admin API was reached through /f/default/.
    const prefix = feedPathOf(request.raw);
    const base = baseUrl(request, deps.configuredBase);
    return { ...feed, urls: feedUrls(prefix && base.endsWith(prefix) ? base.slice(0, -prefix.length) : base, feed) };
  };
  const opts = { config: { access: 'key' as const }, bodyLimit: BODY_LIMIT };
  const path = `${ADMIN_BASE}/feeds`;

  app.get(path, opts, async (request) => {
    await admin(request);
    return { feeds: (await feeds.list()).map((f) => withUrls(request, f)) };
  });
  app.post(path, opts, async (request, reply) => {
    const principal = await admin(request);
    const body = parseBody(newFeedBody, request.body);
    return reply.code(201).send(withUrls(request, await feeds.create(principal, body)));
  });
  app.get<{ Params: { name: string } }>(`${path}/:name`, opts, async (request) => {
    await admin(request);
    return withUrls(request, await feeds.show(request.params.name));
  });
  app.patch<{ Params: { name: string } }>(`${path}/:name`, opts, async (request) => {
    const principal = await admin(request);
    const body = parseBody(feedChangeBody, request.body);
    return withUrls(request, await feeds.update(principal, request.params.name, body));
  });
  app.delete<{ Params: { name: string }; Querystring: { force?: string } }>(`${path}/:name`, opts, async (request) => {
    const principal = await admin(request);
    const deleted = await feeds.delete(principal, request.params.name, { force: flag('force', request.query.force) });
    return { deleted: deleted.feed.name, packages: deleted.feed.packages, files: deleted.files };
  });
}

function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === '' || value === 'true' || value === '1') return true;
  throw badRequest(`The ${name} parameter must be true or false.`);
}
