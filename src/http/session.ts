import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PawketError } from '../errors.js';
import { AuthenticationError, type ApiKeyAuthenticator, type Principal } from '../feed/auth.js';
import type { People, Person } from '../people/people.js';
import type { SessionStore, SessionSubject } from '../people/sessions.js';

/** The session cookie: the same on every feed's pages (Path=/). */
export const SESSION_COOKIE = 'pawket_session';
/** The form field (or `X-CSRF-Token` header) that carries a session's CSRF token. */
export const CSRF_FIELD = '_csrf';

/** Who is looking at a page: a signed-in person, or someone signed in with an API key. */
export interface Viewer {
  /** As they may act on this request's feed (a person's scopes cut down to their role here). */
  readonly principal: Principal;
  /** Null when signed in with an API key. */
  readonly person: Person | null;
  /** The token a form of this session must carry. */
  readonly csrf: string;
  /** Whether the viewer is a server admin (every right, every feed). */
  readonly admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the viewer hook (installViewer) before the routes run: null when nobody is signed in. */
    pawketViewer?: Viewer | null;
  }
}

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Whether the browser reached us over HTTPS (directly, or as the proxy trusted by `trustProxy` says). */
const isHttps = (request: FastifyRequest) => request.protocol === 'https';

/**
 * Where the browser goes after signing in (or out): a path on this server, never another site. Anything else (an
 * absolute URL, `//host`, `/\host`, control characters) is the home page.
 */
export function safeReturnPath(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1000) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // Browsers treat backslashes as slashes and drop tabs and newlines: `/\t/evil.example` is `//evil.example`.
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return '/';
  try {
    const url = new URL(value, 'http://pawket.invalid');
    if (url.host !== 'pawket.invalid') return '/';
    return `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
}

/** What a feed's pages need to tell who is signed in: its access rules cut a person's rights to the feed. */
export interface ViewerGate {
  onFeed(principal: Principal): Principal;
}

/**
 * The web UI's sessions (people/sessions.ts) as the HTTP layer sees them: the cookie, the viewer of a request, the
 * CSRF check of a form post, signing in and out.
 */
export class WebSessions {
  constructor(
    private readonly sessions: SessionStore,
    private readonly people: People,
    private readonly auth: ApiKeyAuthenticator,
  ) {}

  /** The viewer of a request, or null; a session whose person was disabled or whose key was revoked ends here. */
  async viewerOf(request: FastifyRequest, gate: ViewerGate | null): Promise<Viewer | null> {
    const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (!token) return null;
    const session = await this.sessions.resume(token);
    if (!session) return null;
    const { record } = session;
    let principal: Principal;
    let person: Person | null = null;
    if (record.userId !== null) {
      person = await this.people.person(record.userId);
      if (!person || this.people.refusal(person.user)) {
        await this.sessions.end(token);
        return null;
      }
      principal = this.people.principalOf(person, request.ip);
    } else {
      try {
        principal = await this.auth.authenticateRef(record.keyId ?? '', { address: request.ip });
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        await this.sessions.end(token);
        return null;
      }
    }
    const admin = principal.scopes.has('admin') && principal.feeds === null;
    return { principal: gate ? gate.onFeed(principal) : principal, person, csrf: session.csrf, admin };
  }

  /** Starts a session (a new token: one known before sign-in never becomes signed in) and sets its cookie. */
  async signIn(request: FastifyRequest, reply: FastifyReply, subject: SessionSubject): Promise<void> {
    const old = cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (old) await this.sessions.end(old);
    const { token } = await this.sessions.start(subject, request.ip);
    reply.header('set-cookie', this.cookie(request, token, this.maxAgeSeconds()));
  }

  /** Ends the request's session (every session of its person with `everywhere`) and clears the cookie. */
  async signOut(request: FastifyRequest, reply: FastifyReply, everywhere = false): Promise<void> {
    const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const userId = request.pawketViewer?.person?.user.userId;
    if (everywhere && userId !== undefined) await this.sessions.endAllOf(userId);
    if (token) await this.sessions.end(token);
    reply.header('set-cookie', this.cookie(request, '', 0));
  }

  /** Ends every session of a user (disabled by an admin). */
  endAllOf(userId: number): Promise<number> {
    return this.sessions.endAllOf(userId);
  }

  private maxAgeSeconds(): number {
    return this.people.config.maxAge;
  }

  private cookie(request: FastifyRequest, value: string, maxAge: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${isHttps(request) ? '; Secure' : ''}`;
  }
}

/**
 * Refuses a browser's state-changing request that does not prove it comes from our own page: the session's CSRF token
 * in the form (or the `X-CSRF-Token` header), and no cross-site `Sec-Fetch-Site`/`Origin`. 403, nothing changed.
 */
export function requireSameSiteForm(request: FastifyRequest, viewer: Viewer | null, fields: Record<string, unknown> | undefined): void {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site') throw new PawketError(403, 'This form was sent from another site: open the page on this server and send it again.');
  const origin = request.headers.origin;
  if (origin && origin !== 'null') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== request.host) throw new PawketError(403, 'This form was sent from another site: open the page on this server and send it again.');
  }
  if (!viewer) return;
  const header = request.headers['x-csrf-token'];
  const sent = (typeof fields?.[CSRF_FIELD] === 'string' ? fields[CSRF_FIELD] : undefined) ?? (typeof header === 'string' ? header : undefined);
  if (sent !== viewer.csrf) {
    throw new PawketError(403, 'This form has expired or did not come from this server (its security token does not match): reload the page and send it again.');
  }
}

/** 401 (to the sign-in page for pages) when nobody is signed in; the viewer otherwise. */
export function requireViewer(request: FastifyRequest): Viewer {
  const viewer = request.pawketViewer;
  if (!viewer) throw new PawketError(401, 'Sign in first.');
  return viewer;
}

/**
 * Resolves the viewer of every request that carries the session cookie (NuGet clients never do, so restore traffic
 * pays nothing), before access control and the routes. Install before installAccessControl.
 */
export function installViewer(app: FastifyInstance, web: WebSessions, gate: ViewerGate | null): void {
  app.decorateRequest('pawketViewer', null);
  app.addHook('onRequest', async (request) => {
    if (!request.headers.cookie?.includes(SESSION_COOKIE)) return;
    request.pawketViewer = await web.viewerOf(request, gate);
  });
}

/** A browser form's fields as installFormParsing parses them. */
export type Fields = Record<string, unknown> | undefined;

/** A text field of a form ('' when absent or repeated). */
export const field = (fields: Fields, name: string): string => (typeof fields?.[name] === 'string' ? (fields[name] as string) : '');

/** A field that may repeat (checkboxes, multi-selects): its text values. */
export function fieldList(fields: Fields, name: string): string[] {
  const value = fields?.[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
}

/**
 * Parses the web UI's `application/x-www-form-urlencoded` posts. Install it in the scope of form routes only: a raw
 * push sent by `curl --data-binary` carries this content type too, and the push routes must see its bytes. Fields are
 * strings (the last of repeated names wins), except names ending in `[]`, which collect arrays; bounded in size.
 */
export function installFormParsing(app: FastifyInstance, bodyLimit = 64 * 1024): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    // No prototype: a field named __proto__ is a field.
    const fields = Object.create(null) as Record<string, string | string[]>;
    for (const [name, value] of new URLSearchParams(body as string)) {
      if (name.endsWith('[]')) ((fields[name] ??= []) as string[]).push(value);
      else fields[name] = value;
    }
    done(null, fields);
  });
}
