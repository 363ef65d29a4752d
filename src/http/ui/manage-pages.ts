/**
 * What owners of package ids see: the "My packages" page of a feed, the Manage section of a package page (unlist,
 * relist, delete, deprecate, owners) and the outcome of those forms. Pure
 * functions of their inputs; manage-routes.ts gathers the data and decides who may see what (feed/access.ts).
 */
import { DEPRECATION_REASONS, type Deprecation, type DeprecationReason } from '../../nuget/advisory.js';
import { html, type Html } from './html.js';
import { csrfField, layout } from './pages.js';
import type { UiPaths } from './paths.js';

const number = (n: number) => n.toLocaleString('en-US');

/** What a form of the Manage section did, as the redirect after it says (`?done=`): only these texts are shown. */
export const DONE_MESSAGES = {
  unlisted: 'unlisted: search and "latest" skip it; restores that pin it still work.',
  relisted: 'relisted: search and "latest" show it again.',
  deleted: 'deleted from this feed.',
  deprecated: 'Deprecated.',
  undeprecated: 'No longer deprecated.',
  'owner-added': 'Owner added.',
  'owner-removed': 'Owner removed.',
} as const;
export type DoneFlag = keyof typeof DONE_MESSAGES;

export const isDoneFlag = (value: unknown): value is DoneFlag => typeof value === 'string' && Object.hasOwn(DONE_MESSAGES, value);

/** The status line above a package page after one of its forms; `version` names the version a version action was on. */
export function doneNotice(flag: DoneFlag, version: string | null): Html {
  const text = flag === 'unlisted' || flag === 'relisted' || flag === 'deleted' ? `${version ? `Version ${version}` : 'The version'} ${DONE_MESSAGES[flag]}` : DONE_MESSAGES[flag];
  return html`<div id="manage-status" class="status ok" role="status">${text}</div>`;
}

export interface ManageInput {
  readonly id: string;
  /** The version the page shows (the one version actions act on). */
  readonly version: string;
  /** Whether that version is stored here (one only an upstream has cannot be unlisted here). */
  readonly local: boolean;
  readonly listed: boolean;
  readonly deprecation: Deprecation | null;
  /** Whether the feed hard-deletes (deleteMode `delete`); else versions are only unlisted. */
  readonly canDelete: boolean;
  readonly owners: readonly string[];
  /** The viewer manages the id as an admin, not as one of its owners. */
  readonly asAdmin: boolean;
}

const REASON_LABELS: Record<DeprecationReason, string> = {
  Legacy: 'Legacy: no longer maintained',
  CriticalBugs: 'Has critical bugs',
  Other: 'Other (say why in the message)',
};

/** The package page's section for those who may manage the id. Every form carries the session's CSRF token. */
export function manageSection(paths: UiPaths, m: ManageInput): Html {
  const action = (what: string) => `${paths.package(m.id, m.version)}/${what}`;
  const form = (what: string, body: Html, cls = 'inline') =>
    html`<form class="${cls}" method="post" action="${action(what)}">${csrfField(paths)}${body}</form>`;
  const versionForms = m.local
    ? html`<div class="manage-actions">
${m.listed ? form('unlist', html`<button type="submit">Unlist ${m.version}</button>`) : form('relist', html`<button type="submit">Relist ${m.version}</button>`)}
${m.canDelete ? form('delete', html`<label><input type="checkbox" name="confirm" value="yes" required> Delete for good</label> <button type="submit" class="danger">Delete ${m.version}</button>`) : ''}
</div>
${m.canDelete ? '' : html`<p class="muted">This feed keeps every version (its delete mode is unlist): unlisting hides a version from search and "latest".</p>`}`
    : html`<p class="muted">Version ${m.version} is not stored on this feed (it comes from an upstream).</p>`;
  const deprecation = m.local
    ? html`<h3>Deprecation</h3>
${m.deprecation ? form('undeprecate', html`<button type="submit">Undeprecate ${m.version}</button>`) : ''}
${form(
  'deprecate',
  html`<fieldset><legend>Reasons</legend>${DEPRECATION_REASONS.map(
    (r) => html`<label><input type="checkbox" name="reasons[]" value="${r}"${m.deprecation?.reasons.includes(r) ? html` checked` : ''}> ${REASON_LABELS[r]}</label><br>`,
  )}</fieldset>
<div><label for="deprecation-message">Message</label><br><textarea id="deprecation-message" name="message" rows="3" maxlength="4000">${m.deprecation?.message ?? ''}</textarea></div>
<div><label for="deprecation-alternate">Alternate package</label><br><input id="deprecation-alternate" name="alternate" placeholder="Contoso.New or Contoso.New@[2.0.0, )" value="${m.deprecation?.alternate ? `${m.deprecation.alternate.id}${m.deprecation.alternate.range ? `@${m.deprecation.alternate.range}` : ''}` : ''}"></div>
<div><label><input type="radio" name="scope" value="version" checked> Version ${m.version}</label> <label><input type="radio" name="scope" value="all"> Every version</label></div>
<div><button type="submit">Deprecate</button></div>`,
  'stacked',
)}`
    : '';
  return html`<section class="manage" aria-labelledby="manage-heading">
<h2 id="manage-heading">Manage</h2>
${m.asAdmin ? html`<p class="muted">You manage this package as an admin.</p>` : ''}
<h3>Version ${m.version}</h3>
${versionForms}
${deprecation}
<h3>Owners</h3>
<ul class="owners">${m.owners.map(
    (o) => html`<li>${o} ${form('owners/remove', html`<input type="hidden" name="owner" value="${o}"><button type="submit" aria-label="Remove owner ${o}"${m.owners.length === 1 ? html` disabled title="The last owner cannot be removed"` : ''}>Remove</button>`)}</li>`,
  )}</ul>
${form('owners/add', html`<label for="new-owner">User or organisation</label> <input id="new-owner" name="owner" required maxlength="64" autocomplete="off"> <button type="submit">Add owner</button>`)}
</section>`;
}

