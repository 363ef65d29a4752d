import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../e2e/support/dotnet.js';
import { buildNupkg } from './nupkg.js';
import { trustingDotnetEnv, type TestCertificate } from './test-pki.js';

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
