import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { DeliveryRecord, WebhookRecord } from '../db/webhook-database.js';
import { badRequest } from '../errors.js';
import type { ApiKeyAuthenticator, Principal } from '../feed/auth.js';
import type { WebhookService } from '../feed/webhooks.js';
import { ADMIN_BASE, parseBody } from './admin.js';
import type { RequestAuthenticator } from './access-control.js';

export interface AdminWebhookRouteDeps {
  readonly auth: ApiKeyAuthenticator;
  /** The feed's: a key not valid on the feed is refused. */
  readonly requestAuth: RequestAuthenticator;
  readonly webhooks: WebhookService;
  readonly feedName: string;
  /** How long `POST .../test` waits for the ping's outcome before answering 202 (it is sent anyway). */
  readonly testWaitMs: number;
}

const events = z.union([z.array(z.string()), z.literal('*'), z.string().transform((s) => s.split(',').map((e) => e.trim()))]);
const newWebhookBody = z
  .object({ url: z.string(), events: events.optional(), description: z.string().optional(), secret: z.string().optional() })
  .strict();
const webhookChanges = z
  .object({ url: z.string().optional(), events: events.optional(), active: z.boolean().optional(), description: z.string().optional() })
  .strict();

/** A webhook as the API shows it: never its secret. */
export const webhookJson = (w: WebhookRecord, feed: string) => ({
  id: w.webhookId,
  feed,
  url: w.url,
  events: w.events,
  active: w.active,
  description: w.description,
  created: w.created,
  createdBy: w.createdBy,
});

/** A delivery as the log shows it; `withBody` adds the exact body sent. */
export const deliveryJson = (d: DeliveryRecord, withBody = false) => ({
  id: d.deliveryId,
  event: d.event,
  packageId: d.lowerId,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  created: d.created,
  sentAt: d.sentAt,
  ...(withBody ? { body: JSON.parse(d.payload) as unknown } : {}),
});

export function webhookId(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw badRequest(`"${text.slice(0, 40)}" is not a webhook id (a number: see GET ${ADMIN_BASE}/webhooks).`);
  return Number(text);
}

/**
 * One feed's webhooks (docs/WEBHOOKS.md) under the feed's URLs (`/api/admin/webhooks` on the default feed,
 * `/f/dev/api/admin/webhooks` on `dev`): admin keys valid on the feed. Webhooks make the server call URLs, so only
 * admins create them.
 */
export function adminWebhookRoutes(app: FastifyInstance, deps: AdminWebhookRouteDeps): void {
  const admin = async (request: FastifyRequest): Promise<Principal> => {
    const principal = await deps.requestAuth.authenticate(request);
    deps.auth.authorizeFeedAdmin(principal);
    return principal;
  };
  const opts = { config: { access: 'key' as const } };
  const base = `${ADMIN_BASE}/webhooks`;
  const shown = (w: WebhookRecord) => webhookJson(w, deps.feedName);
  type ById = { Params: { id: string } };

  app.get(base, opts, async (request) => {
    await admin(request);
    return { webhooks: (await deps.webhooks.list()).map(shown) };
  });
  app.post(base, opts, async (request, reply) => {
    const principal = await admin(request);
    const { webhook, secret } = await deps.webhooks.create(principal, parseBody(newWebhookBody, request.body));
    // The secret is in this answer only: the receiver needs it to check signatures.
    return reply.code(201).header('cache-control', 'no-store').send({ ...shown(webhook), secret });
  });
  app.get<ById>(`${base}/:id`, opts, async (request) => {
    await admin(request);
    const { webhook, deliveries } = await deps.webhooks.show(webhookId(request.params.id));
    return { ...shown(webhook), deliveries: deliveries.map((d) => deliveryJson(d)) };
  });
  app.patch<ById>(`${base}/:id`, opts, async (request) => {
    const principal = await admin(request);
    return shown(await deps.webhooks.update(principal, webhookId(request.params.id), parseBody(webhookChanges, request.body)));
  });
  app.delete<ById>(`${base}/:id`, opts, async (request) => {
    const principal = await admin(request);
    return shown(await deps.webhooks.delete(principal, webhookId(request.params.id)));
  });
  // Queues a `ping` and waits a little for its outcome: 200 with it, or 202 while it is still on its way.
  app.post<ById>(`${base}/:id/test`, opts, async (request, reply) => {
    const principal = await admin(request);
    const { delivery, attempted } = await deps.webhooks.pingAndWait(principal, webhookId(request.params.id), deps.testWaitMs);
    return reply.code(attempted ? 200 : 202).send(deliveryJson(delivery, true));
  });
  app.get<{ Params: { id: string; delivery: string } }>(`${base}/:id/deliveries/:delivery`, opts, async (request) => {
    await admin(request);
    return deliveryJson(await deps.webhooks.delivery(webhookId(request.params.id), request.params.delivery), true);
  });
  app.post<{ Params: { id: string; delivery: string } }>(`${base}/:id/deliveries/:delivery/redeliver`, opts, async (request, reply) => {
    await admin(request);
    return reply.code(202).send(deliveryJson(await deps.webhooks.redeliver(webhookId(request.params.id), request.params.delivery)));
  });
}
