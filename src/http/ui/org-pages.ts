/** Organisation pages (`/orgs`, `/orgs/{name}`): pure functions of their inputs, drawn in the default feed's frame. */
import { DEFAULT_FEED_ID } from '../../db/feed-migrations.js';
import { ORG_ROLES, type OrgMembership, type OrgRecord } from '../../db/people-database.js';
import type { Holdings, OrgSummary } from '../../people/organisations.js';
import { html, type Html } from './html.js';
import { csrfField, layout } from './pages.js';
import type { UiPaths } from './paths.js';

/** Outcomes a redirect after a form names (`?done=`): fixed texts, never text from the URL. */
export const ORG_NOTICES = {
  created: 'The organisation was created; you are its admin.',
  added: 'The member was added.',
  changed: 'The role was changed.',
  removed: 'The member was removed.',
  left: 'You left the organisation.',
  described: 'The description was saved.',
  deleted: 'The organisation was deleted.',
} as const;
export type OrgNotice = keyof typeof ORG_NOTICES;

export function notice(done: unknown, notices: Record<string, string>): Html {
  const text = typeof done === 'string' && Object.hasOwn(notices, done) ? notices[done] : undefined;
  return text ? html`<div class="status ok" role="status">${text}</div>` : html``;
}

/** A refusal or failure of a form, as a page with the right status and a way back. */
export function problemPage(paths: UiPaths, title: string, message: string, back: { href: string; label: string }): string {
  return layout(paths, title, null, html`<h1>${title}</h1><div class="status bad" role="alert">${message}</div><p><a href="${back.href}">${back.label}</a></p>`);
}

/** A package's page on the feed it is on (the default feed's at the unprefixed URLs). */
const packageHref = (h: Holdings, id: string) => `${h.feedId === DEFAULT_FEED_ID ? '' : `/f/${encodeURIComponent(h.feed)}`}/packages/${encodeURIComponent(id)}`;

const roleOptions = (selected: string) => ORG_ROLES.map((r) => html`<option value="${r}"${r === selected ? html` selected` : ''}>${r}</option>`);

export interface OrgListInput {
  readonly orgs: readonly OrgSummary[];
  readonly admin: boolean;
  /** Whether the viewer may create one (a person, or an admin). */
  readonly canCreate: boolean;
  readonly done?: unknown;
  /** Feeds whose roles and settings the viewer manages, besides admins (feed owners). */
  readonly ownedFeeds: readonly string[];
}

/** The viewer's organisations (every one for admins) and the form to create one. */
export function orgListPage(paths: UiPaths, input: OrgListInput): string {
  const body = html`<h1>Organisations</h1>
${notice(input.done, ORG_NOTICES)}
<p class="muted">An organisation owns packages as a user does; its members push and manage them, its admins manage its members.${
    input.admin ? ' As an admin you see every organisation.' : ''
  }</p>
${
  input.orgs.length === 0
    ? html`<p>${input.admin ? 'There are no organisations yet.' : 'You are not a member of any organisation.'}</p>`
    : html`<table class="versions"><thead><tr><th>Organisation</th><th>Description</th><th>Your role</th><th>Created</th></tr></thead><tbody>
${input.orgs.map(
  (o) => html`<tr><td><a href="${paths.orgs(o.name)}">${o.name}</a></td><td>${o.description}</td><td>${o.yourRole ?? '-'}</td><td>${o.created.slice(0, 10)}</td></tr>`,
)}
</tbody></table>`
}
${
  input.canCreate
    ? html`<h2>Create an organisation</h2>
<form method="post" action="${paths.orgs()}">
${csrfField(paths)}
<div><label for="org-name">Name</label><br><input type="text" id="org-name" name="name" required maxlength="64" autocomplete="off"></div>
<div><label for="org-description">Description</label><br><input type="text" id="org-description" name="description" maxlength="1000"></div>
<div><button type="submit" class="primary">Create organisation</button></div>
</form>`
    : ''
}
${
  input.ownedFeeds.length > 0
    ? html`<h2>Feeds you own</h2><p>You manage the roles and settings of ${input.ownedFeeds.join(', ')}: <a href="${paths.admin('feeds')}">Feeds</a>.</p>`
    : ''
}`;
  return layout(paths, 'Organisations', null, body);
}

