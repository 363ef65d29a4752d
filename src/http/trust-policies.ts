import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../feed/auth.js';
import { policyId, policyJson, type TrustPolicies } from '../trust/policies.js';
import { baseUrl } from './base-url.js';
import type { RequestAuthenticator } from './access-control.js';
import { parseBody } from './admin.js';

export interface TrustPolicyRouteDeps {
  readonly policies: TrustPolicies;
  /** The server's, tied to no feed: policies belong to the whole server, as keys do. */
  readonly requestAuth: RequestAuthenticator;
  readonly configuredBase: string | undefined;
}

/** Where the policies' API lives. */
export const TRUST_POLICIES_BASE = '/api/trust/policies';

const BODY_LIMIT = 16 * 1024;
const stringList = z.union([z.array(z.string()), z.string().transform((s) => [s])]);

const newPolicyBody = z
  .object({
    name: z.string(),
    owner: z.string(),
    provider: z.string(),
    repository: z.string().optional(),
    workflow: z.string().optional(),
    project: z.string().optional(),
    environment: z.string().optional(),
    ref: z.string().optional(),
    issuer: z.string().optional(),
    claims: z.record(z.string(), z.string()).optional(),
    audience: z.string().nullable().optional(),
    scopes: stringList.optional(),
    patterns: stringList.optional(),
    /** Feed names, or `*` (the default): every feed. */
    feeds: z.union([z.array(z.string()), z.string()]).optional(),
    keyLifetime: z.number().int().optional(),
  })
  .strict();

const policyChanges = z.object({ disabled: z.boolean() }).strict();

/**
 * Trust policies over JSON (docs/TRUSTED-PUBLISHING.md): `GET` (the policies of the owners the key acts for; every one
 * for admin keys), `POST` (create), `GET|PATCH|DELETE /{id}` (`{"disabled": true}` turns one off). Keys in
 * X-NuGet-ApiKey (or HTTP Basic's password, or Bearer) as the admin API; an owner's key with a publishing scope manages
 * its owner's policies. `pawket trust` does the same on the database.
 *
 * @example curl -H 'X-NuGet-ApiKey: ...' -H 'content-type: application/json' -d '{"name":"release","owner":"contoso","provider":"github","repository":"contoso/widgets"}' https://feed/api/trust/policies
 */
export function trustPolicyRoutes(app: FastifyInstance, deps: TrustPolicyRouteDeps): void {
  const { policies } = deps;
  const caller = (request: FastifyRequest): Promise<Principal> => deps.requestAuth.authenticate(request);
  const opts = { config: { access: 'key' as const }, bodyLimit: BODY_LIMIT };
  const shown = (p: Parameters<typeof policyJson>[0]) => policyJson(p, policies.feedNames);
  type ById = { Params: { id: string } };

  app.get(TRUST_POLICIES_BASE, opts, async (request) => {
    const principal = await caller(request);
    return { policies: (await policies.list(principal)).map(shown) };
  });
  app.post(TRUST_POLICIES_BASE, opts, async (request, reply) => {
    const principal = await caller(request);
    const body = parseBody(newPolicyBody, request.body);
    return reply.code(201).send(shown(await policies.create(principal, body, baseUrl(request, deps.configuredBase))));
  });
  app.get<ById>(`${TRUST_POLICIES_BASE}/:id`, opts, async (request) => {
    const principal = await caller(request);
    return shown(await policies.show(principal, policyId(request.params.id)));
  });
  app.patch<ById>(`${TRUST_POLICIES_BASE}/:id`, opts, async (request) => {
    const principal = await caller(request);
    const id = policyId(request.params.id);
    const { disabled } = parseBody(policyChanges, request.body);
    return shown(await policies.setDisabled(principal, id, disabled));
  });
  app.delete<ById>(`${TRUST_POLICIES_BASE}/:id`, opts, async (request) => {
    const principal = await caller(request);
    return { deleted: shown(await policies.delete(principal, policyId(request.params.id))) };
  });
}
