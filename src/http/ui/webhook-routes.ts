import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, PawketError } from '../../errors.js';
import type { PackageAccess } from '../../feed/access.js';
import type { Principal } from '../../feed/auth.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import type { WebhookService } from '../../feed/webhooks.js';
import { webhookId } from '../admin-webhooks.js';
import { installFormParsing, requireSameSiteForm, field, fieldList, type Fields } from '../session.js';
import { problemPage } from './org-pages.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';
import { webhookCreatedPage, webhookListPage, webhookPage, webhooksPath, type WebhookFormValues, type WebhookNotice } from './webhook-pages.js';

export interface WebhookPageRouteDeps {
  readonly scope: FeedScope;
  /** The feed's access rules: whether a viewer's key or session is valid here. */
  readonly access: Pick<PackageAccess, 'isValidHere'>;
  readonly webhooks: WebhookService;
  /** How long "Send a test event" waits for the ping's first attempt before showing the page again. */
  readonly testWaitMs: number;
}

type ById = { Params: { id: string } };
type FormParams = { Params: { id: string; delivery?: string } };

/** Deliveries per page of a webhook's log. */
const LOG_PAGE = 50;
/** Pages of the log offered: the log keeps the newest 1000 finished deliveries (and what waits). */
const MAX_LOG_PAGE = 100;

/**
 * A feed's webhooks in the browser (docs/WEBHOOKS.md), under the feed's prefix: `GET {prefix}/admin/webhooks` (list,
 * create form), `POST {prefix}/admin/webhooks` (create: the secret is on the answer, once, never in a URL),
 * `GET {prefix}/admin/webhooks/{id}` (its delivery log, `?page=`), and its forms `active`, `delete`, `test`,
 * `deliveries/{delivery}/redeliver`. For admins valid on the feed, as the admin API is; through the feed's
 * WebhookService, so changes are audited as the person's. Forms need the session's CSRF token and answer 303.
 */
