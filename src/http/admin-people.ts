import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { UserRecord } from '../db/people-database.js';
import type { ApiKeyAuthenticator } from '../feed/auth.js';
import type { FeedHub } from '../feed/hub.js';
import { actingOf, type Acting } from '../people/acting.js';
import { FeedRoles } from '../people/feed-roles.js';
import { Organisations } from '../people/organisations.js';
import type { People } from '../people/people.js';
import type { RequestAuthenticator } from './access-control.js';
import { ADMIN_BASE, parseBody } from './admin.js';

export interface AdminPeopleRouteDeps {
  readonly hub: FeedHub;
  readonly people: People;
  readonly auth: ApiKeyAuthenticator;
  readonly requestAuth: RequestAuthenticator;
}

const BODY_LIMIT = 16 * 1024;

const newOrgBody = z.object({ name: z.string(), description: z.string().optional(), admin: z.string().optional() }).strict();
const orgChangeBody = z.object({ description: z.string() }).strict();
const memberBody = z.object({ user: z.string(), role: z.string().default('member') }).strict();
const memberRemoveBody = z.object({ user: z.string() }).strict();
const grantBody = z.object({ kind: z.string(), grantee: z.string(), role: z.string() }).strict();
const revokeBody = z.object({ kind: z.string(), grantee: z.string() }).strict();

/** A user as the admin API shows them. */
export function userJson(user: UserRecord, people: People) {
  return { ...user, admin: people.isAdmin(user) };
}

/**
 * People over JSON (admin keys valid on every feed, as the rest of the admin API): organisations and their members,
 * users, and roles per feed. `pawket orgs` and `pawket feeds roles|grant|revoke` do the same on the database.
 *
 * @example curl -H 'X-NuGet-ApiKey: ...' -H 'content-type: application/json' -X PUT -d '{"user":"alice","role":"admin"}' https://feed/api/admin/orgs/contoso/members
 */
export function adminPeopleRoutes(app: FastifyInstance, deps: AdminPeopleRouteDeps): void {
  const orgs = new Organisations(deps.people, deps.hub);
  const roles = new FeedRoles(deps.people, deps.hub);
  const admin = async (request: FastifyRequest): Promise<Acting> => {
    const principal = await deps.requestAuth.authenticate(request);
    deps.auth.authorizeAdmin(principal);
    return actingOf(principal, true);
  };
  const opts = { config: { access: 'key' as const }, bodyLimit: BODY_LIMIT };
  type Named = { Params: { name: string } };

  app.get(`${ADMIN_BASE}/users`, opts, async (request) => {
    await admin(request);
    return { users: (await deps.people.db.listUsers()).map((u) => userJson(u, deps.people)) };
  });

  app.get(`${ADMIN_BASE}/orgs`, opts, async (request) => {
    const acting = await admin(request);
    return { orgs: (await orgs.list(acting)).map(({ yourRole: _r, ...o }) => o) };
  });
  app.post(`${ADMIN_BASE}/orgs`, opts, async (request, reply) => {
    const acting = await admin(request);
    const body = parseBody(newOrgBody, request.body);
    const created = await orgs.create(acting, { name: body.name, description: body.description, firstAdmin: body.admin });
    return reply.code(201).send({ ...created.org, members: created.members });
  });
  app.get<Named>(`${ADMIN_BASE}/orgs/:name`, opts, async (request) => {
    const acting = await admin(request);
    const { org, members } = await orgs.show(acting, request.params.name);
    return { ...org, members, holdings: await orgs.holdings(org.name) };
  });
  app.patch<Named>(`${ADMIN_BASE}/orgs/:name`, opts, async (request) => {
    const acting = await admin(request);
    return orgs.updateDescription(acting, request.params.name, parseBody(orgChangeBody, request.body).description);
  });
  app.delete<Named>(`${ADMIN_BASE}/orgs/:name`, opts, async (request) => {
    const acting = await admin(request);
    return { deleted: (await orgs.delete(acting, request.params.name)).name };
  });
  app.put<Named>(`${ADMIN_BASE}/orgs/:name/members`, opts, async (request) => {
    const acting = await admin(request);
    const body = parseBody(memberBody, request.body);
    await orgs.putMember(acting, request.params.name, body.user, body.role);
    return { members: (await orgs.show(acting, request.params.name)).members };
  });
  app.delete<Named & { Querystring: { user?: string } }>(`${ADMIN_BASE}/orgs/:name/members`, opts, async (request) => {
    const acting = await admin(request);
    // The user in a JSON body or as ?user=NAME (some clients send no body with DELETE).
    const user = request.query.user ?? parseBody(memberRemoveBody, request.body).user;
    await orgs.removeMember(acting, request.params.name, user);
    return { members: (await orgs.show(acting, request.params.name)).members };
  });

  app.get<Named>(`${ADMIN_BASE}/feeds/:name/roles`, opts, async (request) => {
    const acting = await admin(request);
    return { roles: await roles.list(acting, request.params.name) };
  });
  app.put<Named>(`${ADMIN_BASE}/feeds/:name/roles`, opts, async (request) => {
    const acting = await admin(request);
    const body = parseBody(grantBody, request.body);
    await roles.grant(acting, request.params.name, body.kind, body.grantee, body.role);
    return { roles: await roles.list(acting, request.params.name) };
  });
  app.delete<Named & { Querystring: { kind?: string; grantee?: string } }>(`${ADMIN_BASE}/feeds/:name/roles`, opts, async (request) => {
    const acting = await admin(request);
    const q = request.query;
    const body = q.kind !== undefined && q.grantee !== undefined ? { kind: q.kind, grantee: q.grantee } : parseBody(revokeBody, request.body);
    await roles.revoke(acting, request.params.name, body.kind, body.grantee);
    return { roles: await roles.list(acting, request.params.name) };
  });
}
