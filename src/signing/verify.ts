import { createHash, verify as verifyRsa, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { PawketError } from '../errors.js';
import type { PackageSignatureInfo, SignatureVerdict, SignerSummary } from './signature-info.js';
import { hashSignedContent, readSignedLayout, type SignedContentHash } from './signed-content.js';
import type { TrustedRoots } from './trusted-roots.js';

/** Object identifiers of the CMS, ESS, RFC 3161 and NuGet attributes read here. */
const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  counterSignature: '1.2.840.113549.1.9.6',
  commitmentType: '1.2.840.113549.1.9.16.2.16',
  authorCommitment: '1.2.840.113549.1.9.16.6.1',
  repositoryCommitment: '1.2.840.113549.1.9.16.6.2',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  timestampToken: '1.2.840.113549.1.9.16.2.14',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  serviceIndex: '1.3.6.1.4.1.311.84.2.1.1.1',
  owners: '1.3.6.1.4.1.311.84.2.1.1.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  anyPurpose: '2.5.29.37.0',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  lifetimeSigning: '1.3.6.1.4.1.311.10.3.13',
  sha1: '1.3.14.3.2.26',
} as const;

/** NuGet accepts SHA-256, SHA-384 and SHA-512 for the signed content, signatures, certificates and timestamps. */
const DIGESTS: Readonly<Record<string, SignedContentHash>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
/** RSA PKCS #1 v1.5 signature algorithms; plain rsaEncryption takes the signer's digest algorithm. */
const RSA_SIGNATURES: Readonly<Record<string, SignedContentHash | 'signer'>> = {
  '1.2.840.113549.1.1.1': 'signer',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
/** The most certificates and countersignatures a signature may carry: real ones hold a handful. */
const MAX_CERTIFICATES = 64;
const MAX_UNSIGNED_VALUES = 16;

class SignatureProblem extends Error {}
const problem = (why: string): never => {
  throw new SignatureProblem(why);
};

/** A certificate as read from the signature: pkijs's view (extensions) and Node's (keys, chains). */
interface Cert {
  readonly pkijs: pkijs.Certificate;
  readonly x509: X509Certificate;
  readonly der: Buffer;
}

interface VerifiedSigner {
  readonly info: pkijs.SignerInfo;
  readonly cert: Cert;
}

export interface VerifyOptions {
  readonly roots: TrustedRoots;
  /** The time "now" is for certificates of untimestamped signatures (tests). */
  readonly now?: Date;
}

/**
 * Verifies a package's signature the way NuGet does (`dotnet nuget verify --all`): the signed content hash, the CMS
 * signature, the signer certificate (code signing, RSA ≥ 2048, SHA-2, valid at the timestamp's time or now), the
 * signing-certificate-v2 attribute, RFC 3161 timestamps, a repository countersignature, and chains to trusted roots.
 * An unsigned package is `unsigned`; anything wrong is a 400 that says what.
 */
export async function verifyPackageSignature(file: string, display: string, options: VerifyOptions): Promise<SignatureVerdict> {
  const layout = await readSignedLayout(file);
  if (!layout) return { status: 'unsigned' };
  try {
    const signature = await verifyCms(file, layout, options);
    return { status: 'valid', signature };
  } catch (e) {
    if (e instanceof SignatureProblem) throw new PawketError(400, `The signature of ${display} is not valid: ${e.message}.`);
    if (e instanceof PawketError) throw e;
    throw new PawketError(400, `The signature of ${display} is not valid: it cannot be read as a CMS signature (${(e as Error).message}).`);
  }
}

async function verifyCms(file: string, layout: { signature: Buffer; pieces: unknown }, options: VerifyOptions): Promise<PackageSignatureInfo> {
  const signedData = parseSignedData(layout.signature, 'the package signature');
  const certs = certificatesOf(signedData);
  if (signedData.signerInfos.length !== 1) problem(`it must have exactly one signer, not ${signedData.signerInfos.length}`);
  if (signedData.encapContentInfo.eContentType !== OID.data) problem('its content is not data');
  const content = octets(signedData.encapContentInfo.eContent, 'its content is missing (a detached signature)');
  const { algorithm, hash } = parseSignatureContent(content);
  const actual = await hashSignedContent(file, layout as Parameters<typeof hashSignedContent>[1], algorithm);
  if (!actual.equals(hash)) problem('the package content does not match its signature (it was changed after signing, or the signature belongs to other content)');

  const primary = verifySignerInfo(signedData.signerInfos[0]!, certs, content, 'the primary signature', OID.data);
  const kind = commitmentType(primary.info, 'the primary signature');
  const now = options.now ?? new Date();
  const summary = await checkSigner(primary, certs, kind === 'author' ? 'author' : 'repository', options, now);

  const countersigners = unsignedValues(primary.info, OID.counterSignature).map((v) => new pkijs.SignerInfo({ schema: v }));
  const repositoryCounters = countersigners.filter((c) => attribute(c, OID.commitmentType) && commitmentType(c, 'a countersignature') === 'repository');
  if (repositoryCounters.length > 1) problem('it has more than one repository countersignature');
  if (kind === 'repository') {
    if (repositoryCounters.length) problem('a repository primary signature cannot have a repository countersignature');
    return { repository: { ...summary, ...repositoryAttributes(primary.info) } };
  }
  const result: { author: SignerSummary & { timestamp?: string }; repository?: NonNullable<PackageSignatureInfo['repository']> } = { author: summary };
  const counter = repositoryCounters[0];
  if (counter) {
    // A countersignature signs the primary signature's value (RFC 5652 section 11.4).
    const signer = verifySignerInfo(counter, certs, signatureValue(primary.info), 'the repository countersignature', null);
    const counterSummary = await checkSigner(signer, certs, 'repository countersignature', options, now);
    result.repository = { ...counterSummary, ...repositoryAttributes(counter) };
  }
  return result;
}

/** NuGet's signed content: `Version:1`, then `{hash algorithm oid}-Hash:{base64}`, as header lines. */
function parseSignatureContent(content: Buffer): { algorithm: SignedContentHash; hash: Buffer } {
  if (content.length > 4096) problem('its signed content is not NuGet signature content');
  const text = content.toString('utf8');
  const lines = text.split(/\r?\n/);
  if (lines[0] !== 'Version:1') problem(`its signed content has version '${(lines[0] ?? '').slice(0, 40)}', not 1`);
  for (const line of lines.slice(1)) {
    const m = /^([0-9.]+)-Hash:([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) continue;
    const algorithm = DIGESTS[m[1]!];
    if (!algorithm) continue; // NuGet ignores hashes of algorithms it does not know, and wants one it does
    return { algorithm, hash: Buffer.from(m[2]!, 'base64') };
  }
  return problem('its signed content names no package hash of a supported algorithm (SHA-256, SHA-384, SHA-512)');
}

function parseSignedData(der: Buffer, what: string): pkijs.SignedData {
  const asn = asn1js.fromBER(new Uint8Array(der));
  if (asn.offset === -1) problem(`${what} is not DER-encoded ASN.1`);
  let info: pkijs.ContentInfo;
  try {
    info = new pkijs.ContentInfo({ schema: asn.result });
  } catch {
    return problem(`${what} is not a CMS ContentInfo`);
  }
  if (info.contentType !== OID.signedData) problem(`${what} is not a CMS SignedData`);
  try {
    return new pkijs.SignedData({ schema: info.content });
  } catch {
    return problem(`${what} is not a well-formed CMS SignedData`);
  }
}

function certificatesOf(signedData: pkijs.SignedData): Cert[] {
  const list = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  if (list.length > MAX_CERTIFICATES) problem(`it carries more than ${MAX_CERTIFICATES} certificates`);
  return list.map((c) => {
    const der = Buffer.from(c.toSchema().toBER());
    return { pkijs: c, x509: new X509Certificate(der), der };
  });
}

/** The bytes of an OCTET STRING, primitive or (BER) constructed. */
function octets(value: asn1js.OctetString | undefined, missing: string): Buffer {
  if (!value) return problem(missing);
  if (!value.idBlock.isConstructed) return Buffer.from(value.valueBlock.valueHexView);
  return Buffer.concat((value.valueBlock.value as asn1js.OctetString[]).map((v) => octets(v, missing)));
}

function attribute(info: pkijs.SignerInfo, type: string): pkijs.Attribute | undefined {
  const found = (info.signedAttrs?.attributes ?? []).filter((a) => a.type === type);
  if (found.length > 1) problem(`a signed attribute (${type}) appears more than once`);
  return found[0];
}

function singleValue(attr: pkijs.Attribute, name: string): asn1js.AsnType {
  if (attr.values.length !== 1) problem(`its ${name} attribute must have exactly one value`);
  return attr.values[0] as asn1js.AsnType;
}

function unsignedValues(info: pkijs.SignerInfo, type: string): asn1js.AsnType[] {
  const values = (info.unsignedAttrs?.attributes ?? []).filter((a) => a.type === type).flatMap((a) => a.values as asn1js.AsnType[]);
  if (values.length > MAX_UNSIGNED_VALUES) problem(`it has more than ${MAX_UNSIGNED_VALUES} unsigned attributes of one type`);
  return values;
}

function signatureValue(info: pkijs.SignerInfo): Buffer {
  return Buffer.from(info.signature.valueBlock.valueHexView);
}

function digestOf(info: pkijs.SignerInfo, what: string): SignedContentHash {
  return DIGESTS[info.digestAlgorithm.algorithmId] ?? problem(`${what} uses an unsupported digest algorithm (${info.digestAlgorithm.algorithmId}); NuGet accepts SHA-256, SHA-384 and SHA-512`);
}

function findCertificate(info: pkijs.SignerInfo, certs: readonly Cert[], what: string): Cert {
  const sid = info.sid as pkijs.IssuerAndSerialNumber | asn1js.OctetString;
  const found =
    sid instanceof pkijs.IssuerAndSerialNumber
      ? certs.find((c) => c.pkijs.issuer.isEqual(sid.issuer) && c.pkijs.serialNumber.isEqual(sid.serialNumber))
      : certs.find((c) => {
          const ski = c.pkijs.extensions?.find((e) => e.extnID === '2.5.29.14')?.parsedValue as asn1js.OctetString | undefined;
          return ski && Buffer.from(ski.valueBlock.valueHexView).equals(Buffer.from((sid as asn1js.OctetString).valueBlock.valueHexView));
        });
  return found ?? problem(`the certificate of ${what} is not in the signature`);
}

/** Checks a SignerInfo over `content`: its message digest, content type and RSA signature over its signed attributes. */
function verifySignerInfo(info: pkijs.SignerInfo, certs: readonly Cert[], content: Buffer, what: string, contentType: string | null): VerifiedSigner {
  const digest = digestOf(info, what);
  if (!info.signedAttrs) problem(`${what} has no signed attributes`);
  const md = attribute(info, OID.messageDigest) ?? problem(`${what} has no message digest`);
  const mdValue = singleValue(md, 'message digest');
  if (!(mdValue instanceof asn1js.OctetString) || !octets(mdValue, '').equals(createHash(digest).update(content).digest())) {
    problem(`the message digest of ${what} does not match what it signs`);
  }
  if (contentType) {
    const ct = attribute(info, OID.contentType);
    const value = ct && singleValue(ct, 'content type');
    if (!(value instanceof asn1js.ObjectIdentifier) || value.valueBlock.toString() !== contentType) problem(`the content type attribute of ${what} is wrong`);
  }
  const cert = findCertificate(info, certs, what);
  const scheme = RSA_SIGNATURES[info.signatureAlgorithm.algorithmId] ?? problem(`${what} uses an unsupported signature algorithm (${info.signatureAlgorithm.algorithmId}); NuGet accepts RSA with SHA-2`);
  const hash = scheme === 'signer' ? digest : scheme;
  if (cert.x509.publicKey.asymmetricKeyType !== 'rsa') problem(`the certificate of ${what} does not have an RSA key`);
  const signed = Buffer.from(info.signedAttrs!.encodedValue); // pkijs gives it with the SET tag DER signing uses
  if (!verifyRsa(hash, signed, cert.x509.publicKey, signatureValue(info))) problem(`the cryptographic signature of ${what} does not verify`);
  return { info, cert };
}

function commitmentType(info: pkijs.SignerInfo, what: string): 'author' | 'repository' {
  const attr = attribute(info, OID.commitmentType) ?? problem(`${what} has no commitment type (author or repository)`);
  const value = singleValue(attr, 'commitment type');
  const oid = value instanceof asn1js.Sequence ? value.valueBlock.value[0] : undefined;
  const id = oid instanceof asn1js.ObjectIdentifier ? oid.valueBlock.toString() : '';
  if (id === OID.authorCommitment) return 'author';
  if (id === OID.repositoryCommitment) return 'repository';
  return problem(`${what} has an unknown commitment type (${id || 'unreadable'})`);
}

function repositoryAttributes(info: pkijs.SignerInfo): { serviceIndex?: string; owners?: string[] } {
  const out: { serviceIndex?: string; owners?: string[] } = {};
  const index = attribute(info, OID.serviceIndex) ?? problem('the repository signature has no nuget-v3-service-index-url attribute');
  const url = text(singleValue(index, 'nuget-v3-service-index-url'));
  if (url === undefined || !/^https:\/\//i.test(url)) problem('the repository signature\'s nuget-v3-service-index-url is not an https URL');
  out.serviceIndex = url;
  const owners = attribute(info, OID.owners);
  if (owners) {
    const list = singleValue(owners, 'nuget-package-owners');
    if (!(list instanceof asn1js.Sequence)) problem('the repository signature\'s nuget-package-owners is not a list');
    out.owners = (list as asn1js.Sequence).valueBlock.value.map((v) => text(v) ?? problem('the repository signature\'s nuget-package-owners holds something other than text'));
  }
  return out;
}

function text(value: asn1js.AsnType): string | undefined {
  const v = value as { valueBlock?: { value?: unknown } };
  return typeof v.valueBlock?.value === 'string' ? v.valueBlock.value : undefined;
}

/** ESS signing-certificate(-v2): the first certificate id must be the signer's certificate. */
function checkSigningCertificateAttribute(signer: VerifiedSigner, what: string, allowV1: boolean): void {
  const v2 = attribute(signer.info, OID.signingCertificateV2);
  const v1 = attribute(signer.info, OID.signingCertificate);
  if (v2) {
    const first = firstCertId(singleValue(v2, 'signing-certificate-v2'), what);
    const items = first.valueBlock.value;
    let hash: SignedContentHash = 'sha256';
    let at = 0;
    if (items[0] instanceof asn1js.Sequence) {
      const algorithm = (items[0].valueBlock.value[0] as asn1js.ObjectIdentifier | undefined)?.valueBlock.toString() ?? '';
      hash = DIGESTS[algorithm] ?? problem(`the signing-certificate-v2 attribute of ${what} uses an unsupported hash algorithm`);
      at = 1;
    }
    const certHash = items[at];
    if (!(certHash instanceof asn1js.OctetString) || !octets(certHash, '').equals(createHash(hash).update(signer.cert.der).digest())) {
      problem(`the signing-certificate-v2 attribute of ${what} does not name its certificate`);
    }
    return;
  }
  if (v1 && allowV1) {
    const first = firstCertId(singleValue(v1, 'signing-certificate'), what);
    const certHash = first.valueBlock.value[0];
    if (!(certHash instanceof asn1js.OctetString) || !octets(certHash, '').equals(createHash('sha1').update(signer.cert.der).digest())) {
      problem(`the signing-certificate attribute of ${what} does not name its certificate`);
    }
    return;
  }
  problem(`${what} has no signing-certificate-v2 attribute`);
}

function firstCertId(value: asn1js.AsnType, what: string): asn1js.Sequence {
  const certIds = value instanceof asn1js.Sequence ? value.valueBlock.value[0] : undefined;
  const first = certIds instanceof asn1js.Sequence ? certIds.valueBlock.value[0] : undefined;
  return first instanceof asn1js.Sequence ? first : problem(`the signing certificate attribute of ${what} is malformed`);
}

type SignerRole = 'author' | 'repository' | 'repository countersignature';

/**
 * The checks NuGet makes of a primary signature or repository countersignature: its certificate attribute, its
 * timestamp (whose time then decides the certificate's validity), the certificate itself and its chain.
 */
async function checkSigner(signer: VerifiedSigner, certs: readonly Cert[], role: SignerRole, options: VerifyOptions, now: Date): Promise<SignerSummary & { timestamp?: string }> {
  const what = role === 'author' ? 'the author signature' : `the ${role === 'repository' ? 'repository signature' : role}`;
  if (attribute(signer.info, OID.signingCertificate)) problem(`${what} has a signing-certificate (v1) attribute; NuGet requires only signing-certificate-v2`);
  checkSigningCertificateAttribute(signer, what, false);
  checkCodeSigningCertificate(signer.cert, what);
  const tokens = unsignedValues(signer.info, OID.timestampToken);
  let timestamp: Date | undefined;
  for (const token of tokens) timestamp = verifyTimestamp(token, signer, what, options);
  const lifetime = ekus(signer.cert)?.includes(OID.lifetimeSigning) ?? false;
  const at = timestamp && !lifetime ? timestamp : now;
  checkValidity(signer.cert, at, `the certificate of ${what}`);
  checkChain(signer.cert, certs, options.roots.codeSigning, at, `the certificate of ${what}`, options.roots.enforced);
  return { ...summaryOf(signer.cert), ...(timestamp ? { timestamp: timestamp.toISOString() } : {}) };
}

function summaryOf(cert: Cert): SignerSummary {
  return {
    subject: cert.x509.subject.split('\n').join(', '),
    issuer: cert.x509.issuer.split('\n').join(', '),
    sha256: cert.x509.fingerprint256.replaceAll(':', '').toUpperCase(),
    notBefore: new Date(cert.x509.validFrom).toISOString(),
    notAfter: new Date(cert.x509.validTo).toISOString(),
  };
}

function ekus(cert: Cert): string[] | undefined {
  const ext = cert.pkijs.extensions?.find((e) => e.extnID === OID.extendedKeyUsage);
  return ext ? ((ext.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? []) : undefined;
}

function checkCodeSigningCertificate(cert: Cert, what: string): void {
  const key = cert.x509.publicKey;
  if (key.asymmetricKeyType !== 'rsa') problem(`the certificate of ${what} does not have an RSA key`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) problem(`the certificate of ${what} has a ${bits}-bit RSA key; NuGet requires at least 2048 bits`);
  const algorithm = RSA_SIGNATURES[cert.pkijs.signatureAlgorithm.algorithmId];
  if (!algorithm || algorithm === 'signer') problem(`the certificate of ${what} is signed with an unsupported algorithm (${cert.pkijs.signatureAlgorithm.algorithmId}); NuGet requires SHA-2 with RSA`);
  const purposes = ekus(cert);
  if (purposes && !purposes.includes(OID.codeSigning) && !purposes.includes(OID.anyPurpose)) problem(`the certificate of ${what} is not for code signing (no code signing extended key usage)`);
  checkDigitalSignatureUsage(cert, what);
}

function checkDigitalSignatureUsage(cert: Cert, what: string): void {
  const usage = cert.pkijs.extensions?.find((e) => e.extnID === OID.keyUsage)?.parsedValue as asn1js.BitString | undefined;
  if (usage && !((usage.valueBlock.valueHexView[0] ?? 0) & 0x80)) problem(`the certificate of ${what} may not make digital signatures (key usage)`);
}

function checkValidity(cert: Cert, at: Date, what: string): void {
  if (at < new Date(cert.x509.validFrom)) problem(`${what} (${summaryOf(cert).subject}) was not yet valid at ${at.toISOString()}`);
  if (at > new Date(cert.x509.validTo)) problem(`${what} (${summaryOf(cert).subject}) had expired at ${at.toISOString()}`);
}

/**
 * Builds the chain from `leaf` through the signature's certificates to a trusted root, checking each link's signature
 * and each certificate's validity at `at`. Without a trust store (`enforced` false) the chain is checked up to its
 * own root, which is then accepted (the server logged at start-up that roots are not checked).
 */
function checkChain(leaf: Cert, pool: readonly Cert[], roots: readonly X509Certificate[], at: Date, what: string, enforced: boolean): void {
  let current = leaf.x509;
  for (let depth = 0; depth < 10; depth++) {
    if (roots.some((r) => r.fingerprint256 === current.fingerprint256)) return;
    const root = roots.find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root) {
      if (at < new Date(root.validFrom) || at > new Date(root.validTo)) problem(`the root of ${what} (${root.subject.split('\n').join(', ')}) was not valid at ${at.toISOString()}`);
      return;
    }
    const selfSigned = current.checkIssued(current) && current.verify(current.publicKey);
    if (selfSigned) {
      if (!enforced) return;
      problem(`${what} chains to a root this server does not trust (${current.subject.split('\n').join(', ')}, SHA-256 ${current.fingerprint256.replaceAll(':', '')})`);
    }
    const issuer = pool.find((c) => c.x509.fingerprint256 !== current.fingerprint256 && current.checkIssued(c.x509) && current.verify(c.x509.publicKey));
    if (!issuer) return problem(`the issuer of ${what} (${current.issuer.split('\n').join(', ')}) is neither in the signature nor a trusted root`);
    if (!issuer.x509.ca) problem(`${what} is issued by a certificate that is not a certification authority`);
    checkValidity(issuer, at, `an issuing certificate of ${what}`);
    current = issuer.x509;
  }
  problem(`the certificate chain of ${what} is too long`);
}

/**
 * An RFC 3161 timestamp of a signer: a valid token by a timestamping certificate over the signer's signature value,
 * whose time lies inside the signer certificate's validity. Returns that time.
 */
function verifyTimestamp(token: asn1js.AsnType, signer: VerifiedSigner, what: string, options: VerifyOptions): Date {
  const where = `the timestamp of ${what}`;
  const der = Buffer.from((token as asn1js.Sequence).toBER());
  const signedData = parseSignedData(der, where);
  if (signedData.encapContentInfo.eContentType !== OID.tstInfo) problem(`${where} does not hold a timestamp (TSTInfo)`);
  if (signedData.signerInfos.length !== 1) problem(`${where} must have exactly one signer`);
  const certs = certificatesOf(signedData);
  const content = octets(signedData.encapContentInfo.eContent, `${where} is empty`);
  const tsa = verifySignerInfo(signedData.signerInfos[0]!, certs, content, where, OID.tstInfo);
  checkSigningCertificateAttribute(tsa, where, true);
  let info: pkijs.TSTInfo;
  try {
    info = pkijs.TSTInfo.fromBER(new Uint8Array(content));
  } catch {
    return problem(`${where} holds a malformed TSTInfo`);
  }
  const imprintHash = DIGESTS[info.messageImprint.hashAlgorithm.algorithmId] ?? problem(`${where} uses an unsupported hash algorithm`);
  const imprint = Buffer.from(info.messageImprint.hashedMessage.valueBlock.valueHexView);
  if (!imprint.equals(createHash(imprintHash).update(signatureValue(signer.info)).digest())) problem(`${where} is not over this signature`);
  const time = info.genTime;
  const purposes = ekus(tsa.cert);
  if (!purposes?.includes(OID.timeStamping)) problem(`the certificate of ${where} is not a timestamping certificate`);
  checkDigitalSignatureUsage(tsa.cert, where);
  const bits = tsa.cert.x509.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) problem(`the certificate of ${where} has a ${bits}-bit RSA key; at least 2048 bits are required`);
  checkValidity(tsa.cert, time, `the certificate of ${where}`);
  checkChain(tsa.cert, certs, options.roots.timestamping, time, `the certificate of ${where}`, options.roots.enforced);
  const signerFrom = new Date(signer.cert.x509.validFrom);
  const signerTo = new Date(signer.cert.x509.validTo);
  if (time < signerFrom || time > signerTo) problem(`${where} (${time.toISOString()}) is outside its signing certificate's validity`);
  return time;
}
