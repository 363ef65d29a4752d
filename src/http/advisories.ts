import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { badRequest } from '../errors.js';
import type { AdvisoryService } from '../feed/advisories.js';
import { lowerId } from '../nuget/id.js';
import { parseAlternate, parseDeprecationReason, severityName, type DeprecationReason } from '../nuget/advisory.js';
import type { RequestAuthenticator } from './access-control.js';
import { parseBody } from './admin.js';
import { routes } from './routes.js';

const stringList = z.union([z.array(z.string()), z.string().transform((s) => [s])]);

const deprecationBody = z
  .object({
    versions: stringList,
    reasons: stringList,
    message: z.string().nullable().optional(),
    /** `Id`, `Id@RANGE`, or `{ id, range }`. */
    alternatePackage: z.union([z.string(), z.object({ id: z.string(), range: z.string().nullable().optional() }).strict()]).nullable().optional(),
  })
  .strict();

const undeprecateBody = z.object({ versions: stringList }).strict();

const vulnerabilityBody = z
  .object({ url: z.string(), severity: z.union([z.string(), z.number()]), versions: z.string() })
  .strict();

function reasonsOf(texts: readonly string[]): DeprecationReason[] {
  return texts.map((t) => {
    const reason = parseDeprecationReason(t);
    if (!reason) throw badRequest(`"${t}" is not a deprecation reason: use Legacy, CriticalBugs or Other.`);
    return reason;
  });
}

function alternateOf(value: z.output<typeof deprecationBody>['alternatePackage']) {
  if (value == null) return null;
  const text = typeof value === 'string' ? value : value.range ? `${value.id}@${value.range}` : value.id;
  try {
    return parseAlternate(text);
  } catch (err) {
    throw badRequest(`Invalid alternatePackage: ${(err as Error).message}.`);
  }
}

/**
 * Deprecations and vulnerability advisories over JSON (NuGet's protocol has no endpoint for them; nuget.org does it
 * on its web site). Reads are open like the rest of the feed; writes take the key of an owner (unlist scope) or an
 * admin, in X-NuGet-ApiKey like a push.
 *
 * @example curl -X PUT -H 'X-NuGet-ApiKey: ...' -H 'content-type: application/json' -d '{"versions":"*","reasons":"Legacy","alternatePackage":"Contoso.New"}' https://feed/api/packages/Contoso.Old/deprecation
 */
export function advisoryRoutes(
  app: FastifyInstance,
  advisories: Pick<AdvisoryService, 'forId' | 'deprecate' | 'undeprecate' | 'fileVulnerability' | 'withdrawVulnerability'>,
  requestAuth: RequestAuthenticator,
): void {
  const base = `${routes.packageApi}:id`;
  const keyed = { config: { access: 'key' as const } };
  const principalOf = (request: FastifyRequest<{ Params: { id: string } }>) =>
    requestAuth.authenticate(request, { denied: { action: 'advisory.denied', target: request.params.id } });

  app.get<{ Params: { id: string } }>(`${base}/advisories`, async (request) => {
    const { id } = request.params;
    const found = await advisories.forId(lowerId(id));
    return {
      id,
      deprecations: Object.fromEntries(found.deprecations),
      vulnerabilities: found.vulnerabilities.map((v) => ({ ...v, severityName: severityName(v.severity) })),
    };
  });

  app.put<{ Params: { id: string } }>(`${base}/deprecation`, keyed, async (request) => {
    const principal = await principalOf(request);
    const body = parseBody(deprecationBody, request.body);
    const { id } = request.params;
    const versions = await advisories.deprecate(principal, id, body.versions, {
      reasons: reasonsOf(body.reasons),
      message: body.message ?? null,
      alternate: alternateOf(body.alternatePackage),
    });
    return { id, deprecated: versions };
  });

  app.delete<{ Params: { id: string } }>(`${base}/deprecation`, keyed, async (request) => {
    const principal = await principalOf(request);
    const body = parseBody(undeprecateBody, request.body);
    const { id } = request.params;
    return { id, undeprecated: await advisories.undeprecate(principal, id, body.versions) };
  });

  app.put<{ Params: { id: string } }>(`${base}/vulnerabilities`, keyed, async (request) => {
    const principal = await principalOf(request);
    const body = parseBody(vulnerabilityBody, request.body);
    const { id } = request.params;
    return { id, vulnerability: await advisories.fileVulnerability(principal, id, body) };
  });

  app.delete<{ Params: { id: string }; Querystring: { url?: string } }>(`${base}/vulnerabilities`, keyed, async (request) => {
    const principal = await principalOf(request);
    const { id } = request.params;
    const url = request.query.url;
    if (!url) throw badRequest(`Say which advisory to withdraw: ${routes.packageApi}${id}/vulnerabilities?url=ADVISORY_URL`);
    await advisories.withdrawVulnerability(principal, id, url);
    return { id, withdrawn: url };
  });
}
