import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../e2e/support/dotnet.js';
import { buildNupkg } from './nupkg.js';
import { dotnetTrustingTestRoot, trustingDotnetEnv, type TestCertificate, type TestPki } from './test-pki.js';

/** Signs `file` in place with the real `dotnet nuget sign` (author signature), timestamped when a TSA url is given. */
export async function signWithDotnet(dotnet: string, file: string, cert: TestCertificate, timestamper?: string): Promise<void> {
  const args = ['nuget', 'sign', file, '--certificate-path', cert.pfx, '--certificate-password', cert.password, '--overwrite'];
  if (timestamper) args.push('--timestamper', timestamper);
  const r = await run(dotnet, args, { env: trustingDotnetEnv(dotnet), timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${r.command} failed:\n${r.output}`);
}

/** Writes a small package `{id}.{version}.nupkg` into `dir` and returns its path. */
export async function writeTestPackage(dir: string, id: string, version = '1.0.0'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${id}.${version}.nupkg`);
  await writeFile(file, await buildNupkg({ id, version, files: [{ name: 'content/readme.txt', data: `${id} ${version}: ${'x'.repeat(200)}`, compress: false }] }));
  return file;
}

/** A copy of a signed package with one byte of a file's data changed (the signature stays as it was). */
export async function flipByte(signed: string, target: string): Promise<string> {
  const bytes = await readFile(signed);
  const at = bytes.indexOf(Buffer.from('xxxxxxxxxx'));
  if (at < 0) throw new Error(`no stored payload to flip in ${signed}`);
  bytes[at] = 'y'.charCodeAt(0);
  await writeFile(target, bytes);
  return target;
}

export interface SignatureEntryOptions {
  /** Compression method written in both headers (NuGet requires 0, stored). */
  readonly method?: number;
  /** Put the signature's central directory header first instead of last. */
  readonly centralFirst?: boolean;
}

/**
 * Adds `.signature.p7s` to an unsigned zip the way NuGet does (local entry after the others, central header last,
 * end record updated), or breaking one rule on purpose: for signatures on other content, or misplaced entries.
 */
export function addSignatureEntry(zip: Buffer, p7s: Buffer, options: SignatureEntryOptions = {}): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  const name = Buffer.from('.signature.p7s', 'ascii');
  const method = options.method ?? 0;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(method, 8);
  local.writeUInt32LE(p7s.length, 18);
  local.writeUInt32LE(p7s.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(method, 10);
  central.writeUInt32LE(p7s.length, 20);
  central.writeUInt32LE(p7s.length, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE(cdOffset, 42);
  const entry = Buffer.concat([local, name, p7s]);
  const header = Buffer.concat([central, name]);
  const oldCd = zip.subarray(cdOffset, cdOffset + cdSize);
  const end = Buffer.from(zip.subarray(eocd));
  end.writeUInt16LE(end.readUInt16LE(8) + 1, 8);
  end.writeUInt16LE(end.readUInt16LE(10) + 1, 10);
  end.writeUInt32LE(cdSize + header.length, 12);
  end.writeUInt32LE(cdOffset + entry.length, 16);
  const cd = options.centralFirst ? Buffer.concat([header, oldCd]) : Buffer.concat([oldCd, header]);
  return Buffer.concat([zip.subarray(0, cdOffset), entry, cd, end]);
}

/** The signature entry's bytes of a signed package (stored, so a plain search finds them). */
export function signatureOf(signed: Buffer): Buffer {
  const eocd = signed.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const cdSize = signed.readUInt32LE(eocd + 12);
  const cdOffset = signed.readUInt32LE(eocd + 16);
  const cd = signed.subarray(cdOffset, cdOffset + cdSize);
  for (let p = 0; p < cd.length; ) {
    const n = cd.readUInt16LE(p + 28);
    if (cd.subarray(p + 46, p + 46 + n).toString('ascii') === '.signature.p7s') {
      const at = cd.readUInt32LE(p + 42);
      const size = signed.readUInt32LE(at + 18);
      return Buffer.from(signed.subarray(at + 30 + signed.readUInt16LE(at + 26) + signed.readUInt16LE(at + 28), at + 30 + signed.readUInt16LE(at + 26) + signed.readUInt16LE(at + 28) + size));
    }
    p += 46 + n + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
  }
  throw new Error('not signed');
}

/**
 * A dotnet that also trusts the untrusted root: `dotnet nuget sign` builds the signer's chain to a trusted root, so
 * packages "signed under a root nobody trusts" are signed with it (the timestamp authority stays under the test root).
 */
export async function dotnetTrustingUntrustedRoot(pki: TestPki): Promise<string> {
  const both = join(pki.dir, 'both-roots.pem');
  const pems = await Promise.all([readFile(pki.root.certPem, 'utf8'), readFile(join(pki.dir, 'otherRoot.crt'), 'utf8')]);
  await writeFile(both, pems.map((p) => p.trimEnd()).join('\n') + '\n');
  return dotnetTrustingTestRoot({ ...pki, root: { ...pki.root, certPem: both } });
}