/** One id on the "My packages" page. */
export interface OwnedPackage {
  readonly id: string;
  readonly versions: number;
  readonly listedVersions: number;
  /** The latest version, listed or not. */
  readonly latest: string;
  readonly downloads: number;
  /** Which of the viewer's owner names own it (their own, an organisation's). */
  readonly ownedAs: readonly string[];
}

export interface MyPackagesInput {
  readonly packages: readonly OwnedPackage[];
  /** The owner names the list is of: the viewer's own and their organisations'. */
  readonly owners: readonly string[];
  readonly admin: boolean;
  readonly page: number;
  readonly pages: number;
  readonly total: number;
}

/** The ids on this feed that the signed-in person (or one of their organisations) owns. */
export function myPackagesPage(paths: UiPaths, input: MyPackagesInput, notice: Html | null = null): string {
  const link = (page: number) => `${paths.myPackages}${page > 1 ? `?page=${page}` : ''}`;
  const body = html`<h1>My packages${paths.feedName === null ? '' : html` on ${paths.feedName}`}</h1>
${notice}
<p class="muted">Ids owned by ${input.owners.join(', ')} on this feed.</p>
${input.admin ? html`<p class="banner warn" role="note">As an admin you can manage every package id of this feed, not only these: open its page.</p>` : ''}
${
  input.packages.length === 0
    ? html`<p>You own no package on this feed yet. The first push of a new id makes its pusher (or the organisation of their key) its owner.</p>`
    : html`<table class="versions my-packages">
<thead><tr><th scope="col">Package</th><th scope="col">Versions</th><th scope="col">Latest</th><th scope="col">Listed</th><th scope="col">Downloads</th><th scope="col">Owned as</th></tr></thead>
<tbody>${input.packages.map(
        (p) => html`<tr><td><a href="${paths.package(p.id)}">${p.id}</a></td><td>${number(p.versions)}</td><td><a href="${paths.package(p.id, p.latest)}">${p.latest}</a></td>
<td>${p.listedVersions === p.versions ? 'listed' : p.listedVersions === 0 ? 'unlisted' : `${number(p.listedVersions)} of ${number(p.versions)} listed`}</td><td>${number(p.downloads)}</td><td>${p.ownedAs.join(', ')}</td></tr>`,
      )}</tbody>
</table>`
}
${
  input.pages > 1
    ? html`<nav class="pager" aria-label="Pages">${input.page > 1 ? html`<a href="${link(input.page - 1)}">← Previous</a>` : ''} <span>Page ${input.page} of ${input.pages} (${number(input.total)} ids)</span> ${
        input.page < input.pages ? html`<a href="${link(input.page + 1)}">Next →</a>` : ''
      }</nav>`
    : ''
}`;
  return layout(paths, 'My packages', null, body);
}

/** A refused or failed form: what went wrong, and the way back. */
export function actionErrorPage(paths: UiPaths, status: number, message: string, back: string): string {
  const title = status === 401 ? 'Sign in first' : status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : status === 409 ? 'Not possible' : 'Could not do that';
  const body = html`<h1>${title}</h1>
<div class="status bad" role="alert">${message}</div>
<p>${status === 401 ? html`<a href="${paths.signIn(back)}">Sign in</a> · ` : ''}<a href="${back}">Back</a></p>`;
  return layout(paths, title, null, body);
}
