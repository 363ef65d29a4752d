import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../errors.js';
import { feedPathOf } from './feed-router.js';

/**
 * What a Host header may be (RFC 9110's host[:port]): a name or IPv4 address, or an IPv6 address in brackets, and a
 * port. Documents link to it, so nothing else (quotes, markup, paths, user info) may get in.
 */
const HOST = /^(?:[A-Za-z0-9._-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

export function isValidHost(host: string | undefined): host is string {
  return host !== undefined && HOST.test(host);
}

const INVALID_HOST = 'The Host header must be a host name or address with an optional port, e.g. nuget.example.com:5000.';

/** Refuses every request whose Host (or trusted X-Forwarded-Host) is present but malformed: RFC 9112 asks for a 400. */
export function refuseMalformedHosts(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const raw = request.headers.host;
    const host = request.host;
    if ((raw !== undefined && !isValidHost(raw)) || (host !== raw && host !== '' && !isValidHost(host))) {
      return done(badRequest(INVALID_HOST));
    }
    done();
  });
}

/**
 * The absolute URL prefix for links in documents: the configured public URL (a feed's own, `…/f/{name}`, for feeds
 * other than the default), or the scheme and host the client used and the `/f/{name}` it came through.
 * @example baseUrl(request, undefined) // 'http://localhost:5000' or 'http://localhost:5000/f/dev'
 */
export function baseUrl(request: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, '');
  // An HTTP/1.0 request may come without a Host; a trusted proxy may forward any scheme.
  if (!isValidHost(request.host)) throw badRequest(INVALID_HOST);
  const protocol = request.protocol;
  if (protocol !== 'http' && protocol !== 'https') throw badRequest('X-Forwarded-Proto must be http or https.');
  return `${protocol}://${request.host}${feedPathOf(request.raw)}`;
}
