import { randomUUID } from 'node:crypto';
import { readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config/load.js';
import { PawketError } from '../errors.js';
import { DerError } from './der.js';
import { CertificateError, loadListedCertificate, loadRepositoryCertificate, type ListedCertificate, type RepositoryCertificate } from './repository-certificate.js';
import {
  primarySignatureKind,
  repositoryCountersignature,
  repositoryPrimarySignature,
  type MadeSignature,
  type RepositoryClaims,
  type SigningSetup,
} from './repository-signature.js';
import type { SignerSummary } from './signature-info.js';
import { readSignatureEntry, readZipLayout, unsignedContentHash, writeSignedPackage, ZipLayoutError } from './signed-zip.js';
import { TimestampError } from './timestamp-client.js';

/** Who repository-signed a package, as kept in its stored metadata (`signature.repository`). */
export type RepositorySignerSummary = SignerSummary & { readonly serviceIndex?: string; readonly owners?: readonly string[]; readonly timestamp?: string };

/** A package file and its size and hash (base64 SHA-512), as ingestion handles it. */
export interface PackageFile {
  readonly file: string;
  readonly size: number;
  readonly sha512: string;
}

/** What the repository-signing settings give, loaded once per process. */
export interface RepositorySigningKeys {
  readonly current: RepositoryCertificate;
  /** Certificates packages may still be signed with (rotation): listed until `pawket resign` re-signed them. */
  readonly previous: readonly ListedCertificate[];
  readonly timestampUrl?: string | undefined;
}

/** The `repositorySigning*` settings. */
export interface RepositorySigningSettings {
  readonly repositorySigningCertificate?: string | undefined;
  readonly repositorySigningKey?: string | undefined;
  readonly repositorySigningPassword?: string | undefined;
  readonly repositorySigningPasswordFile?: string | undefined;
  readonly repositorySigningTimestampUrl?: string | undefined;
  readonly repositorySigningPreviousCertificates: readonly string[];
}

/**
 * The certificate, key and previous certificates the settings name; null when repository signing is off. A file that
 * cannot be used stops start-up with a configuration error naming the setting (never the key or the password).
 */
export async function loadRepositorySigningKeys(config: RepositorySigningSettings): Promise<RepositorySigningKeys | null> {
  if (!config.repositorySigningCertificate) return null;
  try {
    const current = await loadRepositoryCertificate({
      certificate: config.repositorySigningCertificate,
      key: config.repositorySigningKey,
      password: config.repositorySigningPassword ?? (config.repositorySigningPasswordFile ? await readPassword(config.repositorySigningPasswordFile) : undefined),
    });
    const previous = (await Promise.all(config.repositorySigningPreviousCertificates.map(loadListedCertificate))).filter((c) => c.sha256 !== current.sha256);
    return { current, previous, timestampUrl: config.repositorySigningTimestampUrl };
  } catch (e) {
    if (e instanceof CertificateError) throw new ConfigError(`Invalid configuration: repository signing (repositorySigningCertificate): ${e.message}`);
    throw e;
  }
}

async function readPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (e) {
    throw new CertificateError(`Cannot read the password file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

/**
 * Adds the repository's signature to a package file, in place: a repository primary signature on an unsigned package
 * (or one whose primary signature is another repository's), a repository countersignature on an author-signed one.
 * The file is rewritten beside itself and renamed over the original, so the caller's cleanup still holds.
 */
export class RepositorySigner {
  constructor(private readonly keys: RepositorySigningKeys) {}

  get certificate(): RepositoryCertificate {
    return this.keys.current;
  }

  async sign(pkg: PackageFile, claims: RepositoryClaims, now = new Date()): Promise<{ file: PackageFile; signer: RepositorySignerSummary }> {
    const setup: SigningSetup = { certificate: this.keys.current, timestampUrl: this.keys.timestampUrl, now: () => now };
    const target = join(dirname(pkg.file), `signing-${randomUUID()}.nupkg`);
    try {
      const layout = await readZipLayout(pkg.file);
      const existing = await readSignatureEntry(pkg.file, layout);
      let made: MadeSignature;
      if (existing && primarySignatureKind(existing) !== 'repository') {
        made = await repositoryCountersignature(existing, setup, claims);
      } else {
        made = await repositoryPrimarySignature(await unsignedContentHash(pkg.file, layout), setup, claims);
      }
      const written = await writeSignedPackage(pkg.file, layout, made.cms, target, now);
      await rename(target, pkg.file);
      const cert = this.keys.current;
      return {
        file: { file: pkg.file, ...written },
        signer: {
          subject: cert.subject,
          issuer: cert.issuer,
          sha256: cert.sha256,
          notBefore: cert.notBefore,
          notAfter: cert.notAfter,
          serviceIndex: claims.serviceIndex,
          owners: claims.owners,
          ...(made.timestamp ? { timestamp: made.timestamp } : {}),
        },
      };
    } catch (e) {
      await rm(target, { force: true });
      if (e instanceof ZipLayoutError || e instanceof DerError) {
        throw new PawketError(400, `The package cannot be repository-signed: ${e.message}. Nothing was stored.`);
      }
      if (e instanceof TimestampError) {
        throw new PawketError(503, `The package could not be repository-signed because ${e.message}. Nothing was stored; try again later.`, {}, e);
      }
      if (e instanceof PawketError) throw e;
      throw new PawketError(400, `The package's signature cannot be countersigned by the repository: ${(e as Error).message}. Nothing was stored.`, {}, e);
    }
  }
}

