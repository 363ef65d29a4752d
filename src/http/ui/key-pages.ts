/**
 * "My keys" (server-wide, /account/keys): the keys a person made, the form to make one, and the page that shows a new
 * or rotated key once. Pure functions of their inputs; key-routes.ts gathers the data.
 */
import type { ApiKeyRecord, KeyScope } from '../../db/access-database.js';
import type { FeedRole } from '../../db/people-database.js';
import { keyStatus } from '../../feed/keys.js';
import { PERSON_KEY_DAYS } from '../../feed/person-keys.js';
import { html, type Html } from './html.js';
import { csrfField, layout } from './pages.js';
import type { UiPaths } from './paths.js';

/** A feed the form offers, with the person's role there (null for admins, whom roles do not limit). */
export interface FeedChoice {
  readonly name: string;
  readonly role: FeedRole | null;
}

/** What the form was sent with, to fill it again after a refusal. */
export interface KeyFormValues {
  readonly name: string;
  readonly owner: string;
  readonly scopes: readonly string[];
  readonly feeds: readonly string[];
  readonly patterns: string;
  readonly days: string;
}

export interface MyKeysInput {
  readonly keys: readonly ApiKeyRecord[];
  /** A key's feeds by name: `*` or the names. */
  readonly feedsOf: (key: ApiKeyRecord) => '*' | readonly string[];
  /** Null when the viewer signed in with an API key: they have no keys of their own here. */
  readonly form: {
    readonly owners: readonly string[];
    readonly feeds: readonly FeedChoice[];
    /** Server admins may also choose the admin scope and every feed. */
    readonly admin: boolean;
    readonly values?: KeyFormValues;
  } | null;
  /** Why the last request was refused. */
  readonly error?: string;
  /** What the last request did (after a redirect). */
  readonly notice?: string;
}

const PERSON_SCOPES: ReadonlyArray<{ scope: KeyScope; label: string }> = [
  { scope: 'read', label: 'read: restore from private feeds' },
  { scope: 'push-new', label: 'push-new: push, and create new package ids' },
  { scope: 'push', label: 'push: push new versions of ids it owns' },
  { scope: 'unlist', label: 'unlist: unlist, relist and delete versions of ids it owns' },
  { scope: 'stage', label: 'stage: stage packages for a person to promote, and nothing else' },
];

const when = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '-');

function feedList(feeds: '*' | readonly string[]): string {
  return feeds === '*' ? 'every feed' : feeds.join(', ') || '(deleted feeds)';
}

/** A key's row with its Rotate and Revoke forms; `returnTo`: where revoking goes back to (default: My keys). */
export function keyRow(paths: UiPaths, key: ApiKeyRecord, feeds: '*' | readonly string[], returnTo?: string): Html {
  const status = keyStatus(key);
  return html`<tr>
<td>${key.name}<br><code>${key.keyId}</code></td>
<td><code>…${key.hint}</code></td>
<td>${key.owner}</td>
<td>${key.scopes.join(', ')}</td>
<td>${feedList(feeds)}</td>
<td>${key.patterns.join(', ') || 'any id'}</td>
<td>${when(key.created)}</td>
<td>${when(key.expires)}</td>
<td>${when(key.lastUsed)}</td>
<td>${status === 'revoked' ? html`revoked ${when(key.revoked)}` : status}</td>
<td>${
    status === 'revoked'
      ? ''
      : html`<form class="inline" method="post" action="${paths.myKeys}/${key.keyId}/rotate">${csrfField(paths)}<button type="submit">Rotate</button></form>
<form class="inline" method="post" action="${paths.myKeys}/${key.keyId}/revoke">${csrfField(paths)}${
          returnTo ? html`<input type="hidden" name="returnTo" value="${returnTo}">` : ''
        }<button type="submit">Revoke</button></form>`
  }</td>
</tr>`;
}

