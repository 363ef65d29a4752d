import { createHash, sign } from 'node:crypto';
import {
  algorithm,
  bytesOf,
  children,
  context,
  ia5String,
  integer,
  octetString,
  oid,
  oidText,
  readTlv,
  sequence,
  setOf,
  time,
  tlv,
  utf8String,
  valueOf,
  type Tlv,
} from './der.js';
import type { RepositoryCertificate } from './repository-certificate.js';
import { requestTimestamp } from './timestamp-client.js';

/** The OIDs of NuGet package signatures (NuGet's signing specification, RFC 5652, RFC 5126, RFC 5035). */
export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  counterSignature: '1.2.840.113549.1.9.6',
  commitmentType: '1.2.840.113549.1.9.16.2.16',
  proofOfOrigin: '1.2.840.113549.1.9.16.6.1',
  proofOfReceipt: '1.2.840.113549.1.9.16.6.2',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  timestampToken: '1.2.840.113549.1.9.16.2.14',
  serviceIndexUrl: '1.3.6.1.4.1.311.84.2.1.1.1',
  packageOwners: '1.3.6.1.4.1.311.84.2.1.1.2',
} as const;

/** What a repository signature says besides who signed: the feed and the id's owners. */
export interface RepositoryClaims {
  /** The feed's service index URL (https; NuGet refuses anything else). */
  readonly serviceIndex: string;
  /** The id's owners (the attribute is left out when there are none). */
  readonly owners: readonly string[];
}

export interface SigningSetup {
  readonly certificate: RepositoryCertificate;
  /** RFC 3161 timestamp authority; none: the signature is not timestamped. */
  readonly timestampUrl?: string | undefined;
  /** Fixed signing time (tests); now by default. */
  readonly now?: () => Date;
}

/** The new signature file's bytes and the timestamp's time, if timestamped. */
export interface MadeSignature {
  readonly cms: Buffer;
  readonly timestamp?: string;
}

export type PrimarySignatureKind = 'author' | 'repository' | 'unknown';

/** The text NuGet signs: the hash of the package without its signature entry. */
export const signatureContent = (contentSha256: Buffer): Buffer =>
  Buffer.from(`Version:1\n\n${OID.sha256}-Hash:${contentSha256.toString('base64')}\n\n`, 'ascii');

const attribute = (type: string, ...values: Buffer[]) => sequence(oid(type), setOf(...values));

/** The certificate's issuer Name and serialNumber TLVs, copied from its TBSCertificate. */
function issuerAndSerial(der: Buffer): { issuer: Buffer; serial: Buffer } {
  const tbs = children(der, readTlv(der))[0]!;
  const fields = children(der, tbs);
  const at = fields[0]!.tag === context(0) ? 1 : 0;
  return { serial: bytesOf(der, fields[at]!), issuer: bytesOf(der, fields[at + 2]!) };
}

function signedAttributes(setup: SigningSetup, claims: RepositoryClaims, digest: Buffer, primary: boolean): Buffer[] {
  const cert = setup.certificate;
  const { issuer, serial } = issuerAndSerial(cert.der);
  const certHash = createHash('sha256').update(cert.der).digest();
  // ESSCertIDv2 with SHA-256, the DEFAULT hash algorithm, so left out (DER); issuerSerial names the certificate too.
  const essCertId = sequence(octetString(certHash), sequence(sequence(tlv(context(4), issuer)), serial));
  const attrs = [
    attribute(OID.signingTime, time(setup.now?.() ?? new Date())),
    attribute(OID.messageDigest, octetString(digest)),
    attribute(OID.commitmentType, sequence(oid(OID.proofOfReceipt))),
    attribute(OID.signingCertificateV2, sequence(sequence(essCertId))),
    attribute(OID.serviceIndexUrl, ia5String(claims.serviceIndex)),
  ];
  if (claims.owners.length) attrs.push(attribute(OID.packageOwners, sequence(...claims.owners.map(utf8String))));
  // A countersignature carries no content type (RFC 5652, 11.1).
  if (primary) attrs.push(attribute(OID.contentType, oid(OID.data)));
  return attrs;
}

/** A SignerInfo by the repository certificate over `digest`, timestamped when a timestamp authority is set. */
async function signerInfo(setup: SigningSetup, claims: RepositoryClaims, digest: Buffer, primary: boolean): Promise<{ der: Buffer; timestamp?: string }> {
  const signed = setOf(...signedAttributes(setup, claims, digest, primary));
  const value = sign('sha256', signed, setup.certificate.key);
  const unsigned: Buffer[] = [];
  let timestamp: string | undefined;
  if (setup.timestampUrl) {
    const token = await requestTimestamp(setup.timestampUrl, value);
    unsigned.push(attribute(OID.timestampToken, token.token));
    timestamp = token.time;
  }
  const { issuer, serial } = issuerAndSerial(setup.certificate.der);
  const der = sequence(
    integer(1),
    sequence(issuer, serial),
    algorithm(OID.sha256),
    // [0] IMPLICIT SET OF: the very bytes signed, retagged.
    Buffer.concat([Buffer.from([context(0)]), signed.subarray(1)]),
    algorithm(OID.rsaEncryption),
    octetString(value),
    ...(unsigned.length ? [retag(setOf(...unsigned), context(1))] : []),
  );
  return { der, ...(timestamp ? { timestamp } : {}) };
}

const retag = (set: Buffer, tag: number) => Buffer.concat([Buffer.from([tag]), set.subarray(1)]);

const certificates = (setup: SigningSetup) => [setup.certificate.der, ...setup.certificate.chain];

