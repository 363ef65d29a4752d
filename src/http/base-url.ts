import type { FastifyRequest } from 'fastify';

/**
 * The absolute URL prefix for links in documents: the configured public URL, or the scheme and host the client used.
 * @example baseUrl(request, undefined) // 'http://localhost:5000'
 */
export function baseUrl(request: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, '');
  return `${request.protocol}://${request.host}`;
}
