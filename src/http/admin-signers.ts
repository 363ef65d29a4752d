import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SignerPolicyRecord } from '../db/signer-policy-database.js';
import type { ApiKeyAuthenticator, Principal } from '../feed/auth.js';
import type { SignerPolicies } from '../feed/signer-policies.js';
import { ADMIN_BASE, parseBody } from './admin.js';
import type { RequestAuthenticator } from './access-control.js';

export interface AdminSignerRouteDeps {
  readonly auth: ApiKeyAuthenticator;
  /** The feed's: a key not valid on the feed is refused. */
  readonly requestAuth: RequestAuthenticator;
  readonly signers: SignerPolicies;
  readonly feedName: string;
}

const text = (max: number) => z.string().max(max);
const newPolicyBody = z
  .object({
    name: text(64),
    pattern: text(100).nullable().optional(),
    owner: text(64).nullable().optional(),
    mode: text(16),
    fingerprints: z.array(text(200)).max(100).optional(),
  })
  .strict();

/** A policy as the API, the command line's `--json` and the pages show it. */
export const signerPolicyJson = (p: SignerPolicyRecord, feed: string) => ({
  name: p.name,
  feed,
  pattern: p.pattern,
  owner: p.owner,
  mode: p.mode,
  fingerprints: p.fingerprints,
  created: p.created,
  createdBy: p.createdBy,
});

/**
 * One feed's trusted-signer policies (docs/SIGNING.md) under the feed's URLs (`/api/admin/signers` on the default
 * feed, `/f/dev/api/admin/signers` on `dev`): admin keys valid on the feed. `GET` lists them with the feed's default,
 * `POST` adds one, `DELETE .../{name}` removes one.
 */
export function adminSignerRoutes(app: FastifyInstance, deps: AdminSignerRouteDeps): void {
  const admin = async (request: FastifyRequest): Promise<Principal> => {
    const principal = await deps.requestAuth.authenticate(request);
    deps.auth.authorizeFeedAdmin(principal);
    return principal;
  };
  const opts = { config: { access: 'key' as const } };
  const base = `${ADMIN_BASE}/signers`;
  const shown = (p: SignerPolicyRecord) => signerPolicyJson(p, deps.feedName);

  app.get(base, opts, async (request) => {
    await admin(request);
    const { mode, fingerprints } = deps.signers.feedDefault;
    return { feed: deps.feedName, default: { mode, fingerprints }, policies: (await deps.signers.list()).map(shown) };
  });
  app.post(base, opts, async (request, reply) => {
    const principal = await admin(request);
    return reply.code(201).send(shown(await deps.signers.add(principal, parseBody(newPolicyBody, request.body))));
  });
  app.delete<{ Params: { name: string } }>(`${base}/:name`, opts, async (request) => {
    const principal = await admin(request);
    return shown(await deps.signers.remove(principal, request.params.name));
  });
}
