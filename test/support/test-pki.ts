import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Made once per checkout and reused (git-ignored): creating keys and copying the SDK costs seconds, not per test file. */
const PKI_DIR = join(REPO, '.tools', 'test-pki');
const PASSWORD = 'pawket-test';

/** A certificate the tests made: its files and its SHA-256 fingerprint (upper-case hex, as NuGet prints it). */
export interface TestCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** PKCS#12 with the key and the chain, password `password`: what `dotnet nuget sign --certificate-path` takes. */
  readonly pfx: string;
  readonly password: string;
  readonly sha256: string;
  readonly subject: string;
}

export interface TestPki {
  readonly dir: string;
  /** The test root every certificate below chains to (except `untrusted`). */
  readonly root: TestCertificate;
  /** Code signing (EKU codeSigning) under `root`: the author certificate. */
  readonly author: TestCertificate;
  /** Another code-signing certificate under `root`: "signed, but by someone else". */
  readonly otherAuthor: TestCertificate;
  /** Code signing under a root nobody trusts. */
  readonly untrusted: TestCertificate;
  /** The repository signing certificate (code signing EKU) under `root`. */
  readonly repository: TestCertificate;
  /** The timestamp authority's certificate (EKU timeStamping, critical) under `root`. */
  readonly tsa: TestCertificate;
  /** The openssl configuration with the TSA section (`openssl ts -reply -config`). */
  readonly opensslConfig: string;
}

const CONFIG = `[req]
distinguished_name=dn
[dn]
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[code]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=codeSigning
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[tsa]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[tsa_section]
default_tsa=tsa_config
[tsa_config]
serial=./tsa-serial
signer_digest=sha256
default_policy=1.2.3.4.1
digests=sha256,sha384,sha512
accuracy=secs:1
ess_cert_id_alg=sha256
ess_cert_id_chain=no
`;

const openssl = (cwd: string, ...args: string[]) => run('openssl', args, { cwd });

async function certificate(dir: string, name: string, subject: string, profile: 'ca' | 'code' | 'tsa', issuer?: string): Promise<void> {
  const days = '3650';
  if (!issuer) {
    await openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', subject, '-days', days, '-config', 'openssl.cnf', '-extensions', profile, '-sha256');
  } else {
    await openssl(dir, 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject, '-config', 'openssl.cnf');
    await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', days, '-extfile', 'openssl.cnf', '-extensions', profile, '-sha256');
  }
  const chain = issuer ? ['-certfile', `${issuer}.crt`] : [];
  await openssl(dir, 'pkcs12', '-export', '-inkey', `${name}.key`, '-in', `${name}.crt`, ...chain, '-out', `${name}.pfx`, '-passout', `pass:${PASSWORD}`);
}

async function describe(dir: string, name: string): Promise<TestCertificate> {
  const certPem = join(dir, `${name}.crt`);
  const cert = new X509Certificate(await readFile(certPem));
  return {
    certPem,
    keyPem: join(dir, `${name}.key`),
    pfx: join(dir, `${name}.pfx`),
    password: PASSWORD,
    sha256: cert.fingerprint256.replaceAll(':', ''),
    subject: cert.subject.replaceAll('\n', ', '),
  };
}

async function load(dir: string): Promise<TestPki> {
  const names = ['root', 'author', 'otherAuthor', 'untrusted', 'repository', 'tsa'] as const;
  const certs = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await describe(dir, n)] as const))) as Record<(typeof names)[number], TestCertificate>;
  return { dir, ...certs, opensslConfig: join(dir, 'openssl.cnf') };
}

/**
 * The test PKI, made with openssl the first time (about a second) and reused after: a root, two author certificates,
 * one under an untrusted root, a repository certificate and a timestamp authority. Nothing comes from outside.
 */
export async function testPki(): Promise<TestPki> {
  if (existsSync(join(PKI_DIR, 'complete'))) return load(PKI_DIR);
  await mkdir(dirname(PKI_DIR), { recursive: true });
  // Made aside and renamed into place, so concurrent test files never see half of it.
  const dir = await mkdtemp(join(dirname(PKI_DIR), 'test-pki-'));
  await writeFile(join(dir, 'openssl.cnf'), CONFIG);
  await writeFile(join(dir, 'tsa-serial'), '01\n');
  await certificate(dir, 'root', '/CN=Pawket Test Root/O=Pawket Tests', 'ca');
  await certificate(dir, 'otherRoot', '/CN=Pawket Untrusted Root/O=Pawket Tests', 'ca');
  await certificate(dir, 'author', '/CN=Pawket Test Author/O=Contoso', 'code', 'root');
  await certificate(dir, 'otherAuthor', '/CN=Pawket Other Author/O=Fabrikam', 'code', 'root');
  await certificate(dir, 'untrusted', '/CN=Pawket Untrusted Author/O=Nobody', 'code', 'otherRoot');
  await certificate(dir, 'repository', '/CN=Pawket Test Repository/O=Pawket Tests', 'code', 'root');
  await certificate(dir, 'tsa', '/CN=Pawket Test Timestamp Authority/O=Pawket Tests', 'tsa', 'root');
  await writeFile(join(dir, 'complete'), '');
  try {
    await rename(dir, PKI_DIR);
  } catch {
    await rm(dir, { recursive: true, force: true }); // another test file made it first
  }
  return load(PKI_DIR);
}

