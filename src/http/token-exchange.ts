import type { FastifyError, FastifyInstance } from 'fastify';
import { PawketError } from '../errors.js';
import type { ExchangeFeed, TokenExchange } from '../trust/exchange.js';
import { baseUrl } from './base-url.js';
import { reasonPhrase } from './errors.js';
import { routes } from './routes.js';

export interface TokenExchangeRouteDeps {
  readonly exchange: TokenExchange;
  readonly feed: Omit<ExchangeFeed, 'audience'>;
  readonly configuredBase: string | undefined;
}

/**
 * Trusted publishing's token service (docs/TRUSTED-PUBLISHING.md) at nuget.org's path, `{feed}/api/v2/token`: what the
 * `NuGet/login` action posts its CI system's OIDC token to. Success is `{"apiKey": "..."}`; failures are
 * `{"error": "<message>"}`, which the action prints. The route checks its own credentials (the token), so a private
 * feed lets the request through to it.
 */
export function tokenExchangeRoutes(app: FastifyInstance, deps: TokenExchangeRouteDeps): void {
  app.register(async (scope) => {
    scope.setErrorHandler((thrown: FastifyError | PawketError, request, reply) => {
      const status = thrown instanceof PawketError ? thrown.status : (thrown.statusCode ?? 500);
      const message = status >= 500 && !(thrown instanceof PawketError) ? 'The token exchange failed on the server; the error is in its log.' : thrown.message;
      if (status >= 500) request.log.error({ err: thrown }, 'token exchange failed');
      reply.raw.statusMessage = reasonPhrase(message);
      const headers = thrown instanceof PawketError ? thrown.headers : {};
      return reply.code(status).headers({ ...headers, 'cache-control': 'no-store' }).type('application/json; charset=utf-8').send({ error: message });
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new PawketError(400, 'The request body is not JSON: send {"username": "<policy owner>", "tokenType": "ApiKey"}.'), undefined);
      }
    });
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 4096 }, (_request, _body, done) =>
      done(new PawketError(415, 'Send the request as application/json: {"username": "<policy owner>", "tokenType": "ApiKey"}.'), undefined),
    );
    scope.post(routes.tokenExchange, { config: { access: 'anonymous' } }, async (request, reply) => {
      const authorization = request.headers.authorization ?? '';
      const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1] ?? null;
      const issued = await deps.exchange.exchange(
        { ...deps.feed, audience: baseUrl(request, deps.configuredBase) },
        { bearer, body: request.body ?? null, address: request.ip },
      );
      return reply.header('cache-control', 'no-store').send({ apiKey: issued.apiKey, expires: issued.expires });
    });
  });
}