/** A repository primary signature for a package whose content (without a signature entry) hashes to `contentSha256`. */
export async function repositoryPrimarySignature(contentSha256: Buffer, setup: SigningSetup, claims: RepositoryClaims): Promise<MadeSignature> {
  const content = signatureContent(contentSha256);
  const signer = await signerInfo(setup, claims, createHash('sha256').update(content).digest(), true);
  const signedData = sequence(
    integer(1),
    setOf(algorithm(OID.sha256)),
    sequence(oid(OID.data), tlv(context(0), octetString(content))),
    tlv(context(0), ...certificates(setup)),
    setOf(signer.der),
  );
  return { cms: sequence(oid(OID.signedData), tlv(context(0), signedData)), ...(signer.timestamp ? { timestamp: signer.timestamp } : {}) };
}

/** The parts of a CMS SignedData the countersigning rewrites; everything else is copied as it is. */
interface ParsedSignature {
  readonly buf: Buffer;
  readonly fields: Tlv[];
  readonly signerInfos: Tlv;
  readonly primary: Tlv;
}

function parse(cms: Buffer): ParsedSignature {
  const [type, wrapped] = children(cms, readTlv(cms));
  if (!type || oidText(valueOf(cms, type)) !== OID.signedData || wrapped?.tag !== context(0)) throw new Error('the signature is not CMS SignedData');
  const fields = children(cms, children(cms, wrapped)[0]!);
  const signerInfos = fields[fields.length - 1]!;
  const primary = children(cms, signerInfos)[0];
  if (!primary) throw new Error('the signature has no signer');
  return { buf: cms, fields, signerInfos, primary };
}

/** The commitment type a SignerInfo's signed attributes declare. */
function kindOf(buf: Buffer, signer: Tlv): PrimarySignatureKind {
  const attrs = children(buf, signer).find((t) => t.tag === context(0));
  for (const attr of attrs ? children(buf, attrs) : []) {
    const [type, values] = children(buf, attr);
    if (!type || !values || oidText(valueOf(buf, type)) !== OID.commitmentType) continue;
    const indication = children(buf, values)[0];
    const id = indication && children(buf, indication)[0];
    const text = id ? oidText(valueOf(buf, id)) : '';
    return text === OID.proofOfReceipt ? 'repository' : text === OID.proofOfOrigin ? 'author' : 'unknown';
  }
  return 'unknown';
}

/** Whether the signature file's primary signature is an author's, a repository's, or neither says. */
export function primarySignatureKind(cms: Buffer): PrimarySignatureKind {
  const parsed = parse(cms);
  return kindOf(cms, parsed.primary);
}

/**
 * The signature file with a repository countersignature on its primary signer (an author's): any repository
 * countersignature there was is replaced (one per package, as NuGet allows); the primary signer's own fields and every
 * certificate stay byte for byte, so the author signature still verifies.
 */
export async function repositoryCountersignature(cms: Buffer, setup: SigningSetup, claims: RepositoryClaims): Promise<MadeSignature> {
  const { buf, fields, signerInfos, primary } = parse(cms);
  const parts = children(buf, primary);
  const signatureValue = parts.find((t, i) => i > 0 && t.tag === 0x04);
  if (!signatureValue) throw new Error('the primary signer has no signature value');
  const counter = await signerInfo(setup, claims, createHash('sha256').update(valueOf(buf, signatureValue)).digest(), false);

  const oldUnsigned = parts.find((t) => t.tag === context(1));
  const keptAttributes: Buffer[] = [];
  for (const attr of oldUnsigned ? children(buf, oldUnsigned) : []) {
    const [type, values] = children(buf, attr);
    if (!type || !values || oidText(valueOf(buf, type)) !== OID.counterSignature) {
      keptAttributes.push(bytesOf(buf, attr));
      continue;
    }
    const others = children(buf, values).filter((signer) => kindOf(buf, signer) !== 'repository');
    if (others.length) keptAttributes.push(sequence(bytesOf(buf, type), setOf(...others.map((s) => bytesOf(buf, s)))));
  }
  keptAttributes.push(attribute(OID.counterSignature, counter.der));
  const newPrimary = sequence(...parts.filter((t) => t !== oldUnsigned).map((t) => bytesOf(buf, t)), retag(setOf(...keptAttributes), context(1)));

  const rebuilt: Buffer[] = [];
  const certsField = fields.find((t) => t.tag === context(0));
  for (const field of fields) {
    if (field === signerInfos) {
      const rest = children(buf, signerInfos).slice(1).map((s) => bytesOf(buf, s));
      rebuilt.push(setOf(newPrimary, ...rest));
    } else if (field === fields[1]) {
      // digestAlgorithms: SHA-256 is the countersignature's.
      const algs = children(buf, field).map((a) => bytesOf(buf, a));
      if (!algs.some((a) => a.equals(algorithm(OID.sha256)))) algs.push(algorithm(OID.sha256));
      rebuilt.push(setOf(...algs));
      if (!certsField && fields[2]) {
        rebuilt.push(bytesOf(buf, fields[2]), tlv(context(0), ...certificates(setup)));
      }
    } else if (field === fields[2] && !certsField) {
      continue; // written above, with the new certificates after it
    } else if (field === certsField) {
      const present = children(buf, field).map((c) => bytesOf(buf, c));
      const added = certificates(setup).filter((c) => !present.some((p) => p.equals(c)));
      rebuilt.push(tlv(context(0), ...present, ...added));
    } else {
      rebuilt.push(bytesOf(buf, field));
    }
  }
  return {
    cms: sequence(oid(OID.signedData), tlv(context(0), sequence(...rebuilt))),
    ...(counter.timestamp ? { timestamp: counter.timestamp } : {}),
  };
}