export interface OrgPageInput {
  readonly org: OrgRecord;
  readonly members: readonly OrgMembership[];
  readonly canManage: boolean;
  /** The viewer's user id (to offer leaving), or null. */
  readonly viewerUserId: number | null;
  readonly admin: boolean;
  readonly holdings: readonly Holdings[];
  readonly done?: unknown;
}

function memberRow(paths: UiPaths, input: OrgPageInput, m: OrgMembership): Html {
  const action = `${paths.orgs(input.org.name)}/members/${encodeURIComponent(m.user)}`;
  const source = m.source === 'groups' ? html`<span title="Refreshed at each sign-in from the identity provider's groups">identity provider (groups)</span>` : 'added here';
  const self = m.userId === input.viewerUserId;
  return html`<tr><td>${m.user}${self ? ' (you)' : ''}</td><td>${m.role}</td><td>${source}</td><td>${
    input.canManage
      ? html`<form method="post" action="${action}">${csrfField(paths)}<label class="visually-hidden" for="role-${m.userId}">Membership of ${m.user}</label>
<select id="role-${m.userId}" name="role">${roleOptions(m.role)}</select> <button type="submit">Change role</button></form>`
      : ''
  }${
    input.canManage || self
      ? html`<form method="post" action="${action}/remove">${csrfField(paths)}<button type="submit">${self ? 'Leave' : 'Remove'}</button></form>`
      : ''
  }</td></tr>`;
}

/** One organisation: members with their role and where the membership comes from, the ids it owns on each feed. */
export function orgPage(paths: UiPaths, input: OrgPageInput): string {
  const { org } = input;
  const base = paths.orgs(org.name);
  const held = input.holdings.filter((h) => h.ids.length > 0 || h.prefixes.length > 0);
  const body = html`<h1>${org.name}</h1>
${notice(input.done, ORG_NOTICES)}
${org.description ? html`<p>${org.description}</p>` : ''}
<p class="muted">Created ${org.created.slice(0, 10)}. Memberships from the identity provider's groups are refreshed at each sign-in.</p>
<h2>Members</h2>
${
  input.members.length === 0
    ? html`<p>No members yet${input.admin ? ': add the first admin below' : ''}.</p>`
    : html`<table class="versions"><thead><tr><th>User</th><th>Role</th><th>Source</th><th>Actions</th></tr></thead><tbody>
${input.members.map((m) => memberRow(paths, input, m))}
</tbody></table>`
}
${
  input.canManage
    ? html`<h2>Add a member</h2>
<form method="post" action="${base}/members">
${csrfField(paths)}
<div><label for="member-user">User</label><br><input type="text" id="member-user" name="user" required maxlength="64" autocomplete="off"></div>
<div><label for="member-role">Role</label><br><select id="member-role" name="role">${roleOptions('member')}</select></div>
<div><button type="submit" class="primary">Add member</button></div>
</form>
<h2>Description</h2>
<form method="post" action="${base}/description">
${csrfField(paths)}
<div><label for="org-description">Description</label><br><input type="text" id="org-description" name="description" maxlength="1000" value="${org.description}"></div>
<div><button type="submit">Save description</button></div>
</form>`
    : ''
}
<h2>Packages</h2>
${
  held.length === 0
    ? html`<p>${org.name} owns no package ids.</p>`
    : held.map(
        (h) => html`<h3>Feed ${h.feed}</h3>
${h.prefixes.length ? html`<p>Reserved prefixes: ${h.prefixes.join(', ')}</p>` : ''}
${h.ids.length ? html`<ul>${h.ids.map((id) => html`<li><a href="${packageHref(h, id)}">${id}</a></li>`)}</ul>` : ''}`,
      )
}
${
  input.admin
    ? html`<h2>Delete</h2>
<form method="post" action="${base}/delete">
${csrfField(paths)}
<p class="muted">Only an organisation that owns no package ids and holds no prefixes can be deleted.</p>
<button type="submit">Delete organisation</button>
</form>`
    : ''
}`;
  return layout(paths, org.name, null, body);
}
