/**
 * Who signed a package, as pages and the registration show it: read from the stored metadata's `signature` field
 * (written at ingestion from the verification verdict, with the repository signer once the feed repository-signs).
 */
import type { PackageSignatureInfo, SignerSummary } from './signature-info.js';

const isText = (v: unknown): v is string => typeof v === 'string';

function signerOf(value: unknown): (SignerSummary & { timestamp?: string }) | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const s = value as Record<string, unknown>;
  if (!isText(s.subject) || !isText(s.sha256)) return undefined;
  return {
    subject: s.subject,
    issuer: isText(s.issuer) ? s.issuer : '',
    sha256: s.sha256,
    notBefore: isText(s.notBefore) ? s.notBefore : '',
    notAfter: isText(s.notAfter) ? s.notAfter : '',
    ...(isText(s.timestamp) ? { timestamp: s.timestamp } : {}),
  };
}

/** The signers kept with a package, or undefined for an unsigned one (and rows stored before signatures were read). */
export function storedSignature(metadata: object): PackageSignatureInfo | undefined {
  const value = (metadata as { signature?: unknown }).signature;
  if (!value || typeof value !== 'object') return undefined;
  const author = signerOf((value as { author?: unknown }).author);
  const repository = signerOf((value as { repository?: unknown }).repository);
  if (!author && !repository) return undefined;
  return { ...(author ? { author } : {}), ...(repository ? { repository } : {}) };
}

/**
 * Pawket's extension of the registration's catalog entry (clients ignore unknown properties): who signed, by subject
 * and SHA-256 fingerprint only — what `trustedSigners` in a nuget.config needs; the rest is on the package page.
 * @example { author: { subject: 'CN=Contoso', sha256: '3F…' } }
 */
export function signatureExtension(info: PackageSignatureInfo | undefined) {
  if (!info) return undefined;
  const brief = (s: SignerSummary) => ({ subject: s.subject, sha256: s.sha256 });
  return { ...(info.author ? { author: brief(info.author) } : {}), ...(info.repository ? { repository: brief(info.repository) } : {}) };
}
