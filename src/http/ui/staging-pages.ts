/**
 * What owners see of their staged packages (docs/STAGING.md): the staging page of a feed (its groups and the packages
 * in none), a group's page with its members, and the outcome of their forms (promote, delete, take out of a group).
 * Pure functions of their inputs; staging-routes.ts gathers the data through the feed's StagingService, which decides
 * who sees what.
 */
import type { ArtifactView, Blocker, GroupView } from '../../feed/staging.js';
import { html, type Html } from './html.js';
import { csrfField, layout } from './pages.js';
import type { UiPaths } from './paths.js';

const number = (n: number) => n.toLocaleString('en-US');

/** `2026-03-02 09:41 UTC` from an ISO time. */
const when = (iso: string | null) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '—');

/** Where the staging pages and their forms are, under a feed's prefix. */
export class StagingPaths {
  constructor(private readonly paths: UiPaths) {}

  get list(): string {
    return this.paths.myStaging;
  }

  group(groupId: string): string {
    return `${this.list}/groups/${encodeURIComponent(groupId)}`;
  }

  /** A form of a group: `promote`, `delete`. */
  groupAction(groupId: string, action: 'promote' | 'delete'): string {
    return `${this.group(groupId)}/${action}`;
  }

  /** A staged artifact: its download, or one of its forms (`promote`, `delete`, `remove` from its group). */
  artifact(a: Pick<ArtifactView, 'kind' | 'id' | 'version'>, action: 'download' | 'promote' | 'delete' | 'remove'): string {
    return `${this.list}/${a.kind}/${encodeURIComponent(a.id)}/${encodeURIComponent(a.version)}/${action}`;
  }
}

/** What a form of the staging pages did, as the redirect after it says (`?done=`): only these texts are shown. */
export const STAGING_DONE = {
  'group-promoted': (what: string) => `${what ? `Group ${what}` : 'The group'} promoted: its packages are published on this feed now.`,
  promoted: (what: string) => `${what || 'The package'} promoted: it is published on this feed now.`,
  'group-deleted': (what: string) => `${what ? `Group ${what}` : 'The group'} and its packages deleted.`,
  deleted: (what: string) => `${what || 'The package'} deleted from staging.`,
  removed: (what: string) => `${what || 'The package'} taken out of the group: it stays staged.`,
} as const;
export type StagingDone = keyof typeof STAGING_DONE;

export const isStagingDone = (value: unknown): value is StagingDone => typeof value === 'string' && Object.hasOwn(STAGING_DONE, value);

/** The status line after a form; `what` names the group or package it acted on (from the redirect's query), or is empty. */
export function stagingNotice(done: StagingDone, what: string): Html {
  return html`<div id="staging-status" class="status ok" role="status">${STAGING_DONE[done](what)}</div>`;
}

function blockerList(blockers: readonly Blocker[]): Html {
  return blockers.length === 0 ? html`<span class="muted">none</span>` : html`${blockers.map((b) => html`<div class="blocker" title="${b.code}">${b.message}</div>`)}`;
}

function pager(base: string, page: number, pages: number, total: number, what: string): Html {
  if (pages <= 1) return html``;
  const link = (p: number) => `${base}${p > 1 ? `?page=${p}` : ''}`;
  return html`<nav class="pager" aria-label="Pages">${page > 1 ? html`<a href="${link(page - 1)}">← Previous</a>` : ''} <span>Page ${page} of ${pages} (${number(total)} ${what})</span> ${
    page < pages ? html`<a href="${link(page + 1)}">Next →</a>` : ''
  }</nav>`;
}

/** The forms of one staged artifact: download for inspection, promote (packages), out of its group, delete. */
function artifactActions(paths: UiPaths, staging: StagingPaths, a: ArtifactView, inGroup: boolean): Html {
  const form = (action: 'promote' | 'delete' | 'remove', label: string, cls = '') =>
    html`<form class="inline" method="post" action="${staging.artifact(a, action)}">${csrfField(paths)}<button type="submit"${cls ? html` class="${cls}"` : ''} aria-label="${label} ${a.id} ${a.version}${a.kind === 'symbols' ? ' symbols' : ''}">${label}</button></form>`;
  return html`<a href="${staging.artifact(a, 'download')}" download aria-label="Download ${a.id} ${a.version}${a.kind === 'symbols' ? ' symbols' : ''}">Download</a>
${a.kind === 'package' ? form('promote', 'Promote') : ''}
${a.kind === 'package' && inGroup ? form('remove', 'Remove from group') : ''}
${form('delete', 'Delete', 'danger')}`;
}

function artifactRows(paths: UiPaths, staging: StagingPaths, items: readonly ArtifactView[], inGroup: boolean, withOwner: boolean): Html {
  return html`<table class="versions staged">
<thead><tr><th scope="col">Package</th><th scope="col">Version</th><th scope="col">Kind</th>${withOwner ? html`<th scope="col">Owner</th>` : ''}<th scope="col">Status</th><th scope="col">Blockers</th><th scope="col">Uploaded</th><th scope="col">Expires</th><th scope="col">Actions</th></tr></thead>
<tbody>${items.map(
    (a) => html`<tr data-staged="${a.id}/${a.version}/${a.kind}"><td>${a.id}</td><td>${a.version}</td><td>${a.kind === 'package' ? '.nupkg' : '.snupkg'}</td>${withOwner ? html`<td>${a.owner}</td>` : ''}
<td>${a.status}${a.canPromote ? '' : html` <span class="muted">(cannot be promoted)</span>`}</td><td>${blockerList(a.blockers)}</td><td>${when(a.uploaded)}</td><td>${when(a.expires)}</td>
<td>${artifactActions(paths, staging, a, inGroup)}</td></tr>`,
  )}</tbody>
</table>`;
}

