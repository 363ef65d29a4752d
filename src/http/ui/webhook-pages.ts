/**
 * A feed's webhooks in the browser (docs/WEBHOOKS.md), for the feed's admins: the list with the form to create one, the
 * page that shows a new webhook's secret once, and a webhook's page with its delivery log. Pure functions of their
 * inputs; webhook-routes.ts gathers the data and decides who may see them.
 */
import type { DeliveryRecord, WebhookRecord } from '../../db/webhook-database.js';
import { WEBHOOK_EVENTS } from '../../feed/webhook-events.js';
import { html, type Html } from './html.js';
import { notice } from './org-pages.js';
import { csrfField, layout } from './pages.js';
import type { UiPaths } from './paths.js';

/** Outcomes a redirect after a form names (`?done=`): fixed texts, never text from the URL. */
export const WEBHOOK_NOTICES = {
  deleted: 'The webhook was deleted, with its delivery log.',
  enabled: 'The webhook is active: its waiting deliveries go out now.',
  disabled: 'The webhook is inactive: its deliveries wait until it is active again.',
  'test-sent': 'The test event (ping) was delivered.',
  'test-failed': 'The test event (ping) was not delivered: the log below says why. It is retried like any delivery.',
  'test-queued': 'The test event (ping) is on its way: reload to see its outcome.',
  redelivered: 'The delivery was queued again, with the same id and body.',
} as const;
export type WebhookNotice = keyof typeof WEBHOOK_NOTICES;

/** The line a form's outcome shows: a test event that failed is bad news, the rest is done. */
function webhookNotice(done: unknown): Html {
  return done === 'test-failed' ? html`<div class="status bad" role="alert">${WEBHOOK_NOTICES['test-failed']}</div>` : notice(done, WEBHOOK_NOTICES);
}

/** Where a feed's webhook pages are: under the feed's prefix, as the admin API is. */
export function webhooksPath(paths: UiPaths, webhookId?: number): string {
  return `${paths.prefix}/admin/webhooks${webhookId === undefined ? '' : `/${webhookId}`}`;
}

const when = (iso: string | null) => (iso ? iso.slice(0, 19).replace('T', ' ') : '-');
const eventsText = (events: WebhookRecord['events']) => (events === '*' ? 'every event (*)' : events.join(', '));

/** A delivery's outcome in a few words: its status, the receiver's answer or the error. */
function outcome(d: DeliveryRecord): Html {
  const answer = d.lastStatusCode !== null ? ` (HTTP ${d.lastStatusCode})` : '';
  return html`${d.status}${answer}`;
}

/** The Active/Inactive and Delete forms of a webhook. */
function webhookForms(paths: UiPaths, w: WebhookRecord): Html {
  const base = webhooksPath(paths, w.webhookId);
  return html`<form class="inline" method="post" action="${base}/active">${csrfField(paths)}<input type="hidden" name="active" value="${w.active ? 'no' : 'yes'}"><button type="submit" aria-label="${w.active ? 'Disable' : 'Enable'} webhook ${w.webhookId}">${w.active ? 'Disable' : 'Enable'}</button></form>
<form class="inline" method="post" action="${base}/delete">${csrfField(paths)}<label><input type="checkbox" name="confirm" value="yes" required> delete</label> <button type="submit" class="danger" aria-label="Delete webhook ${w.webhookId}">Delete</button></form>`;
}

/** What the create form was sent with, to fill it again after a refusal. */
export interface WebhookFormValues {
  readonly url: string;
  readonly description: string;
  readonly events: readonly string[];
}

export interface WebhookListInput {
  readonly feedName: string;
  readonly webhooks: ReadonlyArray<{ readonly webhook: WebhookRecord; readonly last: DeliveryRecord | null }>;
  readonly done?: unknown;
  /** Why the last create was refused, with what it was sent with. */
  readonly error?: string;
  readonly values?: WebhookFormValues;
}

function createForm(paths: UiPaths, values: WebhookFormValues | undefined): Html {
  const events = values?.events ?? ['*'];
  const checked = (event: string) => (events.includes(event) ? html` checked` : '');
  return html`<h2>Create a webhook</h2>
<form class="stacked" method="post" action="${webhooksPath(paths)}">
${csrfField(paths)}
<div><label for="webhook-url">URL</label> <span class="muted">(http or https; receives a signed JSON POST per event)</span><br>
<input type="url" id="webhook-url" name="url" required maxlength="2000" size="60" value="${values?.url ?? ''}" placeholder="https://ci.example.com/hooks/pawket" autocomplete="off"></div>
<div><label for="webhook-description">Description</label><br><input type="text" id="webhook-description" name="description" maxlength="500" size="60" value="${values?.description ?? ''}"></div>
<fieldset><legend>Events</legend>
<label><input type="checkbox" name="events[]" value="*"${checked('*')}> every event, those added later too</label><br>
${WEBHOOK_EVENTS.map((e) => html`<label><input type="checkbox" name="events[]" value="${e}"${checked(e)}> <code>${e}</code></label><br>`)}
</fieldset>
<div><button type="submit" class="primary">Create webhook</button></div>
<p class="muted">The server makes the signing secret and shows it once, on the next page.</p>
</form>`;
}

