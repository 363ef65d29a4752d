import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestPki } from './test-pki.js';

const run = promisify(execFile);

/**
 * An https front for a Pawket server on loopback (NuGet wants repository signatures to name an https service index),
 * with a certificate for 127.0.0.1 under the test root. `tamper` makes it serve one package with a byte flipped,
 * touching nothing else (length, headers): a feed copy whose package was altered after signing.
 */
export interface TlsProxy {
  /** `https://127.0.0.1:{port}` */
  readonly url: string;
  /** The PEM bundle (the system's roots and the test root) for SSL_CERT_FILE, so dotnet trusts the proxy. */
  readonly caBundle: string;
  /** Where requests go, `http://127.0.0.1:{port}`; set once the server listens. */
  target: string;
  /** A path suffix (e.g. `/tampered.1.0.0.nupkg`) whose answers get one byte flipped; null: none. */
  tamper: string | null;
  close(): Promise<void>;
}

async function serverCertificate(pki: TestPki, dir: string): Promise<{ key: Buffer; cert: Buffer }> {
  const ext = join(dir, 'tls.cnf');
  await writeFile(ext, '[tls]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const key = join(dir, 'tls.key');
  const csr = join(dir, 'tls.csr');
  const cert = join(dir, 'tls.crt');
  await run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1']);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', pki.root.certPem, '-CAkey', pki.root.keyPem, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-out', cert, '-days', '30', '-extfile', ext, '-extensions', 'tls', '-sha256']);
  return { key: await readFile(key), cert: await readFile(cert) };
}

export async function startTlsProxy(pki: TestPki, dir: string): Promise<TlsProxy> {
  const { key, cert } = await serverCertificate(pki, dir);
  const caBundle = join(dir, 'ca-bundle.pem');
  const system = await readFile('/etc/ssl/certs/ca-certificates.crt', 'utf8').catch(() => '');
  await writeFile(caBundle, `${system.trimEnd()}\n${await readFile(pki.root.certPem, 'utf8')}`);
  const server: Server = createServer({ key, cert }, (req, res) => {
    const upstream = httpRequest(proxy.target + req.url, { method: req.method, headers: req.headers }, (answer) => {
      const flip = proxy.tamper !== null && req.url?.toLowerCase().endsWith(proxy.tamper.toLowerCase()) && answer.statusCode === 200;
      if (!flip) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        // A byte of the first entry's data, past its local header: the zip still opens, its content changed.
        body[64] = body[64]! ^ 0x01;
        res.writeHead(answer.statusCode ?? 502, answer.headers).end(body);
      });
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  const proxy: TlsProxy = {
    url: `https://127.0.0.1:${port}`,
    caBundle,
    target: '',
    tamper: null,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
  return proxy;
}
