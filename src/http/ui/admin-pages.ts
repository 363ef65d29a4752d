/** Admin pages (`/admin`, `/admin/feeds`, `/admin/prefixes`, `/admin/audit`): pure functions of their inputs. */
import { FEED_SETTINGS } from '../../config/schema.js';
import type { AuditEntry, PrefixReservation } from '../../db/access-database.js';
import { FEED_ROLES, GRANTEE_KINDS } from '../../db/people-database.js';
import type { FeedSummary } from '../../feed/feed-admin.js';
import { OWNER_SETTINGS, type FeedRoleGrant } from '../../people/feed-roles.js';
import { html, type Html } from './html.js';
import { notice } from './org-pages.js';
import { csrfField, layout } from './pages.js';
import type { UiPaths } from './paths.js';

export const ADMIN_NOTICES = {
  granted: 'The role was granted.',
  revoked: 'The role was revoked.',
  updated: 'The feed was updated.',
  reserved: 'The prefix was reserved.',
  released: 'The prefix was released.',
} as const;

const options = (values: readonly string[], selected = '') =>
  values.map((v) => html`<option value="${v}"${v === selected ? html` selected` : ''}>${v}</option>`);

/** The admin index: what an admin manages (a feed owner sees their feeds only). */
export function adminIndexPage(paths: UiPaths, input: { admin: boolean; ownedFeeds: readonly string[] }): string {
  const body = html`<h1>Administration</h1>
<ul>
${input.admin ? html`<li><a href="${paths.admin('users')}">Users</a>: people who signed in, admins, disabling an account.</li>` : ''}
<li><a href="${paths.admin('feeds')}">Feeds</a>: ${input.admin ? 'every feed' : html`your feeds (${input.ownedFeeds.join(', ')})`}, their settings and who has which role.</li>
${
  input.admin
    ? html`<li><a href="${paths.admin('prefixes')}">Prefix reservations</a>: id prefixes reserved for an owner on each feed.</li>
<li><a href="${paths.admin('audit')}">Audit log</a>: who did what, when, on which feed.</li>
<li>Webhooks: each feed's, from its section of the <a href="${paths.admin('feeds')}">Feeds</a> page (the default feed's: <a href="/admin/webhooks">webhooks</a>).</li>
<li><a href="${paths.orgs()}">Organisations</a>: every organisation and its members.</li>`
    : ''
}
</ul>`;
  return layout(paths, 'Administration', null, body);
}

export interface ManagedFeed {
  readonly feed: FeedSummary;
  readonly roles: readonly FeedRoleGrant[];
  readonly isDefault: boolean;
}

function settingsText(feed: FeedSummary): string {
  const own = Object.entries(feed.settings).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return own.join(', ') || 'none (the configuration applies)';
}

