import { html } from './html.js';
import { layout } from './pages.js';
import type { UiPaths } from './paths.js';

/** A provider as the sign-in page offers it. */
export interface ProviderChoice {
  readonly name: string;
  readonly label: string;
}

export interface SignInInput {
  readonly providers: readonly ProviderChoice[];
  /** Whether the API key form is offered. */
  readonly keySignIn: boolean;
  /** A local path to return to afterwards (already made safe). */
  readonly returnTo: string;
  /** Why the last attempt failed. */
  readonly error?: string;
}

/** Sign-in: a button per OpenID Connect provider, and (unless turned off) the API key form. */
export function signInPage(paths: UiPaths, input: SignInInput): string {
  const returnTo = encodeURIComponent(input.returnTo);
  const body = html`<h1>Sign in</h1>
${input.error ? html`<div class="status bad" role="alert">${input.error}</div>` : ''}
${
  input.providers.length > 0
    ? html`<ul class="providers">${input.providers.map(
        (p) => html`<li><a class="button primary" href="/signin/${p.name}?returnTo=${returnTo}">Sign in with ${p.label}</a></li>`,
      )}</ul>`
    : ''
}
${
  input.keySignIn
    ? html`<form class="key-sign-in" method="post" action="/signin/key">
<p>${input.providers.length > 0 ? 'Or sign in with an API key' : 'Sign in with an API key'}: you act with that key's rights.</p>
<input type="hidden" name="returnTo" value="${input.returnTo}">
<div><label for="apikey">API key</label><br><input type="password" id="apikey" name="apikey" autocomplete="off" required></div>
<div><button type="submit" class="primary">Sign in</button></div>
</form>`
    : ''
}
${input.providers.length === 0 && !input.keySignIn ? html`<p>Signing in is not set up on this server (see docs/SIGN-IN.md).</p>` : ''}`;
  return layout(paths, 'Sign in', null, body);
}
