/** The admin page of users (/admin/users): who signed in, their state, and the forms that change it. */
import type { ApiKeyRecord } from '../../db/access-database.js';
import type { UserSummary } from '../../people/user-admin.js';
import { html, type Html } from './html.js';
import { keyTable } from './key-pages.js';
import { csrfField, layout } from './pages.js';
import type { UiPaths } from './paths.js';

export interface UsersPageInput {
  readonly users: readonly UserSummary[];
  /** The viewer's own user id (no buttons that would lock them out), or null. */
  readonly self: number | null;
  readonly notice?: string;
  readonly error?: string;
}

const when = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '-');

function actions(paths: UiPaths, s: UserSummary, self: boolean): Html {
  if (self) return html`<span class="muted">(you)</span>`;
  const base = `${paths.admin('users')}/${encodeURIComponent(s.user.name)}`;
  const button = (action: string, label: string) =>
    html`<form class="inline" method="post" action="${base}/${action}">${csrfField(paths)}<button type="submit">${label}</button></form>`;
  return html`${s.user.disabled ? button('enable', 'Enable') : button('disable', 'Disable')}
${s.user.admin ? button('unadmin', 'Remove admin') : s.adminByConfig ? '' : button('admin', 'Make admin')}`;
}

function row(paths: UiPaths, s: UserSummary, self: boolean): Html {
  const { user } = s;
  return html`<tr${user.disabled ? html` class="unlisted"` : ''}>
<td><a href="${paths.admin('users')}/${encodeURIComponent(user.name)}">${user.name}</a></td>
<td>${user.displayName}</td>
<td>${user.email ?? '-'}</td>
<td>${user.issuer}</td>
<td>${when(user.lastSignIn)}</td>
<td>${s.admin ? (s.adminByConfig ? 'yes (configuration)' : 'yes') : 'no'}</td>
<td>${user.disabled ? when(user.disabled) : 'no'}</td>
<td>${s.memberships.map((m) => `${m.org}${m.role === 'admin' ? ' (admin)' : ''}`).join(', ') || '-'}</td>
<td>${actions(paths, s, self)}</td>
</tr>`;
}

export function usersPage(paths: UiPaths, input: UsersPageInput): string {
  const body = html`<h1>Users</h1>
${input.notice ? html`<div class="status ok" role="status">${input.notice}</div>` : ''}
${input.error ? html`<div class="status bad" role="alert">${input.error}</div>` : ''}
<p>People are added when they first sign in. Disabling someone ends their sessions and stops the keys they made.</p>
${
  input.users.length === 0
    ? html`<p class="muted">Nobody has signed in yet.</p>`
    : html`<table class="versions users"><thead><tr><th>Name</th><th>Display name</th><th>E-mail</th><th>Issuer</th><th>Last sign-in</th><th>Admin</th><th>Disabled</th><th>Organisations</th><th></th></tr></thead>
<tbody>${input.users.map((s) => row(paths, s, s.user.userId === input.self))}</tbody></table>`
}`;
  return layout(paths, 'Users', null, body);
}

export interface UserPageInput {
  readonly summary: UserSummary;
  readonly keys: readonly ApiKeyRecord[];
  readonly feedsOf: (key: ApiKeyRecord) => '*' | readonly string[];
  readonly self: boolean;
  /** A key just revoked (after the redirect). */
  readonly revoked?: string;
}

/** One user: who they are, what they belong to, the keys they made (an admin may revoke or rotate them). */
export function userPage(paths: UiPaths, input: UserPageInput): string {
  const { user } = input.summary;
  const here = `${paths.admin('users')}/${encodeURIComponent(user.name)}`;
  const body = html`<h1>${user.displayName || user.name} <span class="muted">(${user.name})</span></h1>
${input.revoked ? html`<div class="status ok" role="status">Revoked the key ${input.revoked}: it no longer works.</div>` : ''}
<p><a href="${paths.admin('users')}">All users</a></p>
<table class="versions user"><tbody>
<tr><th>E-mail</th><td>${user.email ?? '-'}</td></tr>
<tr><th>Identity</th><td>${user.issuer} <code>${user.subject}</code></td></tr>
<tr><th>Created</th><td>${when(user.created)}</td></tr>
<tr><th>Last sign-in</th><td>${when(user.lastSignIn)}</td></tr>
<tr><th>Admin</th><td>${input.summary.admin ? (input.summary.adminByConfig ? 'yes (configuration)' : 'yes') : 'no'}</td></tr>
<tr><th>Disabled</th><td>${user.disabled ? when(user.disabled) : 'no'}</td></tr>
<tr><th>Groups</th><td>${user.groups.join(', ') || '-'}</td></tr>
<tr><th>Organisations</th><td>${input.summary.memberships.map((m) => `${m.org}${m.role === 'admin' ? ' (admin)' : ''}`).join(', ') || '-'}</td></tr>
<tr><th></th><td>${actions(paths, input.summary, input.self)}</td></tr>
</tbody></table>
<h2>Keys ${user.name} made</h2>
${input.keys.length === 0 ? html`<p class="muted">None.</p>` : keyTable(paths, input.keys, input.feedsOf, here)}`;
  return layout(paths, user.name, null, body);
}