function feedSection(paths: UiPaths, m: ManagedFeed, admin: boolean): Html {
  const { feed } = m;
  const base = `${paths.admin('feeds')}/${encodeURIComponent(feed.name)}`;
  const settable = admin ? [...FEED_SETTINGS] : FEED_SETTINGS.filter((k) => OWNER_SETTINGS.includes(k));
  return html`<section id="feed-${feed.name}">
<h2>Feed ${feed.name}${feed.kind === 'virtual' ? ' (virtual)' : ''}</h2>
${feed.description ? html`<p>${feed.description}</p>` : ''}
<p class="muted">${feed.kind === 'virtual' ? html`Members: ${(feed.members ?? []).join(', ')}. ` : html`${feed.packages} package versions. `}Its own settings: ${settingsText(feed)}.</p>
${admin && feed.kind !== 'virtual' ? html`<p><a href="${m.isDefault ? '' : `/f/${encodeURIComponent(feed.name)}`}/admin/webhooks">Webhooks of ${feed.name}</a>: URLs told of its pushes, deletions and staging, with their delivery logs.</p>` : ''}
${admin && feed.kind !== 'virtual' ? html`<p><a href="${m.isDefault ? '' : `/f/${encodeURIComponent(feed.name)}`}/admin/signers">Signer policies of ${feed.name}</a>: which ids must be signed, and by which author certificates.</p>` : ''}
<h3>Roles</h3>
${
  m.roles.length === 0
    ? html`<p>No roles granted on ${feed.name}.</p>`
    : html`<table class="versions"><thead><tr><th>Granted to</th><th>Name</th><th>Role</th><th>Since</th><th></th></tr></thead><tbody>
${m.roles.map(
  (g) => html`<tr><td>${g.kind}</td><td>${g.grantee}</td><td>${g.role}</td><td>${g.created.slice(0, 10)}</td><td><form method="post" action="${base}/roles/revoke">${csrfField(paths)}
<input type="hidden" name="kind" value="${g.kind}"><input type="hidden" name="grantee" value="${g.grantee}"><button type="submit" aria-label="Revoke ${g.kind} ${g.grantee}">Revoke</button></form></td></tr>`,
)}
</tbody></table>`
}
<form method="post" action="${base}/roles">
${csrfField(paths)}
<label for="kind-${feed.name}">Grant to</label> <select id="kind-${feed.name}" name="kind">${options(GRANTEE_KINDS)}</select>
<label for="grantee-${feed.name}">Name</label> <input type="text" id="grantee-${feed.name}" name="grantee" required maxlength="256" autocomplete="off">
<label for="role-${feed.name}">Role</label> <select id="role-${feed.name}" name="role">${options(FEED_ROLES, 'reader')}</select>
<button type="submit">Grant role</button>
</form>
<h3>Settings</h3>
${
  m.isDefault
    ? html`<p class="muted">The default feed runs with the server's configuration file and environment.</p>`
    : html`<form method="post" action="${base}/settings">
${csrfField(paths)}
<div><label for="description-${feed.name}">Description</label><br><input type="text" id="description-${feed.name}" name="description" maxlength="1000" value="${feed.description}"></div>
<div><label for="setting-${feed.name}">Setting</label> <select id="setting-${feed.name}" name="setting"><option value="">(none)</option>${options(settable)}</select>
<label for="value-${feed.name}">Value</label> <input type="text" id="value-${feed.name}" name="value" maxlength="4000" autocomplete="off">
<label><input type="checkbox" name="unset" value="true"> back to the configuration's value</label></div>
<div><button type="submit">Save feed</button></div>
</form>
${admin ? '' : html`<p class="muted">As an owner of the feed you may change ${OWNER_SETTINGS.join(', ')}; an admin changes the others.</p>`}`
}
</section>`;
}

/** The feeds the viewer manages (every feed for admins): settings and roles, with forms to change them. */
export function adminFeedsPage(paths: UiPaths, input: { feeds: readonly ManagedFeed[]; admin: boolean; done?: unknown }): string {
  const body = html`<h1>Feeds</h1>
${notice(input.done, ADMIN_NOTICES)}
<p class="muted">Roles: <strong>reader</strong> reads a private feed, <strong>contributor</strong> also pushes and unlists its own ids, <strong>owner</strong> also manages the feed's roles and settings. A role granted to an organisation applies to its members; one granted to a group, to everyone whose identity provider sends that group.</p>
${input.feeds.length === 0 ? html`<p>You manage no feed.</p>` : input.feeds.map((m) => feedSection(paths, m, input.admin))}`;
  return layout(paths, 'Feeds', null, body);
}

/** Prefix reservations of every feed that stores packages, with the forms to reserve and release. */
export function adminPrefixesPage(paths: UiPaths, input: { feeds: ReadonlyArray<{ name: string; prefixes: readonly PrefixReservation[] }>; done?: unknown }): string {
  const body = html`<h1>Prefix reservations</h1>
