/**
 * The web UI's pages, rendered on the server with the escaping template helper (html.ts). Pure functions of their
 * inputs: routes.ts gathers the data, and `paths` (paths.ts) says where the feed's links go.
 */
import type { SearchResultPackage } from '../../feed/search/search-index.js';
import { severityName, type Deprecation, type DeprecationReason, type Vulnerability } from '../../nuget/advisory.js';
import type { StoredMetadata } from '../../feed/stored-metadata.js';
import type { PackageSignatureInfo, SignerSummary } from '../../signing/signature-info.js';
import { html, safeUrl, type Html } from './html.js';
import { routes } from '../routes.js';
import type { UiPaths } from './paths.js';
import { CSRF_FIELD } from '../session.js';

/** Package types the filter offers (the search API accepts any). */
export const PACKAGE_TYPES = ['Dependency', 'DotnetTool', 'Template', 'MSBuildSdk', 'DotnetPlatform'] as const;

export const PAGE_SIZE = 20;

function number(n: number): string {
  return n.toLocaleString('en-US');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function date(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * Every page's frame. A feed other than the default one is named in the title and header, and its path prefix is on
 * the body for the script (app.js builds links and calls the feed's APIs under it).
 */
export function layout(paths: UiPaths, title: string, active: 'search' | 'upload' | 'feed' | null, body: Html): string {
  const nav = (href: string, label: string, key: typeof active) =>
    html`<a href="${href}"${active === key ? html` aria-current="page"` : ''}>${label}</a>`;
  const feed = paths.feedName;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${feed === null ? '' : html`${feed} · `}Pawket</title>
<link rel="stylesheet" href="${paths.asset('app.css')}">
<link rel="icon" href="${paths.asset('package.svg')}" type="image/svg+xml">
<script src="${paths.asset('app.js')}" defer></script>
</head>
<body${paths.prefix ? html` data-feed-path="${paths.prefix}"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><nav aria-label="Main">
<a class="brand" href="${paths.home()}">Pawket</a>${feed === null ? '' : html`<span class="feed-name" title="Feed">${feed}</span>`}
${nav(paths.home(), 'Packages', 'search')}
${nav(paths.upload, 'Upload', 'upload')}
${nav(paths.connect, 'Connect', 'feed')}
${account(paths)}
</nav></header>
<main id="main">
${body}
</main>
<footer>Pawket NuGet feed${feed === null ? '' : html` ${feed}`} · <a href="${paths.serviceIndex}">${paths.serviceIndex}</a></footer>
</body>
</html>`.toString();
}

/** The header's right side: who is signed in, their pages and the sign-out form; else a sign-in link. */
function account(paths: UiPaths): Html {
  const viewer = paths.viewer;
  if (!viewer) return html`<a class="account" href="${paths.signIn(paths.home())}">Sign in</a>`;
  return html`<span class="account"><span class="who" title="Signed in">${viewer.person?.user.displayName || viewer.principal.owner}</span>
<a href="${paths.myPackages}">My packages</a>
<a href="${paths.myStaging}">Staging</a>
<a href="${paths.myKeys}">My keys</a>
<a href="${paths.trustPolicies}">Trusted publishing</a>
<a href="${paths.orgs()}">Organisations</a>${viewer.admin ? html`
<a href="${paths.admin()}">Admin</a>` : ''}
<form class="inline" method="post" action="${paths.signOut}"><input type="hidden" name="${CSRF_FIELD}" value="${viewer.csrf}"><button type="submit">Sign out</button></form></span>`;
}

/** The hidden field every form of a signed-in page carries (the session's CSRF token). */
export function csrfField(paths: UiPaths): Html {
  return paths.viewer ? html`<input type="hidden" name="${CSRF_FIELD}" value="${paths.viewer.csrf}">` : html``;
}

// ---------------------------------------------------------------------------------------------------------------
// Home / search

export interface HomeInput {
  readonly query: string;
  readonly prerelease: boolean;
  readonly packageType: string;
  readonly page: number;
  readonly totalHits: number;
  readonly packages: readonly SearchResultPackage[];
  readonly isVerified: (lowerId: string) => boolean;
}

function tagLink(paths: UiPaths, tag: string): Html {
  return html`<a class="tag" href="${paths.home(`q=${encodeURIComponent(`tags:${tag}`)}`)}">${tag}</a>`;
}

function card(paths: UiPaths, p: SearchResultPackage, verified: boolean): Html {
  return html`<li class="card">
<img src="${paths.icon(p.id, p.version)}" alt="" width="48" height="48" loading="lazy">
<div class="body">
<h3><a href="${paths.package(p.id)}">${p.id}</a></h3>
<p>${p.summary || p.description}</p>
<div class="meta"><span>v${p.version}</span><span>${number(p.totalDownloads)} downloads</span>${
    verified ? html`<span class="verified" title="The id is under a prefix reserved for its owner">✓ verified</span>` : ''
  }${p.mirroredFrom ? mirroredMark('Mirrored', p.mirroredFrom) : ''}${p.authors.length ? html`<span>by ${p.authors.join(', ')}</span>` : ''}</div>
<div>${p.tags.slice(0, 8).map((t) => tagLink(paths, t))}</div>
</div>
</li>`;
}

function pageLink(paths: UiPaths, input: HomeInput, page: number): string {
  const params = new URLSearchParams();
  if (input.query) params.set('q', input.query);
  if (input.prerelease) params.set('prerelease', 'true');
  if (input.packageType) params.set('packageType', input.packageType);
  if (page > 1) params.set('page', String(page));
  return paths.home(params.toString());
}

export function homePage(paths: UiPaths, input: HomeInput): string {
  const pages = Math.max(1, Math.ceil(input.totalHits / PAGE_SIZE));
  const body = html`<h1 class="visually-hidden">Packages</h1>
<form class="search" action="${paths.home()}" method="get" role="search">
<label class="visually-hidden" for="q">Search packages</label>
<input type="search" id="q" name="q" value="${input.query}" placeholder="Search packages (id, tags:, author:, ...)" autocomplete="off" autofocus>
<label><input type="checkbox" id="prerelease" name="prerelease" value="true"${input.prerelease ? html` checked` : ''}> Include prerelease</label>
<label for="packageType">Package type</label>
<select id="packageType" name="packageType">
<option value="">Any</option>
${PACKAGE_TYPES.map((t) => html`<option${t === input.packageType ? html` selected` : ''}>${t}</option>`)}
</select>
<noscript><button type="submit">Search</button></noscript>
</form>
<p id="count" class="muted" aria-live="polite">${input.totalHits === 1 ? '1 package' : `${number(input.totalHits)} packages`}</p>
<ul id="results" class="cards">
${input.packages.map((p) => card(paths, p, input.isVerified(p.lowerId)))}
</ul>
<nav id="pager" class="pager" aria-label="Pages">
${input.page > 1 ? html`<a href="${pageLink(paths, input, input.page - 1)}">← Previous</a>` : ''}
${pages > 1 ? html`<span class="muted">Page ${input.page} of ${pages}</span>` : ''}
${input.page < pages ? html`<a href="${pageLink(paths, input, input.page + 1)}">Next →</a>` : ''}
</nav>`;
  return layout(paths, input.query ? `Search: ${input.query}` : 'Packages', 'search', body);
}

// ---------------------------------------------------------------------------------------------------------------
// Package page

export interface VersionRow {
  readonly version: string;
  readonly listed: boolean;
  readonly prerelease: boolean;
  readonly published: string;
  readonly downloads: number;
  readonly deprecated: boolean;
  readonly vulnerable: boolean;
  /** The upstream (service index URL) this version was mirrored from, or comes from; absent for pushed versions. */
  readonly mirroredFrom?: string | undefined;
}

export interface PackageInput {
  readonly metadata: StoredMetadata;
  readonly version: string;
  readonly listed: boolean;
  readonly published: string;
  readonly size: number;
  readonly versions: readonly VersionRow[];
  readonly totalDownloads: number;
  readonly verified: boolean;
  /** Of this version: the upstream it was mirrored from (see {@link VersionRow}). */
  readonly mirroredFrom?: string | undefined;
  /** Of this version: who signed it (author, repository); absent when unsigned. */
  readonly signature?: PackageSignatureInfo | undefined;
  /** Of this version. */
  readonly deprecation: Deprecation | null;
  readonly vulnerabilities: readonly Vulnerability[];
  /** Sanitized readme HTML; null when the package has none. */
  readonly readme: Html | null;
  readonly licenseText: string | null;
  /** The feed's service index, absolute (install commands name it). */
  readonly feedUrl: string;
  /** Flat-container URL of the .nupkg. */
  readonly downloadUrl: string;
  /** What the last form of the Manage section did (manage-pages.ts). */
  readonly notice?: Html | null;
  /** The Manage section, for those who may manage the id. */
  readonly manage?: Html | null;
}

export function installCommands(id: string, version: string, feedUrl: string, sourceName = 'Pawket'): { key: string; label: string; text: string }[] {
  return [
    { key: 'dotnet', label: '.NET CLI', text: `dotnet add package ${id} --version ${version}` },
    { key: 'reference', label: 'PackageReference', text: `<PackageReference Include="${id}" Version="${version}" />` },
    { key: 'cpm', label: 'Central Package Management', text: `<!-- Directory.Packages.props -->\n<PackageVersion Include="${id}" Version="${version}" />\n<!-- the project file -->\n<PackageReference Include="${id}" />` },
    { key: 'paket', label: 'Paket', text: `paket add ${id} --version ${version}` },
    { key: 'cake', label: 'Cake', text: `#addin nuget:${feedUrl}?package=${id}&version=${version}\n#tool nuget:${feedUrl}?package=${id}&version=${version}` },
    { key: 'script', label: 'Script & Interactive', text: `#r "nuget: ${id}, ${version}"` },
    { key: 'psresource', label: 'PSResourceGet', text: `Install-PSResource -Name ${id} -Version ${version} -Repository ${sourceName}` },
  ];
}

function installBox(id: string, version: string, feedUrl: string, sourceName: string): Html {
  const commands = installCommands(id, version, feedUrl, sourceName);
  return html`<section class="install" aria-label="Install">
<div class="tabs" role="tablist">${commands.map(
    (c) => html`<button type="button" role="tab" id="tab-${c.key}" aria-controls="panel-${c.key}" aria-selected="false">${c.label}</button>`,
  )}</div>
${commands.map(
  (c) => html`<div class="panel" role="tabpanel" id="panel-${c.key}" aria-labelledby="tab-${c.key}">
<pre><code id="cmd-${c.key}">${c.text}</code></pre>
<button type="button" data-copy="cmd-${c.key}" aria-label="Copy ${c.label} command">Copy</button>
</div>`,
)}
</section>`;
}

function dependencies(paths: UiPaths, m: StoredMetadata): Html {
  if (m.dependencyGroups.length === 0 || m.dependencyGroups.every((g) => g.dependencies.length === 0 && g.targetFramework === null)) {
    return html`<p class="muted">This package has no dependencies.</p>`;
  }
  return html`<div class="deps">${m.dependencyGroups.map(
    (g) => html`<h3>${g.targetFramework ?? 'Any framework'}</h3>
${
  g.dependencies.length === 0
    ? html`<p class="muted">No dependencies.</p>`
    : html`<ul>${g.dependencies.map((d) => html`<li><a href="${paths.package(d.id)}">${d.id}</a> <span class="muted">${d.range ?? '(any version)'}</span></li>`)}</ul>`
}`,
  )}</div>`;
}

function license(m: StoredMetadata, text: string | null): Html {
  if (m.license?.type === 'expression') {
    return html`<a href="https://licenses.nuget.org/${encodeURIComponent(m.license.value)}" rel="noopener">${m.license.value}</a>`;
  }
  if (m.license?.type === 'file') {
    return text === null ? html`${m.license.value} (in the package)` : html`<a href="#license">${m.license.value}</a>`;
  }
  const url = safeUrl(m.licenseUrl);
  return url ? html`<a href="${url}" rel="nofollow noopener">License</a>` : html`<span class="muted">Not specified</span>`;
}

function link(label: string, url: string | null): Html {
  const safe = safeUrl(url);
  return safe ? html`<dt>${label}</dt><dd><a href="${safe}" rel="nofollow noopener">${new URL(safe).host + new URL(safe).pathname}</a></dd>` : html``;
}

const REASON_WORDS: Record<DeprecationReason, string> = {
  Legacy: 'it is no longer maintained',
  CriticalBugs: 'it has critical bugs',
  Other: 'of other reasons',
};

function deprecationBanner(paths: UiPaths, d: Deprecation): Html {
  const alt = d.alternate;
  return html`<div class="banner warn deprecation" role="status"><strong>This version is deprecated</strong> because ${d.reasons
    .map((r) => REASON_WORDS[r])
    .join(' and ')}.${d.message ? html` ${d.message}` : ''}${
    alt ? html` Use <a href="${paths.package(alt.id)}">${alt.id}</a>${alt.range ? html` <span class="muted">${alt.range}</span>` : ''} instead.` : ''
  }</div>`;
}

function vulnerabilityBanner(list: readonly Vulnerability[]): Html {
  return html`<div class="banner bad vulnerabilities" role="status"><strong>This version has ${list.length === 1 ? 'a known vulnerability' : `${list.length} known vulnerabilities`}</strong>
<ul>${list.map((v) => {
    const url = safeUrl(v.url);
    return html`<li>${severityName(v.severity)} severity: ${url ? html`<a href="${url}" rel="nofollow noopener">${v.url}</a>` : v.url} <span class="muted">(versions ${v.versions})</span></li>`;
  })}</ul></div>`;
}

/** A signer: its certificate's subject, SHA-256 fingerprint (what `trustedSigners` names) and timestamp. */
function signerText(s: SignerSummary & { readonly timestamp?: string }): Html {
  return html`${s.subject}<br><code class="fingerprint" title="SHA-256 fingerprint of the certificate">${s.sha256}</code>${
    s.timestamp ? html`<br><span class="muted">timestamped ${date(s.timestamp)}</span>` : ''
  }`;
}

/**
 * The package page's signature entries: author and repository signers. Nothing for an unsigned version (and for one
 * stored before signatures were read, which may be signed: better silent than wrong).
 */
function signatureDetails(signature: PackageSignatureInfo | undefined): Html {
  if (!signature) return html``;
  return html`${signature.author ? html`<dt>Author signature</dt><dd class="signer">${signerText(signature.author)}</dd>` : ''}${
    signature.repository ? html`<dt>Repository signature</dt><dd class="signer">${signerText(signature.repository)}</dd>` : ''
  }`;
}

/** "Mirrored from <upstream host>", the full service index URL on hover. */
function mirroredMark(word: string, upstream: string): Html {
  let name = upstream;
  try {
    name = new URL(upstream).host;
  } catch {
    // not a URL: show it as it is
  }
  return html`<span class="mirrored" title="${upstream}">${word} from ${name}</span>`;
}

export function packagePage(paths: UiPaths, p: PackageInput): string {
  const m = p.metadata;
  const current = p.versions.find((v) => v.version === p.version);
  const body = html`<div class="layout">
<div>
<div class="pkg-head">
<img src="${paths.icon(m.id, p.version)}" alt="" width="64" height="64">
<div>
<h1>${m.title && m.title !== m.id ? m.title : m.id} <span class="muted">${p.version}</span></h1>
<div class="meta"><span>${m.id}</span>${p.verified ? html`<span class="verified">✓ verified prefix</span>` : ''}${p.mirroredFrom ? mirroredMark('Mirrored', p.mirroredFrom) : ''}<span>${number(p.totalDownloads)} total downloads</span><span>${number(current?.downloads ?? 0)} of this version</span></div>
</div>
</div>
${p.notice ?? ''}
${!p.listed ? html`<div class="banner warn" role="status">This version is unlisted: it still restores when pinned, but search and "latest" skip it.</div>` : ''}
${m.requireLicenseAcceptance ? html`<div class="banner warn" role="status">This package requires accepting its license before use.</div>` : ''}
${p.deprecation ? deprecationBanner(paths, p.deprecation) : ''}
${p.vulnerabilities.length ? vulnerabilityBanner(p.vulnerabilities) : ''}
${installBox(m.id, p.version, p.feedUrl, paths.sourceName)}
<h2 id="readme-heading">${p.readme ? 'README' : 'Description'}</h2>
${p.readme ? html`<article class="readme" aria-labelledby="readme-heading">${p.readme}</article>` : html`<p class="readme">${m.description}</p>`}
${m.releaseNotes ? html`<h2>Release notes</h2><pre class="notes">${m.releaseNotes}</pre>` : ''}
<h2>Dependencies</h2>
${dependencies(paths, m)}
${p.licenseText !== null ? html`<h2 id="license">License</h2><pre>${p.licenseText}</pre>` : ''}
<h2>Versions</h2>
<table class="versions">
<thead><tr><th scope="col">Version</th><th scope="col">Downloads</th><th scope="col">Published</th><th scope="col">Status</th></tr></thead>
<tbody>${[...p.versions].reverse().map(
    (v) => html`<tr class="${v.version === p.version ? 'current' : ''}${v.listed ? '' : ' unlisted'}">
<td><a href="${paths.package(m.id, v.version)}"${v.version === p.version ? html` aria-current="page"` : ''}>${v.version}</a></td>
<td>${number(v.downloads)}</td><td>${v.listed ? date(v.published) : '—'}</td>
<td>${[v.listed ? '' : 'unlisted', v.prerelease ? 'prerelease' : '', v.deprecated ? 'deprecated' : '', v.vulnerable ? 'vulnerable' : ''].filter(Boolean).join(', ')}${v.mirroredFrom ? html` ${mirroredMark('mirrored', v.mirroredFrom)}` : ''}</td></tr>`,
  )}</tbody>
</table>
${p.manage ?? ''}
</div>
<aside>
<section>
<form action="${paths.package(m.id)}" method="get" class="version-form">
<label for="version-select">Version</label><br>
<select id="version-select" name="v">${[...p.versions].reverse().map(
    (v) => html`<option value="${paths.package(m.id, v.version)}"${v.version === p.version ? html` selected` : ''}>${v.version}${v.prerelease ? ' (prerelease)' : ''}${v.listed ? '' : ' (unlisted)'}</option>`,
  )}</select>
<button type="submit" id="version-go">Go</button>
</form>
</section>
<section><dl>
<dt>Published</dt><dd>${p.listed ? date(p.published) : 'unlisted'}</dd>
<dt>Size</dt><dd>${bytes(p.size)}</dd>
<dt>Authors</dt><dd>${m.authors}</dd>
${signatureDetails(p.signature)}
${m.owners ? html`<dt>Owners</dt><dd>${m.owners}</dd>` : ''}
<dt>License</dt><dd>${license(m, p.licenseText)}</dd>
${link('Project', m.projectUrl)}
${link('Repository', m.repository?.url ?? null)}
${m.frameworks.length ? html`<dt>Frameworks</dt><dd>${m.frameworks.map((f) => html`<span class="tag">${f}</span>`)}</dd>` : ''}
${m.tags.length ? html`<dt>Tags</dt><dd>${m.tags.map((t) => tagLink(paths, t))}</dd>` : ''}
${m.copyright ? html`<dt>Copyright</dt><dd>${m.copyright}</dd>` : ''}
<dt>Download</dt><dd><a href="${p.downloadUrl}">${m.id}.${p.version}.nupkg</a></dd>
</dl></section>
</aside>
</div>`;
  return layout(paths, `${m.id} ${p.version}`, null, body);
}

// ---------------------------------------------------------------------------------------------------------------
// Upload, feed, errors

/** How an upload through the form (without JavaScript) went: the push endpoint's message, and on success the package. */
export type UploadOutcome =
  | { readonly ok: true; readonly message: string; readonly id: string; readonly version: string }
  | { readonly ok: false; readonly message: string };

/**
 * The upload form posts to the feed's `/upload` (ui/upload-route.ts) and works without JavaScript; the script sends the
 * file to the push endpoint instead, with a progress bar. The key field comes first: browsers send parts in form order,
 * and the server checks the key before it stores any of the file.
 */
export function uploadPage(paths: UiPaths, outcome?: UploadOutcome): string {
  const body = html`<h1>Upload a package</h1>
<p>Pushes a <code>.nupkg</code> to this feed, as <code>dotnet nuget push</code> does. You need an API key with a push scope.</p>
<form class="upload" action="${paths.upload}" method="post" enctype="multipart/form-data">
<div><label for="apikey">API key</label><br><input type="password" id="apikey" name="apikey" autocomplete="off" required></div>
<div><label for="package">Package file (.nupkg)</label><br><input type="file" id="package" name="package" accept=".nupkg" required></div>
<div><button type="submit" class="primary">Upload</button></div>
<progress id="upload-progress" aria-label="Upload progress" hidden></progress>
</form>
${
  outcome
    ? html`<div id="upload-status" class="status ${outcome.ok ? 'ok' : 'bad'}" role="status" aria-live="polite">${outcome.message}${
        outcome.ok ? html` <a href="${paths.package(outcome.id, outcome.version)}">Open ${outcome.id} ${outcome.version}</a>` : ''
      }</div>`
    : html`<div id="upload-status" class="status" role="status" aria-live="polite" hidden></div>`
}`;
  return layout(paths, outcome ? (outcome.ok ? 'Uploaded' : 'Upload failed') : 'Upload', 'upload', body);
}

export interface FeedStats {
  readonly ids: number;
  readonly versions: number;
  readonly downloads: number;
}

/** The "Connect" page: the feed's URLs (`base` is its absolute public URL) and client configurations that use them. */
export function feedPage(paths: UiPaths, base: string, stats: FeedStats, privateFeed: boolean): string {
  const feedUrl = `${base}${routes.serviceIndex}`;
  const source = paths.sourceName;
  const config = `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="${source}" value="${feedUrl}"${base.startsWith('http:') ? ' allowInsecureConnections="true"' : ''} />
  </packageSources>${
    privateFeed
      ? `
  <packageSourceCredentials>
    <${source}>
      <add key="Username" value="pawket" />
      <add key="ClearTextPassword" value="YOUR-API-KEY" />
    </${source}>
  </packageSourceCredentials>`
      : ''
  }
</configuration>`;
  const block = (id: string, label: string, text: string) =>
    html`<div class="panel"><pre><code id="${id}">${text}</code></pre><button type="button" data-copy="${id}" aria-label="Copy ${label}">Copy</button></div>`;
  const body = html`<h1>Connect to ${paths.feedName === null ? 'this feed' : html`feed ${paths.feedName}`}</h1>
<ul class="stats">
<li><strong>${number(stats.ids)}</strong> packages</li>
<li><strong>${number(stats.versions)}</strong> versions</li>
<li><strong>${number(stats.downloads)}</strong> downloads</li>
</ul>
<h2>Feed URL (NuGet V3)</h2>
${block('feed-url', 'feed URL', feedUrl)}
<p class="muted">Legacy V2 clients (PowerShellGet v2, old nuget.exe): <code>${base}${routes.v2}</code></p>
<p class="muted">Symbol server (Visual Studio, dotnet-symbol, WinDbg): <code>${base}${routes.symbolServer}</code></p>
${privateFeed ? html`<p>This feed is private: clients send an API key as the password of HTTP Basic auth.</p>` : ''}
<h2>nuget.config</h2>
${block('nuget-config', 'nuget.config', config)}
<h2>Add the source from the command line</h2>
${block('add-source', 'add source command', `dotnet nuget add source ${feedUrl} --name ${source}${privateFeed ? ' --username pawket --password YOUR-API-KEY --store-password-in-clear-text' : ''}`)}
<h2>Push a package</h2>
${block('push-dotnet', 'dotnet push command', `dotnet nuget push My.Package.1.0.0.nupkg --source ${feedUrl} --api-key YOUR-API-KEY`)}
${block('push-nuget', 'nuget.exe push command', `nuget push My.Package.1.0.0.nupkg -Source ${feedUrl} -ApiKey YOUR-API-KEY`)}
<h2>PowerShell</h2>
${block('psresource', 'PSResourceGet command', `Register-PSResourceRepository -Name ${source} -Uri ${feedUrl} -Trusted`)}`;
  return layout(paths, 'Connect', 'feed', body);
}

export function notFoundPage(paths: UiPaths, message: string): string {
  return layout(paths, 'Not found', null, html`<h1>Not found</h1><p>${message}</p><p><a href="${paths.home()}">Search packages</a></p>`);
}

/** The icon of packages without one: a neutral box, drawn by Pawket. */
export const DEFAULT_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="10" fill="#6e7781"/><path d="M32 12 50 22v20L32 52 14 42V22z" fill="none" stroke="#fff" stroke-width="3" stroke-linejoin="round"/><path d="M14 22l18 10 18-10M32 32v20" fill="none" stroke="#fff" stroke-width="3" stroke-linejoin="round"/></svg>`;