/** A feed's webhooks, their last delivery, and the form to create one. */
export function webhookListPage(paths: UiPaths, input: WebhookListInput): string {
  const body = html`<h1>Webhooks of feed ${input.feedName}</h1>
${webhookNotice(input.done)}
${input.error ? html`<div class="status bad" role="alert">${input.error}</div>` : ''}
<p class="muted">Each webhook receives a signed JSON <code>POST</code> for the events it asked for, from a queue in the database (docs/WEBHOOKS.md).</p>
${
  input.webhooks.length === 0
    ? html`<p>This feed has no webhooks.</p>`
    : html`<table class="versions webhooks"><thead><tr><th>Webhook</th><th>URL</th><th>Events</th><th>Active</th><th>Last delivery</th><th></th></tr></thead><tbody>
${input.webhooks.map(
  ({ webhook: w, last }) => html`<tr>
<td><a href="${webhooksPath(paths, w.webhookId)}">#${w.webhookId}</a>${w.description ? html`<br>${w.description}` : ''}</td>
<td><code>${w.url}</code></td>
<td>${eventsText(w.events)}</td>
<td>${w.active ? 'yes' : 'no'}</td>
<td>${last ? html`${outcome(last)}<br><span class="muted">${last.event}, ${when(last.created)}</span>` : html`<span class="muted">none yet</span>`}</td>
<td>${webhookForms(paths, w)}</td>
</tr>`,
)}
</tbody></table>`
}
${createForm(paths, input.values)}`;
  return layout(paths, 'Webhooks', null, body);
}

/** A webhook just created: the only time its secret is shown. */
export function webhookCreatedPage(paths: UiPaths, input: { webhook: WebhookRecord; secret: string }): string {
  const { webhook: w } = input;
  const body = html`<h1>Webhook created</h1>
<p>Webhook <a href="${webhooksPath(paths, w.webhookId)}">#${w.webhookId}</a> sends ${eventsText(w.events)} to <code>${w.url}</code>. Its signing secret:</p>
<div class="status ok"><code class="new-key" id="webhook-secret">${input.secret}</code></div>
<p><strong>This is the only time the secret is shown.</strong> Give it to the receiver now: it checks each request's
<code>x-pawket-signature-256</code> header, the HMAC-SHA256 of the body keyed with it (docs/WEBHOOKS.md).</p>
<p><a href="${webhooksPath(paths)}">Back to the webhooks</a></p>`;
  return layout(paths, 'Webhook created', null, body);
}

export interface WebhookPageInput {
  readonly webhook: WebhookRecord;
  readonly deliveries: readonly DeliveryRecord[];
  /** The log's page, from 1; whether an older one exists. */
  readonly page: number;
  readonly hasOlder: boolean;
  readonly done?: unknown;
}

/** One webhook: its settings, its forms, the "Send a test event" button and its delivery log (newest first). */
export function webhookPage(paths: UiPaths, input: WebhookPageInput): string {
  const { webhook: w } = input;
  const base = webhooksPath(paths, w.webhookId);
  const pageHref = (page: number) => (page <= 1 ? base : `${base}?page=${page}`);
  const body = html`<h1>Webhook #${w.webhookId}</h1>
${webhookNotice(input.done)}
<p><code>${w.url}</code>${w.description ? html` — ${w.description}` : ''}</p>
<p class="muted">Events: ${eventsText(w.events)}. ${w.active ? 'Active' : 'Inactive: its deliveries wait'}. Created ${when(w.created)} UTC by ${w.createdBy}.</p>
<div class="manage-actions">
${w.active ? html`<form class="inline" method="post" action="${base}/test">${csrfField(paths)}<button type="submit" class="primary">Send a test event</button></form>` : ''}
${webhookForms(paths, w)}
</div>
<h2>Deliveries</h2>
${
  input.deliveries.length === 0
    ? html`<p>${input.page > 1 ? 'No older deliveries.' : 'No deliveries yet.'}</p>`
    : html`<table class="versions deliveries"><thead><tr><th>Created (UTC)</th><th>Event</th><th>Package</th><th>Status</th><th>Attempts</th><th>Last error</th><th>Delivery id</th><th></th></tr></thead><tbody>
${input.deliveries.map(
  (d) => html`<tr>
<td>${when(d.created)}</td>
<td><code>${d.event}</code></td>
<td>${d.lowerId ?? ''}</td>
<td>${outcome(d)}${d.status === 'pending' && d.attempts > 0 ? html`<br><span class="muted">next ${when(d.nextAttemptAt)}</span>` : ''}${d.sentAt ? html`<br><span class="muted">sent ${when(d.sentAt)}</span>` : ''}</td>
<td>${d.attempts}</td>
<td>${d.lastError ?? ''}</td>
<td><code>${d.deliveryId}</code></td>
<td>${
    d.status === 'sent' || d.status === 'failed'
      ? html`<form class="inline" method="post" action="${base}/deliveries/${d.deliveryId}/redeliver">${csrfField(paths)}<button type="submit" aria-label="Redeliver ${d.deliveryId}">Redeliver</button></form>`
      : ''
  }</td>
</tr>`,
)}
</tbody></table>`
}
${
  input.page > 1 || input.hasOlder
    ? html`<nav class="pager" aria-label="Pages">${input.page > 1 ? html`<a href="${pageHref(input.page - 1)}">← Newer</a>` : ''}<span class="muted">Page ${input.page}</span>${
        input.hasOlder ? html`<a href="${pageHref(input.page + 1)}">Older →</a>` : ''
      }</nav>`
    : ''
}
<p><a href="${webhooksPath(paths)}">All webhooks of this feed</a></p>`;
  return layout(paths, `Webhook #${w.webhookId}`, null, body);
}