/** The service index URL of a feed on a server whose public URL is `baseUrl`: the default feed's is unprefixed. */
export function feedServiceIndexUrl(baseUrl: string, feed: { readonly isDefault: boolean; readonly name: string }): string {
  return `${baseUrl.replace(/\/+$/, '')}${feed.isDefault ? '' : `/f/${feed.name}`}/v3/index.json`;
}

/**
 * Repository signing as one feed's ingestion uses it (push, stage, import, mirroring): once, after verification and
 * before the file is stored, so the stored bytes, size and SHA-512 are the signed package's.
 */
export class FeedRepositorySigning {
  constructor(
    private readonly signer: RepositorySigner,
    private readonly serviceIndex: string,
    /** The id's owners at signing time (nuget-package-owners). */
    private readonly ownersOf: (id: string) => Promise<readonly string[]>,
  ) {}

  /** The current certificate's SHA-256 (upper-case hex). */
  get fingerprint(): string {
    return this.signer.certificate.sha256;
  }

  /** This feed's service index URL, as signatures name it. */
  get serviceIndexUrl(): string {
    return this.serviceIndex;
  }

  /** Signs the package file in place; `ownersIfNone` names the owners of an id not registered yet (staging). */
  async sign<T extends PackageFile>(pkg: T, id: string, ownersIfNone: readonly string[] = []): Promise<{ upload: T; signer: RepositorySignerSummary }> {
    const registered = await this.ownersOf(id);
    const owners = [...(registered.length ? registered : ownersIfNone)].sort();
    const { file, signer } = await this.signer.sign(pkg, { serviceIndex: this.serviceIndex, owners });
    return { upload: { ...pkg, ...file }, signer };
  }
}

function fingerprintFirst(signer: RepositorySignerSummary): RepositorySignerSummary {
  const { sha256, ...rest } = signer;
  return { sha256, ...rest };
}

/** Stored metadata (JSON text) with the repository signer added to its `signature` (beside the author's, if any). */
export function withRepositorySigner(metadata: string, signer: RepositorySignerSummary | undefined): string {
  if (!signer) return metadata;
  const parsed = JSON.parse(metadata) as { signature?: Record<string, unknown> };
  // The fingerprint first: counting a certificate's packages looks for `"repository":{"sha256":"…"` in the text.
  return JSON.stringify({ ...parsed, signature: { ...parsed.signature, repository: fingerprintFirst(signer) } });
}
