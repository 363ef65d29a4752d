import { PawketError } from '../errors.js';
import type { PackageSignatureInfo, SignaturePolicies, SignaturePolicy } from './signature-info.js';
import type { TrustedRoots } from './trusted-roots.js';
import { verifyPackageSignature } from './verify.js';

export type SignatureMode = SignaturePolicy['mode'];

/** The policy when nothing more specific applies: the feed's `signatures` setting. */
export class FeedSignaturePolicies implements SignaturePolicies {
  constructor(private readonly mode: SignatureMode) {}

  policyFor(): Promise<SignaturePolicy> {
    return Promise.resolve({ name: 'feed default', mode: this.mode, fingerprints: [] });
  }
}

/** The package being decided on, for the policy and the messages. */
export interface SignatureSubject {
  readonly id: string;
  /** `Id Version`, as messages name it. */
  readonly display: string;
  /** The owner it is pushed for (null when mirrored). */
  readonly owner: string | null;
}

/**
 * Decides a package's signature at ingestion (push, stage, import, mirror) under the policy for its id: `accept` checks
 * nothing; `verify` wants a signature that is present to be valid; `require` wants a valid author signature, by one of
 * the policy's certificates when it lists any. A broken signature is a 400, a policy refusal a 403 naming the policy.
 * Returns what to keep with the package (undefined when unsigned or not checked).
 */
export class PackageSignatureCheck {
  constructor(
    private readonly policies: SignaturePolicies,
    private readonly roots: () => Promise<TrustedRoots>,
  ) {}

  async check(file: string, subject: SignatureSubject): Promise<PackageSignatureInfo | undefined> {
    const policy = await this.policies.policyFor(subject.id.toLowerCase(), subject.owner);
    if (policy.mode === 'accept') return undefined;
    const verdict = await verifyPackageSignature(file, subject.display, { roots: await this.roots() });
    if (policy.mode === 'verify') return verdict.status === 'valid' ? verdict.signature : undefined;
    const refuse = (why: string) =>
      new PawketError(403, `Package ${subject.display} ${why}; signature policy '${policy.name}' requires packages of ${subject.id} to be author-signed${policy.fingerprints.length ? ` by ${certificates(policy.fingerprints)}` : ''}.`);
    if (verdict.status === 'unsigned') throw refuse('is not signed');
    const author = verdict.signature.author;
    if (!author) throw refuse('has a repository signature but no author signature');
    if (policy.fingerprints.length && !policy.fingerprints.some((f) => f.toUpperCase() === author.sha256)) {
      throw refuse(`is signed by ${author.subject} (SHA-256 ${author.sha256})`);
    }
    return verdict.signature;
  }
}

function certificates(fingerprints: readonly string[]): string {
  const shown = fingerprints.slice(0, 3).map((f) => f.toUpperCase());
  return `a certificate with SHA-256 fingerprint ${shown.join(' or ')}${fingerprints.length > 3 ? ` (or ${fingerprints.length - 3} more)` : ''}`;
}
