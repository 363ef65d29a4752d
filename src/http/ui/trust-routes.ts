import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TrustPolicyRecord } from '../../db/trust-database.js';
import { badRequest, PawketError } from '../../errors.js';
import { isValidOnFeed, ownersActedFor, type Principal } from '../../feed/auth.js';
import { baseUrl } from '../base-url.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import { keyFeedNames } from '../../feed/keys.js';
import type { People } from '../../people/people.js';
import { roleOn, scopesOfRole } from '../../people/roles.js';
import { parseClaimRules, policyId, type TrustPolicies } from '../../trust/policies.js';
import { installFormParsing, requireSameSiteForm, type Viewer, field, fieldList, type Fields } from '../session.js';
import { pageViewer } from './key-routes.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';
import { trustPage, type PolicyFormValues, type TrustPageInput } from './trust-pages.js';

export interface TrustRouteDeps {
  readonly policies: TrustPolicies;
  readonly people: People;
  /** The default feed: these pages are the server's, drawn in its frame. */
  readonly scope: FeedScope;
  readonly configuredBase: string | undefined;
}


const DONE: Record<string, string> = { created: 'Created', disabled: 'Disabled', enabled: 'Enabled', deleted: 'Deleted' };

/**
 * "Trusted publishing" (docs/TRUSTED-PUBLISHING.md): `GET /account/trust` lists the policies of the owners the viewer
 * acts for (every policy for admins) with a form to create one; `POST /account/trust` creates one,
 * `POST /account/trust/{id}/disable|enable|delete` change one; each answers with a redirect back (303), or the page
 * with the refusal. The rules are TrustPolicies' (src/trust/policies.ts), the same as the API's and the CLI's.
 */
