/**
 * A feed's trusted-signer policies in the browser (docs/SIGNING.md), for the feed's admins: the list, the form to add
 * one and a remove button per policy. Pure functions of their inputs; signer-routes.ts gathers the data and decides who
 * may see them.
 */
import type { SignerPolicyRecord } from '../../db/signer-policy-database.js';
import type { SignaturePolicy } from '../../signing/signature-info.js';
import { MAX_FINGERPRINTS, SIGNATURE_MODES } from '../../signing/signer-policy.js';
import { html, type Html } from './html.js';
import { notice } from './org-pages.js';
import { csrfField, layout } from './pages.js';
import type { UiPaths } from './paths.js';

/** Outcomes a redirect after a form names (`?done=`): fixed texts, never text from the URL. */
export const SIGNER_NOTICES = {
  added: 'The policy was added: it decides for the ids it covers from the next push on.',
  removed: 'The policy was removed: its ids fall to the next most specific policy, or the feed default.',
} as const;
export type SignerNotice = keyof typeof SIGNER_NOTICES;

/** What each mode means, as the page explains it. */
const MODE_TEXT: Record<SignaturePolicy['mode'], string> = {
  accept: 'signatures are not checked',
  verify: 'a signature present must be valid; unsigned packages are accepted',
  require: 'packages must be author-signed, validly, by a listed certificate when any are listed',
};

/** Where a feed's signer pages are: under the feed's prefix, as the admin API is. */
export function signersPath(paths: UiPaths): string {
  return `${paths.prefix}/admin/signers`;
}

/** What the add form was sent with, to fill it again after a refusal. */
export interface SignerFormValues {
  readonly name: string;
  readonly pattern: string;
  readonly owner: string;
  readonly mode: string;
  readonly fingerprints: string;
}

export interface SignerListInput {
  readonly feedName: string;
  readonly policies: readonly SignerPolicyRecord[];
  readonly feedDefault: SignaturePolicy;
  readonly done?: unknown;
  /** Why the last add was refused, with what it was sent with. */
  readonly error?: string;
  readonly values?: SignerFormValues;
}

const certificates = (fingerprints: readonly string[]): Html =>
  fingerprints.length ? html`${fingerprints.map((f) => html`<code class="fingerprint">${f}</code><br>`)}` : html`<span class="muted">any the feed trusts</span>`;

function addForm(paths: UiPaths, values: SignerFormValues | undefined): Html {
  const mode = values?.mode ?? 'require';
  return html`<h2>Add a policy</h2>
<form class="stacked" method="post" action="${signersPath(paths)}">
${csrfField(paths)}
<div><label for="signer-name">Name</label> <span class="muted">(refusals and the audit log name it)</span><br>
<input type="text" id="signer-name" name="name" required maxlength="64" size="30" value="${values?.name ?? ''}" autocomplete="off"></div>
<div><label for="signer-pattern">Id pattern</label> <span class="muted">(Contoso.*; empty: every id of the owner)</span><br>
<input type="text" id="signer-pattern" name="pattern" maxlength="100" size="30" value="${values?.pattern ?? ''}" autocomplete="off"></div>
<div><label for="signer-owner">Owner</label> <span class="muted">(a user or organisation; empty: whoever owns the ids)</span><br>
<input type="text" id="signer-owner" name="owner" maxlength="64" size="30" value="${values?.owner ?? ''}" autocomplete="off"></div>
<div><label for="signer-mode">Mode</label><br><select id="signer-mode" name="mode">${SIGNATURE_MODES.map(
    (m) => html`<option value="${m}"${m === mode ? html` selected` : ''}>${m}: ${MODE_TEXT[m]}</option>`,
  )}</select></div>
<div><label for="signer-fingerprints">Author certificates</label> <span class="muted">(mode require only: SHA-256 fingerprints, one per line, at most ${MAX_FINGERPRINTS}; empty: any the feed trusts)</span><br>
<textarea id="signer-fingerprints" name="fingerprints" rows="3" cols="70" maxlength="3000">${values?.fingerprints ?? ''}</textarea></div>
<div><button type="submit" class="primary">Add policy</button></div>
</form>`;
}

/** A feed's signer policies, its default, and the form to add one. */
export function signerListPage(paths: UiPaths, input: SignerListInput): string {
  const body = html`<h1>Signer policies of feed ${input.feedName}</h1>
${notice(input.done, SIGNER_NOTICES)}
${input.error ? html`<div class="status bad" role="alert">${input.error}</div>` : ''}
<p class="muted">Each push, stage, import and mirrored package is checked against the most specific policy covering its id: owner and pattern, then pattern (the longest), then owner. Ids no policy covers follow the feed's <code>signatures</code> setting: <strong>${input.feedDefault.mode}</strong> (${MODE_TEXT[input.feedDefault.mode]}).</p>
${
  input.policies.length === 0
    ? html`<p>This feed has no signer policies.</p>`
    : html`<table class="versions signers"><thead><tr><th>Policy</th><th>Id pattern</th><th>Owner</th><th>Mode</th><th>Author certificates (SHA-256)</th><th></th></tr></thead><tbody>
${input.policies.map(
  (p) => html`<tr>
<td>${p.name}<br><span class="muted">${p.created.slice(0, 10)}, ${p.createdBy}</span></td>
<td>${p.pattern === null ? html`<span class="muted">every id</span>` : html`<code>${p.pattern}</code>`}</td>
<td>${p.owner ?? html`<span class="muted">any</span>`}</td>
<td>${p.mode}</td>
<td>${certificates(p.fingerprints)}</td>
<td><form class="inline" method="post" action="${signersPath(paths)}/${encodeURIComponent(p.name)}/remove">${csrfField(paths)}<label><input type="checkbox" name="confirm" value="yes" required> remove</label> <button type="submit" class="danger" aria-label="Remove policy ${p.name}">Remove</button></form></td>
</tr>`,
)}
</tbody></table>`
}
${addForm(paths, input.values)}`;
  return layout(paths, 'Signer policies', null, body);
}
