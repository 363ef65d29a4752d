import type { FastifyInstance } from 'fastify';
import type { AdvisoryService, VulnerabilityData } from '../../feed/advisories.js';
import { baseUrl } from '../base-url.js';
import { CachedDocument, REVALIDATE, sendDocument } from '../response-cache.js';
import { routes } from '../routes.js';

/**
 * VulnerabilityInfo (NuGetAudit during restore reads it; advertised even when empty, because recent clients warn
 * when an audit source is missing) and RepositorySignatures saying this feed does not sign.
 */
export function staticResourceRoutes(
  app: FastifyInstance,
  configuredBase: string | undefined,
  advisories: Pick<AdvisoryService, 'vulnerabilityData'>,
): void {
  const started = new Date().toISOString();
  const signatures = new CachedDocument(Buffer.from(JSON.stringify({ allRepositorySigned: false, signingCertificates: [] })));
  // One rendering per state of the advisories (the service hands out the same object until something changes).
  const rendered = new WeakMap<VulnerabilityData, CachedDocument>();

  app.get(`${routes.vulnerabilities}index.json`, async (request, reply) => {
    const base = baseUrl(request, configuredBase);
    const data = await advisories.vulnerabilityData();
    const count = Object.values(data.byId).reduce((n, list) => n + list.length, 0);
    const index = [
      {
        '@name': 'base',
        '@id': `${base}${routes.vulnerabilities}base.json`,
        '@updated': data.updated ?? started,
        comment: count ? `${count} known vulnerabilities of packages on this feed.` : 'No known vulnerabilities.',
      },
    ];
    return sendDocument(request, reply, new CachedDocument(Buffer.from(JSON.stringify(index))), REVALIDATE);
  });
  app.get(`${routes.vulnerabilities}base.json`, async (request, reply) => {
    const data = await advisories.vulnerabilityData();
    let doc = rendered.get(data);
    if (!doc) {
      doc = new CachedDocument(Buffer.from(JSON.stringify(data.byId)));
      rendered.set(data, doc);
    }
    return sendDocument(request, reply, doc, REVALIDATE);
  });
  app.get(routes.repositorySignatures, (request, reply) => sendDocument(request, reply, signatures, REVALIDATE));
}