export function trustRoutes(app: FastifyInstance, deps: TrustRouteDeps): void {
  const anonymous = { config: { access: 'anonymous' as const } };
  const { policies } = deps;
  const paths = (request: FastifyRequest) => UiPaths.of(request, deps.scope);
  /** A person acts with their own principal (the viewer's is cut to the default feed's role); a key as itself. */
  const principalOf = (request: FastifyRequest, viewer: Viewer): Principal =>
    viewer.person ? deps.people.principalOf(viewer.person, request.ip) : viewer.principal;
  const feedsOf = (p: TrustPolicyRecord) => keyFeedNames(p.feeds, policies.feedNames);

  /** The feeds the form offers: those the viewer may publish to. */
  function formOf(principal: Principal, admin: boolean, values?: PolicyFormValues): TrustPageInput['form'] {
    const publishes = (id: number, isPrivate: boolean) => {
      if (!isValidOnFeed(principal, id)) return false;
      if (!principal.roles) return true;
      const role = roleOn(principal.roles, id, isPrivate);
      return role !== null && scopesOfRole(role).includes('push');
    };
    const feeds = deps.policies.feedDefinitions().filter((d) => !d.virtual && (admin || publishes(d.id, d.config.private))).map((d) => d.name);
    return {
      owners: admin ? null : [...ownersActedFor(principal)],
      feeds,
      everyFeed: admin || (principal.feeds === null && principal.roles === undefined),
      maxKeyLifetime: policies.maxKeyLifetime,
      ...(values ? { values } : {}),
    };
  }

  async function page(request: FastifyRequest, reply: FastifyReply, extra: { error?: string; notice?: string; values?: PolicyFormValues }, status = 200) {
    const viewer = pageViewer(request);
    const principal = principalOf(request, viewer);
    const { values, ...messages } = extra;
    let shown: TrustPolicyRecord[] = [];
    try {
      shown = await policies.list(principal);
    } catch (err) {
      if (!(err instanceof PawketError)) throw err;
      messages.error ??= err.message;
    }
    const input: TrustPageInput = { policies: shown, feedsOf, form: formOf(principal, viewer.admin, values), ...messages };
    return sendPage(reply, trustPage(paths(request), input), status);
  }

  /** A refusal as the page with its message, in its status. */
  const refused = (request: FastifyRequest, reply: FastifyReply, err: unknown, values?: PolicyFormValues) => {
    if (!(err instanceof PawketError)) throw err;
    if (!request.pawketViewer) return reply.redirect(paths(request).signIn(paths(request).trustPolicies), 303);
    return page(request, reply, { error: err.message, ...(values ? { values } : {}) }, err.status);
  };

  app.get('/account/trust', anonymous, async (request, reply) => {
    if (!request.pawketViewer) return reply.redirect(paths(request).signIn('/account/trust'), 303);
    const query = request.query as Record<string, unknown>;
    const done = Object.keys(DONE).find((k) => typeof query[k] === 'string' && /^\d{1,9}$/.test(query[k] as string));
    return page(request, reply, done ? { notice: `${DONE[done]} trust policy ${query[done] as string}.` } : {});
  });

  app.register(async (scope) => {
    installFormParsing(scope);

    scope.post('/account/trust', anonymous, async (request, reply) => {
      const fields = request.body as Fields;
      const values: PolicyFormValues = {
        name: field(fields, 'name').slice(0, 100),
        owner: field(fields, 'owner').slice(0, 100),
        provider: field(fields, 'provider').slice(0, 20),
        repository: field(fields, 'repository').slice(0, 500),
        workflow: field(fields, 'workflow').slice(0, 500),
        project: field(fields, 'project').slice(0, 500),
        environment: field(fields, 'environment').slice(0, 500),
        ref: field(fields, 'ref').slice(0, 500),
        issuer: field(fields, 'issuer').slice(0, 500),
        claims: field(fields, 'claims').slice(0, 5000),
        audience: field(fields, 'audience').slice(0, 500),
        scopes: fieldList(fields, 'scopes[]').slice(0, 10),
        feeds: fieldList(fields, 'feeds[]').slice(0, 1000),
        patterns: field(fields, 'patterns').slice(0, 1000),
        keyLifetime: field(fields, 'keyLifetime').slice(0, 10),
      };
      try {
        const viewer = pageViewer(request);
        requireSameSiteForm(request, viewer, fields);
        const provider = values.provider;
        // The form shows every preset's fields; only the chosen one's count.
        const policy = await policies.create(principalOf(request, viewer), {
          name: values.name,
          owner: values.owner,
          provider,
          repository: provider === 'github' ? values.repository : undefined,
          workflow: provider === 'github' ? values.workflow : undefined,
          project: provider === 'gitlab' ? values.project : undefined,
          environment: provider === 'generic' ? undefined : values.environment,
          ref: provider === 'generic' ? undefined : values.ref,
          issuer: values.issuer.trim() || undefined,
          claims: parseClaimRules(values.claims.split(/\r?\n/)),
          audience: values.audience,
          scopes: values.scopes,
          patterns: [values.patterns],
          feeds: values.feeds.length === 0 ? [''] : values.feeds,
          keyLifetime: /^\d{1,9}$/.test(values.keyLifetime) ? Number(values.keyLifetime) : values.keyLifetime === '' ? undefined : NaN,
        }, baseUrl(request, deps.configuredBase));
        request.log.info({ policy: policy.policyId, owner: policy.owner }, 'a trust policy was created');
        return reply.redirect(`${paths(request).trustPolicies}?created=${policy.policyId}`, 303);
      } catch (err) {
        return refused(request, reply, err, values);
      }
    });

    scope.post<{ Params: { id: string; action: string } }>('/account/trust/:id/:action', anonymous, async (request, reply) => {
      try {
        const viewer = pageViewer(request);
        requireSameSiteForm(request, viewer, request.body as Fields);
        const principal = principalOf(request, viewer);
        const id = policyId(request.params.id);
        const action = request.params.action;
        if (action === 'delete') {
          if (field(request.body as Fields, 'confirm') !== 'yes') throw badRequest(`Tick "delete" to delete trust policy ${id}: CI jobs it trusts can no longer publish.`);
          await policies.delete(principal, id);
        }
        else if (action === 'disable' || action === 'enable') await policies.setDisabled(principal, id, action === 'disable');
        else throw new PawketError(404, `There is no action '${action.slice(0, 40)}' on trust policies: disable, enable or delete.`);
        const done = action === 'delete' ? 'deleted' : `${action}d`;
        return reply.redirect(`${paths(request).trustPolicies}?${done}=${id}`, 303);
      } catch (err) {
        return refused(request, reply, err);
      }
    });
  });
}
