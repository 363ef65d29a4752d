/**
 * "Trusted publishing" (server-wide, /account/trust): the trust policies of the owners a signed-in person acts for, the
 * form to create one, and each policy's Disable/Enable/Delete buttons. Pure functions of their inputs; trust-routes.ts
 * gathers the data.
 */
import type { TrustPolicyRecord } from '../../db/trust-database.js';
import { GITHUB_ISSUER, GITLAB_ISSUER } from '../../trust/policy.js';
import { TRUST_SCOPES } from '../../trust/policies.js';
import { html, type Html } from './html.js';
import { csrfField, layout } from './pages.js';
import type { UiPaths } from './paths.js';

/** What the form was sent with, to fill it again after a refusal. */
export interface PolicyFormValues {
  readonly name: string;
  readonly owner: string;
  readonly provider: string;
  readonly repository: string;
  readonly workflow: string;
  readonly project: string;
  readonly environment: string;
  readonly ref: string;
  readonly issuer: string;
  readonly claims: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly feeds: readonly string[];
  readonly patterns: string;
  readonly keyLifetime: string;
}

export interface TrustPageInput {
  readonly policies: readonly TrustPolicyRecord[];
  /** A policy's feeds by name: `*` or the names. */
  readonly feedsOf: (policy: TrustPolicyRecord) => '*' | readonly string[];
  readonly form: {
    /** The owners the viewer may choose; null: any owner name (admins type it). */
    readonly owners: readonly string[] | null;
    /** The feeds the form offers. */
    readonly feeds: readonly string[];
    /** Whether "every feed" is offered (admins, and keys valid on every feed without roles). */
    readonly everyFeed: boolean;
    readonly maxKeyLifetime: number;
    readonly values?: PolicyFormValues;
  };
  readonly error?: string;
  readonly notice?: string;
}

const SCOPE_LABELS: Record<(typeof TRUST_SCOPES)[number], string> = {
  'push-new': 'push-new: push, and create new package ids',
  push: 'push: push new versions of ids the owner owns',
  stage: 'stage: stage packages for a person to promote (a staging-only policy has only this)',
  unlist: 'unlist: unlist, relist and delete versions',
};

const when = (iso: string) => iso.slice(0, 16).replace('T', ' ');

function feedList(feeds: '*' | readonly string[]): string {
  return feeds === '*' ? 'every feed' : feeds.join(', ') || '(deleted feeds)';
}

/** What a policy trusts: its issuer and claim rules. */
function trusts(p: TrustPolicyRecord): Html {
  return html`${p.provider} <span class="muted">${p.issuer}</span><br>${Object.entries(p.claims).map(([k, v]) => html`<code>${k}=${v}</code><br>`)}`;
}

