/** Who signed a package, as kept with the package and shown on its pages and in its registration. */
export interface SignerSummary {
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 fingerprint of the signer certificate, upper-case hex. */
  readonly sha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

export interface PackageSignatureInfo {
  /** The author primary signature; `timestamp` is the verified timestamp's time (ISO). */
  readonly author?: SignerSummary & { readonly timestamp?: string };
  /** The repository signature (primary or countersignature). */
  readonly repository?: SignerSummary & {
    readonly serviceIndex?: string;
    readonly owners?: readonly string[];
    readonly timestamp?: string;
  };
}

/** What verification concluded about a package: unsigned, or valid with who signed. Invalid is a thrown PawketError(400). */
export type SignatureVerdict =
  | { readonly status: 'unsigned' }
  | { readonly status: 'valid'; readonly signature: PackageSignatureInfo };

/** The policy that decides for one id (per-pattern/owner policies are stored; the feed setting is the default). */
export interface SignaturePolicy {
  readonly name: string;
  readonly mode: 'accept' | 'verify' | 'require';
  readonly fingerprints: readonly string[];
}

export interface SignaturePolicies {
  policyFor(lowerId: string, owner: string | null): Promise<SignaturePolicy>;
}
