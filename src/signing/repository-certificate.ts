import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** A certificate as the feed lists it (RepositorySignatures) and as packages record who signed them. */
export interface ListedCertificate {
  /** DER, served at the certificate's contentUrl. */
  readonly der: Buffer;
  /** SHA-256 of the DER, upper-case hex (as NuGet prints fingerprints). */
  readonly sha256: string;
  readonly subject: string;
  readonly issuer: string;
  /** ISO. */
  readonly notBefore: string;
  readonly notAfter: string;
}

/** The certificate Pawket signs with, its private key, and the chain put into every signature. */
export interface RepositoryCertificate extends ListedCertificate {
  /** The issuers up to the root, as given (NuGet builds the signer's chain from the certificates in the signature). */
  readonly chain: readonly Buffer[];
  readonly key: KeyObject;
}

/** Where the certificate and key come from (the `repositorySigning*` settings). */
export interface RepositoryCertificateSource {
  /** A PEM file (the certificate first, then its issuers) or a PKCS#12 file (.pfx/.p12). */
  readonly certificate: string;
  /** The PEM private key file, for a PEM certificate. */
  readonly key?: string | undefined;
  /** The PKCS#12 (or encrypted PEM key) password. */
  readonly password?: string | undefined;
}

/** Errors name the file, never the key or the password. */
export class CertificateError extends Error {
  override name = 'CertificateError';
}

const describeCertificate = (cert: X509Certificate): ListedCertificate => ({
  der: cert.raw,
  sha256: cert.fingerprint256.replaceAll(':', ''),
  subject: cert.subject.replaceAll('\n', ', '),
  issuer: cert.issuer.replaceAll('\n', ', '),
  notBefore: new Date(cert.validFrom).toISOString(),
  notAfter: new Date(cert.validTo).toISOString(),
});

/** Every certificate of a PEM text, or the one DER certificate. */
function certificatesIn(bytes: Buffer, file: string): X509Certificate[] {
  const text = bytes.toString('latin1');
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  try {
    return pems ? pems.map((pem) => new X509Certificate(pem)) : [new X509Certificate(bytes)];
  } catch (e) {
    throw new CertificateError(`${file} holds no readable X.509 certificate (${(e as Error).message}).`);
  }
}

/** A certificate listed while packages signed with it remain (rotation): a PEM or DER file. */
export async function loadListedCertificate(file: string): Promise<ListedCertificate> {
  const cert = certificatesIn(await readOrFail(file), file)[0]!;
  return describeCertificate(cert);
}