export interface TimestampAuthority {
  /** The RFC 3161 endpoint (`dotnet nuget sign --timestamper`, Pawket's timestamp setting). */
  readonly url: string;
  /** Requests answered. */
  readonly requests: () => number;
  close(): Promise<void>;
}

/** An RFC 3161 timestamp authority on loopback: each POSTed query answered by `openssl ts -reply`. */
export async function startTimestampAuthority(pki: TestPki): Promise<TimestampAuthority> {
  const work = await mkdtemp(join(tmpdir(), 'pawket-tsa-'));
  await cp(join(pki.dir, 'tsa-serial'), join(work, 'tsa-serial'));
  let count = 0;
  let sequence = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const n = ++sequence;
      const query = join(work, `${n}.tsq`);
      const reply = join(work, `${n}.tsr`);
      void (async () => {
        try {
          await writeFile(query, Buffer.concat(chunks));
          // -config's serial file is relative: run in `work`, which holds the copy of it.
          await run('openssl', ['ts', '-reply', '-config', pki.opensslConfig, '-section', 'tsa_config', '-queryfile', query, '-inkey', pki.tsa.keyPem, '-signer', pki.tsa.certPem, '-chain', pki.root.certPem, '-out', reply], { cwd: work });
          const body = await readFile(reply);
          count++;
          res.writeHead(200, { 'content-type': 'application/timestamp-reply', 'content-length': body.length }).end(body);
        } catch (e) {
          res.writeHead(500).end(String((e as { stderr?: string }).stderr ?? e));
        } finally {
          await rm(query, { force: true });
          await rm(reply, { force: true });
        }
      })();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: () => count,
    close: async () => {
      await new Promise<void>((ok) => server.close(() => ok()));
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** The dotnet executable on PATH and the folder it lives in (symlinks resolved). */
async function installedDotnet(): Promise<string> {
  const { stdout } = await run('bash', ['-c', 'readlink -f "$(command -v dotnet)"']);
  return dirname(stdout.trim());
}

/**
 * A dotnet that trusts the test root for code signing and timestamping, for `dotnet nuget sign|verify` and restores
 * with `signatureValidationMode=require`. On Linux NuGet trusts the roots in the SDK's own
 * `trustedroots/codesignctl.pem` and `timestampctl.pem` (when the system has no code-signing bundle), found beside its
 * assemblies: so this is a copy of the SDK (hard links where the filesystem allows; made once per SDK version and
 * root) whose two bundles add the test root. Run it with `DOTNET_ROOT` set to its folder (see `trustingDotnetEnv`).
 */
export async function dotnetTrustingTestRoot(pki: TestPki): Promise<string> {
  const installed = await installedDotnet();
  const versions = (await readdir(join(installed, 'sdk'))).filter((v) => /^\d/.test(v));
  const rootPem = await readFile(pki.root.certPem, 'utf8');
  const tag = createHash('sha256').update(versions.join(',')).update(rootPem).digest('hex').slice(0, 12);
  const target = join(REPO, '.tools', `dotnet-trusting-${tag}`);
  if (existsSync(join(target, 'complete'))) return join(target, 'dotnet');
  const dir = await mkdtemp(join(REPO, '.tools', 'dotnet-trusting-'));
  // The host resolves its own location through symlinks: the executable is copied, the rest linked or copied.
  await cp(join(installed, 'dotnet'), join(dir, 'dotnet'));
  for (const entry of await readdir(installed)) {
    if (entry === 'dotnet' || entry === 'sdk') continue;
    await run('ln', ['-s', join(installed, entry), join(dir, entry)]);
  }
  await mkdir(join(dir, 'sdk'));
  for (const version of versions) {
    const sdk = join(dir, 'sdk', version);
    // NuGet finds the bundles next to its assemblies' real paths, so the SDK is hard-linked (or copied), not symlinked.
    await run('cp', ['-al', join(installed, 'sdk', version), sdk]).catch(() => run('cp', ['-r', join(installed, 'sdk', version), sdk]));
    const roots = join(sdk, 'trustedroots');
    for (const bundle of ['codesignctl.pem', 'timestampctl.pem']) {
      const original = existsSync(join(roots, bundle)) ? await readFile(join(roots, bundle), 'utf8') : '';
      await rm(join(roots, bundle), { force: true }); // a hard link: never write through it into the real SDK
      await mkdir(roots, { recursive: true });
      await writeFile(join(roots, bundle), `${original.trimEnd()}\n${rootPem}`);
    }
  }
  await writeFile(join(dir, 'complete'), '');
  try {
    await rename(dir, target);
  } catch {
    await rm(dir, { recursive: true, force: true });
  }
  return join(target, 'dotnet');
}

/** The environment that makes `dotnet` (from `dotnetTrustingTestRoot`) use its own folder; revocation checks offline (no CRLs here). */
export function trustingDotnetEnv(dotnet: string): Record<string, string> {
  return { DOTNET_ROOT: dirname(dotnet), NUGET_CERT_REVOCATION_MODE: 'offline', DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' };
}