export function webhookPageRoutes(app: FastifyInstance, deps: WebhookPageRouteDeps): void {
  const anonymous = { config: { access: 'anonymous' as const } };
  const paths = (request: FastifyRequest) => UiPaths.of(request, deps.scope);

  /** The viewer as an admin of this feed, or a refusal (401 when nobody is signed in). */
  const admin = (request: FastifyRequest): Principal => {
    const viewer = request.pawketViewer;
    if (!viewer) throw new PawketError(401, 'Sign in first: your session has ended.');
    const principal = viewer.principal;
    if (!principal.scopes.has('admin') || !deps.access.isValidHere(principal)) {
      throw new PawketError(403, `Only an admin of the feed ${deps.scope.name} may manage its webhooks: a webhook makes the server send requests where its URL says.`);
    }
    return principal;
  };

  /** A refusal or failure as a page with its status and a way back. */
  const problem = (request: FastifyRequest, reply: FastifyReply, err: unknown, back: string) => {
    if (!(err instanceof PawketError)) throw err;
    const p = paths(request);
    const title = err.status === 403 ? 'Not allowed' : err.status === 401 ? 'Signed out' : err.status === 404 ? 'Not found' : 'Not done';
    return sendPage(reply, problemPage(p, title, err.message, err.status === 401 ? { href: p.signIn(back), label: 'Sign in' } : { href: back, label: 'Back' }), err.status);
  };

  /** A page for signed-in admins: nobody signed in goes to the sign-in page and comes back. */
  const page =
    <R extends { Params?: unknown }>(path: (request: FastifyRequest<R>) => string, render: (request: FastifyRequest<R>, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest<R>, reply: FastifyReply) => {
      if (!request.pawketViewer) return reply.redirect(paths(request).signIn(path(request)), 303);
      try {
        admin(request);
        return await render(request, reply);
      } catch (err) {
        return problem(request, reply, err, webhooksPath(paths(request)));
      }
    };

  const listPage = async (request: FastifyRequest, reply: FastifyReply, extra: { error?: string; values?: WebhookFormValues } = {}, status = 200) => {
    const webhooks = await Promise.all(
      (await deps.webhooks.list()).map(async (webhook) => ({ webhook, last: (await deps.webhooks.show(webhook.webhookId, 1)).deliveries[0] ?? null })),
    );
    const done = (request.query as Record<string, unknown>).done;
    return sendPage(reply, webhookListPage(paths(request), { feedName: deps.scope.name, webhooks, done, ...extra }), status);
  };

  app.get(
    '/admin/webhooks',
    anonymous,
    page(
      (request) => webhooksPath(paths(request)),
      (request, reply) => listPage(request, reply),
    ),
  );

  app.get<ById>(
    '/admin/webhooks/:id',
    anonymous,
    page<ById>(
      (request) => `${paths(request).prefix}${request.url}`,
      async (request, reply) => {
        const query = request.query as Record<string, unknown>;
        const pageText = typeof query.page === 'string' ? query.page : '1';
        if (!/^\d{1,3}$/.test(pageText) || Number(pageText) < 1 || Number(pageText) > MAX_LOG_PAGE) {
          throw badRequest(`The page must be a number from 1 to ${MAX_LOG_PAGE}.`);
        }
        const pageNo = Number(pageText);
        const { webhook, deliveries } = await deps.webhooks.show(webhookId(request.params.id), LOG_PAGE + 1, (pageNo - 1) * LOG_PAGE);
        return sendPage(
          reply,
          webhookPage(paths(request), { webhook, deliveries: deliveries.slice(0, LOG_PAGE), page: pageNo, hasOlder: deliveries.length > LOG_PAGE && pageNo < MAX_LOG_PAGE, done: query.done }),
        );
      },
    ),
  );

  app.register(async (scope) => {
    installFormParsing(scope);

    /** A form: same-site with the session's token, an admin of the feed, then the change; 303 to where it says. */
    const form = (path: string, act: (request: FastifyRequest<FormParams>, principal: Principal, fields: Fields, p: UiPaths) => Promise<string>) =>
      scope.post<FormParams>(path, anonymous, async (request, reply) => {
        const p = paths(request);
        const back = webhooksPath(p, /^\d{1,9}$/.test(request.params.id) ? Number(request.params.id) : undefined);
        try {
          const fields = request.body as Fields;
          requireSameSiteForm(request, request.pawketViewer ?? null, fields);
          return reply.redirect(await act(request, admin(request), fields, p), 303);
        } catch (err) {
          return problem(request, reply, err, back);
        }
      });
    const done = (p: UiPaths, id: number | undefined, flag: WebhookNotice) => `${webhooksPath(p, id)}?done=${flag}`;

    // Create: the answer shows the secret (no redirect: it must never be in a URL), kept out of caches.
    scope.post('/admin/webhooks', anonymous, async (request, reply) => {
      const fields = request.body as Fields;
      const values: WebhookFormValues = {
        url: field(fields, 'url').slice(0, 2000),
        description: field(fields, 'description').slice(0, 500),
        events: fieldList(fields, 'events[]').slice(0, 50),
      };
      try {
        requireSameSiteForm(request, request.pawketViewer ?? null, fields);
        const principal = admin(request);
        const created = await deps.webhooks.create(principal, { url: values.url, events: values.events, description: values.description });
        return sendPage(reply, webhookCreatedPage(paths(request), created), 200, 'no-store');
      } catch (err) {
        // A refused webhook (its URL, its events, too many) is the list again with the form filled in.
        if (err instanceof PawketError && (err.status === 400 || err.status === 409) && request.pawketViewer) {
          return listPage(request, reply, { error: err.message, values }, err.status);
        }
        return problem(request, reply, err, webhooksPath(paths(request)));
      }
    });

    form('/admin/webhooks/:id/active', async (request, principal, fields, p) => {
      const id = webhookId(request.params.id);
      const active = field(fields, 'active');
      if (active !== 'yes' && active !== 'no') throw badRequest('Say whether the webhook should be active: yes or no.');
      await deps.webhooks.update(principal, id, { active: active === 'yes' });
      return done(p, id, active === 'yes' ? 'enabled' : 'disabled');
    });

    form('/admin/webhooks/:id/delete', async (request, principal, fields, p) => {
      const id = webhookId(request.params.id);
      if (field(fields, 'confirm') !== 'yes') throw badRequest(`Tick "delete" to delete webhook ${id}: its delivery log goes with it.`);
      await deps.webhooks.delete(principal, id);
      return done(p, undefined, 'deleted');
    });

    form('/admin/webhooks/:id/test', async (request, principal, _fields, p) => {
      const id = webhookId(request.params.id);
      const { delivery, attempted } = await deps.webhooks.pingAndWait(principal, id, deps.testWaitMs);
      return done(p, id, !attempted ? 'test-queued' : delivery.status === 'sent' ? 'test-sent' : 'test-failed');
    });

    form('/admin/webhooks/:id/deliveries/:delivery/redeliver', async (request, _principal, _fields, p) => {
      const id = webhookId(request.params.id);
      await deps.webhooks.redeliver(id, request.params.delivery ?? '');
      return done(p, id, 'redelivered');
    });
  });
}