${notice(input.done, ADMIN_NOTICES)}
<p class="muted">A reserved prefix (<code>Contoso.*</code>) lets only its owner create new ids under it on that feed; search marks their ids verified.</p>
${input.feeds.map(
  (f) => html`<h2>${f.name}</h2>
${
  f.prefixes.length === 0
    ? html`<p>No reservations.</p>`
    : html`<table class="versions"><thead><tr><th>Prefix</th><th>Owner</th><th>Since</th><th></th></tr></thead><tbody>
${f.prefixes.map(
  (p) => html`<tr><td>${p.pattern}</td><td>${p.owner}</td><td>${p.created.slice(0, 10)}</td><td><form method="post" action="${paths.admin('prefixes')}/release">${csrfField(paths)}
<input type="hidden" name="feed" value="${f.name}"><input type="hidden" name="pattern" value="${p.pattern}"><button type="submit" aria-label="Release ${p.pattern}">Release</button></form></td></tr>`,
)}
</tbody></table>`
}`,
)}
<h2>Reserve a prefix</h2>
<form method="post" action="${paths.admin('prefixes')}">
${csrfField(paths)}
<div><label for="prefix-feed">Feed</label><br><select id="prefix-feed" name="feed">${options(input.feeds.map((f) => f.name))}</select></div>
<div><label for="prefix-pattern">Prefix</label><br><input type="text" id="prefix-pattern" name="pattern" required maxlength="101" placeholder="Contoso.*" autocomplete="off"></div>
<div><label for="prefix-owner">Owner</label><br><input type="text" id="prefix-owner" name="owner" required maxlength="64" autocomplete="off"></div>
<div><button type="submit" class="primary">Reserve</button></div>
</form>`;
  return layout(paths, 'Prefix reservations', null, body);
}

export interface AuditFilters {
  readonly feed: string;
  readonly action: string;
  readonly who: string;
  readonly target: string;
}

/** The audit log, newest first, with filters; "Older" pages back in time. */
export function adminAuditPage(
  paths: UiPaths,
  input: { entries: readonly AuditEntry[]; filters: AuditFilters; feeds: readonly string[]; nameOf: (feedId: number) => string; older: number | null },
): string {
  const f = input.filters;
  const olderHref = () => {
    const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== ''));
    q.set('before', String(input.older));
    return `${paths.admin('audit')}?${q.toString()}`;
  };
  const body = html`<h1>Audit log</h1>
<form method="get" action="${paths.admin('audit')}">
<label for="audit-feed">Feed</label> <select id="audit-feed" name="feed"><option value="">every feed</option>${options(input.feeds, f.feed)}</select>
<label for="audit-action">Action</label> <input type="text" id="audit-action" name="action" value="${f.action}" placeholder="push, role.grant ..." maxlength="64">
<label for="audit-who">Key or person</label> <input type="text" id="audit-who" name="who" value="${f.who}" maxlength="200">
<label for="audit-target">Target</label> <input type="text" id="audit-target" name="target" value="${f.target}" maxlength="200">
<button type="submit">Filter</button>
</form>
${
  input.entries.length === 0
    ? html`<p>No entries.</p>`
    : html`<table class="versions"><thead><tr><th>When (UTC)</th><th>Feed</th><th>Who</th><th>For</th><th>Action</th><th>Target</th><th>Detail</th><th>Address</th></tr></thead><tbody>
${input.entries.map(
  (e) => html`<tr><td>${e.at.slice(0, 19).replace('T', ' ')}</td><td>${input.nameOf(e.feedId)}</td><td>${e.actor}${e.keyId ? html` <code>${e.keyId}</code>` : ''}</td><td>${e.owner ?? ''}</td><td>${e.action}</td><td>${e.target}</td><td>${e.detail ?? ''}</td><td>${e.address ?? ''}</td></tr>`,
)}
</tbody></table>`
}
${input.older !== null ? html`<nav class="pager" aria-label="Pages"><a href="${olderHref()}">Older entries →</a></nav>` : ''}`;
  return layout(paths, 'Audit log', null, body);
}
