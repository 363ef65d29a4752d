import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SignInConfig } from '../../config/schema.js';
import type { PawketError } from '../../errors.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import { html } from './html.js';
import { layout } from './pages.js';
import { UiPaths } from './paths.js';
import { sendPage } from './routes.js';

/**
 * A private feed's page asked for by a browser without a key: a page offering to sign in (the session then reads the
 * feed as far as the person's role allows) instead of the Basic challenge, which would make the browser prompt for a
 * password. A signed-in person without a role here is told so.
 */
export function signInOfferPage(paths: UiPaths, returnTo: string, message: string): string {
  const viewer = paths.viewer;
  const body = html`<h1>This feed is private</h1>
${
  viewer
    ? html`<p>You are signed in as ${viewer.person?.user.name ?? viewer.principal.owner}, with no role on this feed: an owner of the feed or an admin can grant you one.</p>
<p class="muted">${message}</p>`
    : html`<p><a class="button primary" href="${paths.signIn(returnTo)}">Sign in</a> to read its packages.</p>
<p class="muted">NuGet clients send an API key instead, as the password of HTTP Basic auth.</p>`
}`;
  return layout(paths, 'Private feed', null, body);
}

/** Whether a request is a browser's asking for a page (NuGet clients never ask for HTML). */
export function wantsPage(request: FastifyRequest): boolean {
  return request.method === 'GET' && /\btext\/html\b/.test(request.headers.accept ?? '');
}

/**
 * The access control's answer to a browser's page request that a private feed refuses for want of a key
 * (access-control.ts): the sign-in offer, when this server lets people sign in; otherwise nothing (the Basic challenge
 * stays, and the browser asks for a key).
 */
export function signInOffer(scope: FeedScope, signIn: Pick<SignInConfig, 'providers' | 'keySignIn'>) {
  const possible = signIn.keySignIn || signIn.providers.length > 0;
  return (request: FastifyRequest, reply: FastifyReply, error: PawketError): FastifyReply | null => {
    if (!possible || !wantsPage(request)) return null;
    const paths = UiPaths.of(request, scope);
    return sendPage(reply, signInOfferPage(paths, `${paths.prefix}${request.url}`, error.message), 401);
  };
}
