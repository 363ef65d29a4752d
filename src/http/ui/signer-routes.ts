import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, PawketError } from '../../errors.js';
import type { PackageAccess } from '../../feed/access.js';
import type { Principal } from '../../feed/auth.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import type { SignerPolicies } from '../../feed/signer-policies.js';
import { installFormParsing, requireSameSiteForm, field, type Fields } from '../session.js';
import { problemPage } from './org-pages.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';
import { signerListPage, signersPath, type SignerFormValues, type SignerNotice } from './signer-pages.js';

export interface SignerPageRouteDeps {
  readonly scope: FeedScope;
  /** The feed's access rules: whether a viewer's key or session is valid here. */
  readonly access: Pick<PackageAccess, 'isValidHere'>;
  readonly signers: SignerPolicies;
}

/**
 * A feed's signer policies in the browser (docs/SIGNING.md), under the feed's prefix: `GET {prefix}/admin/signers`
 * (list, add form), `POST {prefix}/admin/signers` (add) and `POST {prefix}/admin/signers/{name}/remove`. For admins
 * valid on the feed, as the admin API is; through the feed's SignerPolicies, so changes are audited as the person's.
 * Forms need the session's CSRF token and answer 303.
 */
export function signerPageRoutes(app: FastifyInstance, deps: SignerPageRouteDeps): void {
  const anonymous = { config: { access: 'anonymous' as const } };
  const paths = (request: FastifyRequest) => UiPaths.of(request, deps.scope);

  const admin = (request: FastifyRequest): Principal => {
    const viewer = request.pawketViewer;
    if (!viewer) throw new PawketError(401, 'Sign in first: your session has ended.');
    const principal = viewer.principal;
    if (!principal.scopes.has('admin') || !deps.access.isValidHere(principal)) {
      throw new PawketError(403, `Only an admin of the feed ${deps.scope.name} may manage its signer policies.`);
    }
    return principal;
  };

  const problem = (request: FastifyRequest, reply: FastifyReply, err: unknown) => {
    if (!(err instanceof PawketError)) throw err;
    const p = paths(request);
    const title = err.status === 403 ? 'Not allowed' : err.status === 401 ? 'Signed out' : err.status === 404 ? 'Not found' : 'Not done';
    const back = signersPath(p);
    return sendPage(reply, problemPage(p, title, err.message, err.status === 401 ? { href: p.signIn(back), label: 'Sign in' } : { href: back, label: 'Back' }), err.status);
  };

  const listPage = async (request: FastifyRequest, reply: FastifyReply, extra: { error?: string; values?: SignerFormValues } = {}, status = 200) => {
    const done = (request.query as Record<string, unknown>).done;
    const input = { feedName: deps.scope.name, policies: await deps.signers.list(), feedDefault: deps.signers.feedDefault, done, ...extra };
    return sendPage(reply, signerListPage(paths(request), input), status);
  };

  app.get('/admin/signers', anonymous, async (request, reply) => {
    if (!request.pawketViewer) return reply.redirect(paths(request).signIn(signersPath(paths(request))), 303);
    try {
      admin(request);
      return await listPage(request, reply);
    } catch (err) {
      return problem(request, reply, err);
    }
  });

  app.register(async (scope) => {
    installFormParsing(scope);
    const done = (p: UiPaths, flag: SignerNotice) => `${signersPath(p)}?done=${flag}`;

    scope.post('/admin/signers', anonymous, async (request, reply) => {
      const fields = request.body as Fields;
      const values: SignerFormValues = {
        name: field(fields, 'name').slice(0, 64),
        pattern: field(fields, 'pattern').slice(0, 100),
        owner: field(fields, 'owner').slice(0, 64),
        mode: field(fields, 'mode').slice(0, 16),
        fingerprints: field(fields, 'fingerprints').slice(0, 3000),
      };
      try {
        requireSameSiteForm(request, request.pawketViewer ?? null, fields);
        const principal = admin(request);
        const fingerprints = values.fingerprints.split(/[\n,;]+/).map((f) => f.trim()).filter(Boolean);
        await deps.signers.add(principal, { name: values.name, pattern: values.pattern, owner: values.owner, mode: values.mode, fingerprints });
        return reply.redirect(done(paths(request), 'added'), 303);
      } catch (err) {
        // A refused policy is the list again with the form filled in.
        if (err instanceof PawketError && (err.status === 400 || err.status === 409) && request.pawketViewer) {
          return listPage(request, reply, { error: err.message, values }, err.status);
        }
        return problem(request, reply, err);
      }
    });

    scope.post<{ Params: { name: string } }>('/admin/signers/:name/remove', anonymous, async (request, reply) => {
      try {
        const fields = request.body as Fields;
        requireSameSiteForm(request, request.pawketViewer ?? null, fields);
        const principal = admin(request);
        if (field(fields, 'confirm') !== 'yes') throw badRequest(`Tick "remove" to remove the policy ${request.params.name.slice(0, 64)}.`);
        await deps.signers.remove(principal, request.params.name);
        return reply.redirect(done(paths(request), 'removed'), 303);
      } catch (err) {
        return problem(request, reply, err);
      }
    });
  });
}
