import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.js';
import type { AdvisoryService, VulnerabilityData } from '../../feed/advisories.js';
import type { UpstreamVulnerabilities } from '../../feed/upstream/vulnerabilities.js';
import { baseUrl } from '../base-url.js';
import type { RepositoryCertificateListing, RepositoryCertificates } from '../../signing/repository-listing.js';
import { CachedDocument, IMMUTABLE, REVALIDATE, sendDocument } from '../response-cache.js';
import { routes } from '../routes.js';

/**
 * VulnerabilityInfo (NuGetAudit during restore reads it; advertised even when empty, because recent clients warn
 * when an audit source is missing): this feed's advisories, and one file per upstream with the upstream's. And
 * RepositorySignatures: the certificates the feed signs with (docs/SIGNING.md), or none.
 */
export function staticResourceRoutes(
  app: FastifyInstance,
  configuredBase: string | undefined,
  advisories: Pick<AdvisoryService, 'vulnerabilityData'>,
  upstream: Pick<UpstreamVulnerabilities, 'files'> | null,
  /** The feed's repository certificates, when it signs packages; otherwise the document says it signs none. */
  certificates: Pick<RepositoryCertificates, 'listing' | 'certificate'> | null = null,
): void {
  const started = new Date().toISOString();
  const signatures = new CachedDocument(Buffer.from(JSON.stringify({ allRepositorySigned: false, signingCertificates: [] })));
  // One rendering per state of the advisories (the service hands out the same object until something changes).
  const rendered = new WeakMap<VulnerabilityData, CachedDocument>();
  const upstreamRendered = new WeakMap<Buffer, CachedDocument>();
  const upstreamFiles = async () => (upstream ? upstream.files() : []);

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
      // One file per upstream (NuGet allows 16 in all; the configuration has far fewer upstreams).
      ...(await upstreamFiles()).slice(0, 15).map((f, i) => ({
        '@name': `upstream-${i + 1}`,
        '@id': `${base}${routes.vulnerabilities}upstream-${i + 1}.json`,
        '@updated': f.updated,
        comment: `Known vulnerabilities from ${f.upstream}.`,
      })),
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
  app.get<{ Params: { n: string } }>(`${routes.vulnerabilities}upstream-:n.json`, async (request, reply) => {
    const file = (await upstreamFiles())[Number(request.params.n) - 1];
    if (!file) throw notFound(`There is no upstream vulnerability file ${request.params.n} on this feed.`);
    let doc = upstreamRendered.get(file.body);
    if (!doc) {
      doc = new CachedDocument(file.body);
      upstreamRendered.set(file.body, doc);
    }
    return sendDocument(request, reply, doc, REVALIDATE);
  });
  if (!certificates) {
    app.get(routes.repositorySignatures, (request, reply) => sendDocument(request, reply, signatures, REVALIDATE));
    return;
  }
  // One rendering per listing and base URL (the listing object changes only when counts are taken again).
  const listed = new WeakMap<RepositoryCertificateListing, Map<string, CachedDocument>>();
  app.get(routes.repositorySignatures, async (request, reply) => {
    const base = baseUrl(request, configuredBase);
    const listing = await certificates.listing();
    let byBase = listed.get(listing);
    if (!byBase) listed.set(listing, (byBase = new Map()));
    let doc = byBase.get(base);
    if (!doc) {
      doc = new CachedDocument(Buffer.from(JSON.stringify(repositorySignaturesDocument(base, listing))));
      if (byBase.size < 16) byBase.set(base, doc);
    }
    return sendDocument(request, reply, doc, REVALIDATE);
  });
  app.get<{ Params: { file: string } }>(`${routes.repositoryCertificates}:file`, async (request, reply) => {
    const sha256 = /^([0-9a-f]{64})\.crt$/.exec(request.params.file)?.[1];
    const cert = sha256 ? await certificates.certificate(sha256.toUpperCase()) : undefined;
    if (!cert) throw notFound(`This feed lists no repository certificate ${request.params.file}.`);
    return reply.header('content-type', 'application/pkix-cert').header('cache-control', IMMUTABLE).send(cert.der);
  });
}

/** NuGet's RepositorySignatures document (5.0.0): SHA-256 fingerprints in lower-case hex, certificates by URL. */
function repositorySignaturesDocument(base: string, listing: RepositoryCertificateListing) {
  return {
    allRepositorySigned: listing.allRepositorySigned,
    signingCertificates: listing.certificates.map((c) => ({
      fingerprints: { '2.16.840.1.101.3.4.2.1': c.sha256.toLowerCase() },
      subject: c.subject,
      issuer: c.issuer,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      contentUrl: `${base}${routes.repositoryCertificates}${c.sha256.toLowerCase()}.crt`,
    })),
  };
}
