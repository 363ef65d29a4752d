import type { FastifyInstance } from 'fastify';
import { baseUrl } from '../base-url.js';
import { CachedDocument, REVALIDATE, sendDocument } from '../response-cache.js';
import { routes } from '../routes.js';

/**
 * VulnerabilityInfo with no known vulnerabilities (recent clients warn when an audit source is missing) and
 * RepositorySignatures saying this feed does not sign.
 */
export function staticResourceRoutes(app: FastifyInstance, configuredBase: string | undefined): void {
  const started = new Date().toISOString();
  const empty = new CachedDocument(Buffer.from('{}'));
  const signatures = new CachedDocument(Buffer.from(JSON.stringify({ allRepositorySigned: false, signingCertificates: [] })));

  app.get(`${routes.vulnerabilities}index.json`, (request, reply) => {
    const base = baseUrl(request, configuredBase);
    const index = [{ '@name': 'base', '@id': `${base}${routes.vulnerabilities}base.json`, '@updated': started, comment: 'No known vulnerabilities.' }];
    return sendDocument(request, reply, new CachedDocument(Buffer.from(JSON.stringify(index))), REVALIDATE);
  });
  app.get(`${routes.vulnerabilities}base.json`, (request, reply) => sendDocument(request, reply, empty, REVALIDATE));
  app.get(routes.repositorySignatures, (request, reply) => sendDocument(request, reply, signatures, REVALIDATE));
}