function policyRow(paths: UiPaths, p: TrustPolicyRecord, feeds: '*' | readonly string[]): Html {
  const action = (what: string, label: string) =>
    html`<form class="inline" method="post" action="${paths.trustPolicies}/${p.policyId}/${what}">${csrfField(paths)}${
      what === 'delete' ? html`<label><input type="checkbox" name="confirm" value="yes" required> delete</label> ` : ''
    }<button type="submit"${what === 'delete' ? html` class="danger"` : ''} aria-label="${label} trust policy ${p.policyId}">${label}</button></form>`;
  return html`<tr>
<td>${p.name}<br><span class="muted">#${p.policyId}</span></td>
<td>${p.owner}</td>
<td>${trusts(p)}</td>
<td>${p.audience ?? html`<span class="muted">the feed's URL</span>`}</td>
<td>${p.scopes.join(', ')}</td>
<td>${feedList(feeds)}</td>
<td>${p.patterns.join(', ') || 'any id'}</td>
<td>${p.keyLifetime} s</td>
<td>${when(p.created)}<br><span class="muted">${p.createdBy}</span></td>
<td>${p.disabled ? 'disabled' : 'enabled'}</td>
<td>${p.disabled ? action('enable', 'Enable') : action('disable', 'Disable')}
${action('delete', 'Delete')}</td>
</tr>`;
}

function createForm(paths: UiPaths, form: TrustPageInput['form']): Html {
  const v = form.values;
  const checked = (on: boolean) => (on ? html` checked` : '');
  const provider = v?.provider || 'github';
  const text = (id: string, name: keyof PolicyFormValues, label: string, hint: string, placeholder = '') =>
    html`<div><label for="${id}">${label}</label> <span class="muted">(${hint})</span><br><input type="text" id="${id}" name="${name}" maxlength="500" value="${(v?.[name] as string | undefined) ?? ''}" placeholder="${placeholder}"></div>`;
  return html`<h2>Create a policy</h2>
<form class="create-key create-policy" method="post" action="${paths.trustPolicies}">
${csrfField(paths)}
<div><label for="policy-name">Name</label><br><input type="text" id="policy-name" name="name" maxlength="100" required value="${v?.name ?? ''}" placeholder="widgets release"></div>
<div><label for="policy-owner">Owner</label> <span class="muted">(the issued keys act for it; the workflow's NuGet/login step names it as user)</span><br>
${
  form.owners === null
    ? html`<input type="text" id="policy-owner" name="owner" maxlength="64" required value="${v?.owner ?? ''}" placeholder="contoso">`
    : html`<select id="policy-owner" name="owner">${form.owners.map((o) => html`<option${v?.owner === o ? html` selected` : ''}>${o}</option>`)}</select>`
}</div>
<fieldset><legend>CI system</legend>
<label><input type="radio" name="provider" value="github"${checked(provider === 'github')}> GitHub Actions <span class="muted">(${GITHUB_ISSUER})</span></label><br>
<label><input type="radio" name="provider" value="gitlab"${checked(provider === 'gitlab')}> GitLab CI <span class="muted">(${GITLAB_ISSUER}, or your instance's URL as issuer)</span></label><br>
<label><input type="radio" name="provider" value="generic"${checked(provider === 'generic')}> Another OIDC issuer <span class="muted">(issuer and claim rules below)</span></label>
</fieldset>
<fieldset><legend>GitHub Actions</legend>
${text('policy-repository', 'repository', 'Repository', 'owner/repo', 'contoso/widgets')}
${text('policy-workflow', 'workflow', 'Workflow file', 'optional: only this file in .github/workflows', 'release.yml')}
</fieldset>
<fieldset><legend>GitLab CI</legend>
${text('policy-project', 'project', 'Project path', 'group/project or group/subgroup/project', 'contoso/widgets')}
</fieldset>
<fieldset><legend>Only these jobs</legend>
${text('policy-environment', 'environment', 'Environment', 'optional: the deployment environment of the job', 'production')}
${text('policy-ref', 'ref', 'Ref', 'optional: GitHub refs/heads/main or refs/tags/v1.0; GitLab main', '')}
${text('policy-issuer', 'issuer', 'Issuer', 'optional for GitHub and GitLab.com: the iss of the tokens', 'https://gitlab.example.com')}
<div><label for="policy-claims">Claim rules</label> <span class="muted">(one name=value a line; a generic policy needs at least one)</span><br>
<textarea id="policy-claims" name="claims" rows="3" maxlength="5000">${v?.claims ?? ''}</textarea></div>
${text('policy-audience', 'audience', 'Audience', "optional: default the feed's URL", 'https://nuget.example.com')}
</fieldset>
<fieldset><legend>Scopes of the issued keys</legend>
${TRUST_SCOPES.map((s) => html`<label><input type="checkbox" name="scopes[]" value="${s}"${checked(v ? v.scopes.includes(s) : s === 'push-new' || s === 'push')}> ${SCOPE_LABELS[s]}</label><br>`)}
</fieldset>
<fieldset><legend>Feeds</legend>
${form.everyFeed ? html`<label><input type="checkbox" name="feeds[]" value="*"${checked(v?.feeds.includes('*') ?? false)}> every feed, also those created later</label><br>` : ''}
${
  form.feeds.length === 0 && !form.everyFeed
    ? html`<p class="muted">You have no role that publishes on any feed yet: ask a feed's owner or an admin for one.</p>`
    : form.feeds.map((f) => html`<label><input type="checkbox" name="feeds[]" value="${f}"${checked(v?.feeds.includes(f) ?? false)}> ${f}</label><br>`)
}
</fieldset>
<div><label for="policy-patterns">Package ids</label> <span class="muted">(comma-separated patterns such as Contoso.*; empty: any id)</span><br>
<input type="text" id="policy-patterns" name="patterns" maxlength="1000" value="${v?.patterns ?? ''}"></div>
<div><label for="policy-lifetime">Key lifetime (seconds)</label><br><input type="number" id="policy-lifetime" name="keyLifetime" min="60" max="${form.maxKeyLifetime}" required value="${v?.keyLifetime ?? String(form.maxKeyLifetime)}"></div>
<div><button type="submit" class="primary">Create policy</button></div>
</form>`;
}

/** The viewer's policies and the form to create one. */
export function trustPage(paths: UiPaths, input: TrustPageInput): string {
  const body = html`<h1>Trusted publishing</h1>
${input.notice ? html`<div class="status ok" role="status">${input.notice}</div>` : ''}
${input.error ? html`<div class="status bad" role="alert">${input.error}</div>` : ''}
<p>A trust policy lets a CI job publish without a stored secret: the job's OIDC token (GitHub Actions, GitLab CI) is exchanged at
<code>/api/v2/token</code> for a key that lives at most an hour, acting for the policy's owner with the policy's scopes. The
NuGet/login action does the exchange; see docs/TRUSTED-PUBLISHING.md.</p>
${
  input.policies.length === 0
    ? html`<p class="muted">No trust policies yet.</p>`
    : html`<table class="versions keys policies"><thead><tr><th>Name</th><th>Owner</th><th>Trusts</th><th>Audience</th><th>Scopes</th><th>Feeds</th><th>Package ids</th><th>Key lifetime</th><th>Created</th><th>State</th><th></th></tr></thead>
<tbody>${input.policies.map((p) => policyRow(paths, p, input.feedsOf(p)))}</tbody></table>`
}
${createForm(paths, input.form)}`;
  return layout(paths, 'Trusted publishing', null, body);
}