function createForm(paths: UiPaths, form: NonNullable<MyKeysInput['form']>): Html {
  const v = form.values;
  const scopes = form.admin ? [...PERSON_SCOPES, { scope: 'admin' as KeyScope, label: 'admin: everything, on the feeds chosen' }] : PERSON_SCOPES;
  const checked = (on: boolean) => (on ? html` checked` : '');
  return html`<h2>Create a key</h2>
<form class="create-key" method="post" action="${paths.myKeys}">
${csrfField(paths)}
<div><label for="key-name">Name</label><br><input type="text" id="key-name" name="name" maxlength="100" required value="${v?.name ?? ''}" placeholder="ci-main"></div>
<div><label for="key-owner">Owner</label> <span class="muted">(owns the package ids the key pushes first)</span><br>
<select id="key-owner" name="owner">${form.owners.map((o) => html`<option${v?.owner === o ? html` selected` : ''}>${o}</option>`)}</select></div>
<fieldset><legend>Scopes</legend>
${scopes.map((s) => html`<label><input type="checkbox" name="scopes[]" value="${s.scope}"${checked(v ? v.scopes.includes(s.scope) : s.scope === 'read' || s.scope === 'push')}> ${s.label}</label><br>`)}
</fieldset>
<fieldset><legend>Feeds</legend>
${form.admin ? html`<label><input type="checkbox" name="feeds[]" value="*"${checked(v?.feeds.includes('*') ?? false)}> every feed, also those created later</label><br>` : ''}
${
  form.feeds.length === 0
    ? html`<p class="muted">You have no role on any feed yet: ask a feed's owner or an admin for one.</p>`
    : form.feeds.map(
        (f) =>
          html`<label><input type="checkbox" name="feeds[]" value="${f.name}"${checked(v?.feeds.includes(f.name) ?? false)}> ${f.name}${f.role ? html` <span class="muted">(you are a ${f.role})</span>` : ''}</label><br>`,
      )
}
</fieldset>
<div><label for="key-patterns">Package ids</label> <span class="muted">(comma-separated patterns such as Contoso.*; empty: any id)</span><br>
<input type="text" id="key-patterns" name="patterns" maxlength="1000" value="${v?.patterns ?? ''}"></div>
<div><label for="key-days">Expires after (days)</label><br><input type="number" id="key-days" name="days" min="1" max="${PERSON_KEY_DAYS.max}" required value="${v?.days ?? String(PERSON_KEY_DAYS.default)}"></div>
<div><button type="submit" class="primary">Create key</button></div>
</form>`;
}

/** A table of keys with their forms. */
export function keyTable(paths: UiPaths, keys: readonly ApiKeyRecord[], feedsOf: MyKeysInput['feedsOf'], returnTo?: string): Html {
  return html`<table class="versions keys"><thead><tr><th>Name</th><th>Key</th><th>Owner</th><th>Scopes</th><th>Feeds</th><th>Package ids</th><th>Created</th><th>Expires</th><th>Last used</th><th>Status</th><th></th></tr></thead>
<tbody>${keys.map((k) => keyRow(paths, k, feedsOf(k), returnTo))}</tbody></table>`;
}

/** The person's keys and the form to make one. */
export function myKeysPage(paths: UiPaths, input: MyKeysInput): string {
  const body = html`<h1>My keys</h1>
${input.notice ? html`<div class="status ok" role="status">${input.notice}</div>` : ''}
${input.error ? html`<div class="status bad" role="alert">${input.error}</div>` : ''}
${
  input.form === null
    ? html`<p>You signed in with an API key: keys belong to people, so sign in with your account to make your own (admins manage every key with <code>pawket keys</code> or the admin API).</p>`
    : html`<p>Keys you made act for you (or the organisation you chose) with at most your rights of the moment: if your account is disabled or you leave the organisation, they stop working.</p>
${
  input.keys.length === 0
    ? html`<p class="muted">You have no keys yet.</p>`
    : keyTable(paths, input.keys, input.feedsOf)
}
${createForm(paths, input.form)}`
}`;
  return layout(paths, 'My keys', null, body);
}

/** A key just made or rotated: the only time it is shown. */
export function newKeyPage(paths: UiPaths, input: { key: string; record: ApiKeyRecord; feeds: '*' | readonly string[]; rotated: boolean }): string {
  const { record } = input;
  const body = html`<h1>${input.rotated ? 'Key rotated' : 'Key created'}</h1>
<p>${input.rotated ? 'The new secret of' : 'Your new key'} <strong>${record.name}</strong> (<code>${record.keyId}</code>) for ${record.owner}:
${record.scopes.join(', ')} on ${feedList(input.feeds)}${record.patterns.length ? `, ids ${record.patterns.join(', ')}` : ''}${record.expires ? `, until ${when(record.expires)} UTC` : ''}.</p>
<div class="status ok"><code class="new-key">${input.key}</code></div>
<p><strong>This is the only time the key is shown</strong>: only its hash is stored. Copy it where it will be used now${input.rotated ? '; the old secret no longer works' : ''}.</p>
<p><a href="${paths.myKeys}">Back to my keys</a></p>`;
  return layout(paths, input.rotated ? 'Key rotated' : 'Key created', null, body);
}