export interface StagingListInput {
  /** Why the viewer may not stage on this feed (their role), or null. */
  readonly refused: string | null;
  readonly groups: readonly GroupView[];
  readonly groupPage: number;
  readonly groupPages: number;
  readonly groupTotal: number;
  /** Staged packages (and symbols) in no group. */
  readonly ungrouped: readonly ArtifactView[];
  /** Whether more staged artifacts exist than the page looked through for `ungrouped`. */
  readonly ungroupedTruncated: boolean;
  /** The owner names whose staging is shown: the viewer's and their organisations'; null for admins (everyone's). */
  readonly owners: readonly string[] | null;
  /** The feed's staging endpoint (PackageStaging/1.0.0), where CI stages. */
  readonly endpoint: string;
}

/** A feed's staging, as its owners see it: groups with their state, and staged packages in no group. */
export function stagingListPage(paths: UiPaths, input: StagingListInput, notice: Html | null = null): string {
  const staging = new StagingPaths(paths);
  const withOwner = input.owners === null;
  const body = html`<h1>Staged packages${paths.feedName === null ? '' : html` on ${paths.feedName}`}</h1>
${notice}
<p class="muted">Staged packages are invisible on the feed until a person promotes them: a group all at once, or one package.
CI stages them at <code>${input.endpoint}</code> (docs/STAGING.md).</p>
${
  input.refused !== null
    ? html`<div class="banner warn" role="note">${input.refused}</div>`
    : html`${input.owners === null ? html`<p class="banner warn" role="note">As an admin you see every owner’s staging on this feed.</p>` : html`<p class="muted">Staged by ${input.owners.join(', ')}.</p>`}
<h2>Groups</h2>
${
  input.groups.length === 0
    ? html`<p id="no-groups">No staging group on this feed.</p>`
    : html`<table class="versions staging-groups">
<thead><tr><th scope="col">Group</th>${withOwner ? html`<th scope="col">Owner</th>` : ''}<th scope="col">Packages</th><th scope="col">Can promote</th><th scope="col">Blockers</th><th scope="col">Expires</th></tr></thead>
<tbody>${input.groups.map(
        (g) => html`<tr data-group="${g.id}"><td><a href="${staging.group(g.id)}">${g.name}</a>${g.name !== g.id ? html` <span class="muted">${g.id}</span>` : ''}</td>${withOwner ? html`<td>${g.owner}</td>` : ''}
<td>${number(g.itemCount)}</td><td>${g.canPromote ? 'yes' : 'no'}</td><td>${blockerList(g.blockers)}</td><td>${when(g.expires)}</td></tr>`,
      )}</tbody>
</table>`
}
${pager(staging.list, input.groupPage, input.groupPages, input.groupTotal, 'groups')}
<h2>Not in a group</h2>
${input.ungrouped.length === 0 ? html`<p id="no-ungrouped">No staged package outside a group.</p>` : artifactRows(paths, staging, input.ungrouped, false, withOwner)}
${input.ungroupedTruncated ? html`<p class="muted">More packages are staged than this page looks through: the staging API lists them all.</p>` : ''}`
}`;
  return layout(paths, 'Staged packages', null, body);
}

export interface StagingGroupInput {
  readonly group: GroupView;
  readonly items: readonly ArtifactView[];
  readonly page: number;
  readonly pages: number;
  readonly total: number;
  /** Whether the viewer sees other owners' staging (admins): the owner is shown. */
  readonly admin: boolean;
  /** The group's preview feed (its service index), for restoring the release before promoting it. */
  readonly preview: string;
}

/** One group: its state, the forms for the whole group, and its members with theirs. */
export function stagingGroupPage(paths: UiPaths, input: StagingGroupInput, notice: Html | null = null): string {
  const staging = new StagingPaths(paths);
  const g = input.group;
  const groupForm = (action: 'promote' | 'delete', body: Html) =>
    html`<form class="inline" method="post" action="${staging.groupAction(g.id, action)}">${csrfField(paths)}${body}</form>`;
  const body = html`<p><a href="${staging.list}">← Staged packages</a></p>
<h1>Group ${g.name}</h1>
${notice}
<div class="meta group-facts"><span>Id ${g.id}</span><span>Owner ${g.owner}</span><span>${g.itemCount === 1 ? '1 package' : `${number(g.itemCount)} packages`}</span><span>Created ${when(g.created)}</span><span>Expires ${when(g.expires)}</span></div>
${
  g.canPromote
    ? html`<p>Promoting publishes every package of the group in the same instant, with one published time; the group then goes.</p>`
    : html`<div class="banner bad" role="status"><strong>This group cannot be promoted.</strong>${g.blockers.map((b) => html` ${b.message}`)}</div>`
}
<p>Restore the release before promoting it from the group's preview feed, with a key acting for ${g.owner}:
<code id="preview-feed">${input.preview}</code></p>
<div class="manage-actions">
${groupForm('promote', html`<button type="submit" class="primary"${g.canPromote ? '' : html` disabled`}>Promote group</button>`)}
${groupForm('delete', html`<label><input type="checkbox" name="confirm" value="yes" required> With its packages</label> <button type="submit" class="danger">Delete group</button>`)}
</div>
<h2>Members</h2>
${input.items.length === 0 ? html`<p>The group has no staged package.</p>` : artifactRows(paths, staging, input.items, true, input.admin)}
${pager(staging.group(g.id), input.page, input.pages, input.total, 'artifacts')}`;
  return layout(paths, `Group ${g.name}`, null, body);
}