async function readOrFail(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new CertificateError(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

const isPkcs12 = (file: string, bytes: Buffer) => /\.(pfx|p12)$/i.test(file) || (bytes[0] === 0x30 && !bytes.toString('latin1').includes('-----BEGIN'));

/**
 * Loads the repository certificate: checked to be usable for NuGet repository signatures (an RSA key that matches the
 * certificate, code signing allowed, valid now), so a wrong file stops start-up instead of every push.
 */
export async function loadRepositoryCertificate(source: RepositoryCertificateSource): Promise<RepositoryCertificate> {
  const bytes = await readOrFail(source.certificate);
  let certs: X509Certificate[];
  let key: KeyObject;
  if (isPkcs12(source.certificate, bytes)) {
    ({ certs, key } = await readPkcs12(bytes, source.certificate, source.password ?? ''));
  } else {
    certs = certificatesIn(bytes, source.certificate);
    if (!source.key) throw new CertificateError(`${source.certificate} is a PEM certificate: set repositorySigningKey to its private key file.`);
    const keyBytes = await readOrFail(source.key);
    try {
      key = createPrivateKey({ key: keyBytes, ...(source.password ? { passphrase: source.password } : {}) });
    } catch {
      throw new CertificateError(`${source.key} is not a readable private key (PEM; encrypted keys need repositorySigningPassword).`);
    }
  }
  const publicKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const leaf = certs.find((c) => c.publicKey.export({ type: 'spki', format: 'der' }).equals(publicKey));
  if (!leaf) throw new CertificateError(`No certificate in ${source.certificate} matches the private key.`);
  if (key.asymmetricKeyType !== 'rsa') throw new CertificateError(`The repository certificate's key is ${key.asymmetricKeyType}: NuGet accepts RSA signatures only.`);
  const now = Date.now();
  if (Date.parse(leaf.validTo) < now || Date.parse(leaf.validFrom) > now) {
    throw new CertificateError(`The repository certificate in ${source.certificate} is valid from ${leaf.validFrom} to ${leaf.validTo}, not now.`);
  }
  const eku = leaf.keyUsage;
  if (eku && eku.length && !eku.includes('1.3.6.1.5.5.7.3.3') && !eku.includes('2.5.29.37.0')) {
    throw new CertificateError(`The repository certificate in ${source.certificate} does not allow code signing (extended key usage 1.3.6.1.5.5.7.3.3).`);
  }
  return { ...describeCertificate(leaf), chain: orderedChain(leaf, certs.filter((c) => c !== leaf)), key };
}

/** The issuers of `leaf` among `others`, nearest first (whatever order the file had). */
function orderedChain(leaf: X509Certificate, others: X509Certificate[]): Buffer[] {
  const chain: Buffer[] = [];
  const left = [...others];
  for (let current = leaf; ; ) {
    const i = left.findIndex((c) => current.checkIssued(c) && current.issuer === c.subject);
    if (i < 0 || current.subject === current.issuer) break;
    const [issuer] = left.splice(i, 1);
    chain.push(issuer!.raw);
    current = issuer!;
  }
  return chain;
}

const CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const KEY_BAG = '1.2.840.113549.1.12.10.1.1';

/** The certificates and private key of a PKCS#12 file (pkijs: PBES2 and the legacy PKCS#12 encryptions). */
async function readPkcs12(bytes: Buffer, file: string, password: string): Promise<{ certs: X509Certificate[]; key: KeyObject }> {
  const [pkijs, asn1js] = await Promise.all([import('pkijs'), import('asn1js')]);
  const pass = new TextEncoder().encode(password).buffer as ArrayBuffer;
  const certs: X509Certificate[] = [];
  let key: KeyObject | undefined;
  try {
    const pfx = new pkijs.PFX({ schema: asn1js.fromBER(new Uint8Array(bytes)).result });
    await pfx.parseInternalValues({ password: pass, checkIntegrity: true });
    const safe = pfx.parsedValue?.authenticatedSafe;
    if (!safe) throw new Error('no authenticated safe');
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: pass })) });
    for (const contents of safe.parsedValue?.safeContents ?? []) {
      for (const bag of contents.value.safeBags) {
        if (bag.bagId === CERT_BAG) {
          const value = (bag.bagValue as InstanceType<typeof pkijs.CertBag>).certValue;
          const der = value instanceof asn1js.OctetString ? value.valueBlock.valueHexView : new Uint8Array(value.toSchema().toBER());
          certs.push(new X509Certificate(Buffer.from(der)));
        } else if (bag.bagId === SHROUDED_KEY_BAG) {
          const shrouded = bag.bagValue as InstanceType<typeof pkijs.PKCS8ShroudedKeyBag>;
          // Protected in the typings, public in use (pkijs documents it for PKCS#12 reading).
          await (shrouded as unknown as { parseInternalValues(p: { password: ArrayBuffer }): Promise<void> }).parseInternalValues({ password: pass });
          if (shrouded.parsedValue) key = createPrivateKey({ key: Buffer.from(shrouded.parsedValue.toSchema().toBER()), format: 'der', type: 'pkcs8' });
        } else if (bag.bagId === KEY_BAG) {
          key = createPrivateKey({ key: Buffer.from((bag.bagValue as InstanceType<typeof pkijs.PrivateKeyInfo>).toSchema().toBER()), format: 'der', type: 'pkcs8' });
        }
      }
    }
  } catch {
    // pkijs' messages may quote what it read: say only what to check.
    throw new CertificateError(`${file} could not be opened as PKCS#12: check the file and repositorySigningPassword.`);
  }
  if (!key || !certs.length) throw new CertificateError(`${file} must hold the repository certificate and its private key.`);
  return { certs, key };
}
