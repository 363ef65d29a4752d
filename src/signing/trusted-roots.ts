import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';

/** The roots signatures must chain to: code signing roots for signers, timestamping roots for timestamp authorities. */
export interface TrustedRoots {
  readonly codeSigning: readonly X509Certificate[];
  readonly timestamping: readonly X509Certificate[];
  /** Where they came from, for the log. */
  readonly source: string;
  /** False when no trust store was found: chains are checked up to their own root, which is accepted. */
  readonly enforced: boolean;
}

/** The system code signing bundle NuGet uses on Linux when it exists (Fedora, RHEL: ca-certificates' objsign). */
const SYSTEM_BUNDLE = '/etc/pki/ca-trust/extracted/pem/objsign-ca-bundle.pem';

/** Every certificate in a PEM bundle. */
export function parsePemBundle(pem: string, file: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      throw new Error(`Certificate ${i + 1} in ${file} cannot be read: ${(e as Error).message}`);
    }
  });
}

async function bundle(file: string): Promise<X509Certificate[]> {
  return parsePemBundle(await readFile(file, 'utf8'), file);
}

/**
 * The roots a server trusts: the configured PEM bundles (for both purposes); otherwise the bundles NuGet itself would
 * use on this machine: the system's code signing bundle, else the newest .NET SDK's `trustedroots/codesignctl.pem`
 * and `timestampctl.pem`. With none of them, `enforced` is false.
 */
export async function loadTrustedRoots(files: readonly string[]): Promise<TrustedRoots> {
  if (files.length) {
    const all = (await Promise.all(files.map(bundle))).flat();
    if (!all.length) throw new Error(`The trusted root bundles (${files.join(', ')}) hold no certificates.`);
    return { codeSigning: all, timestamping: all, source: files.join(', '), enforced: true };
  }
  if (existsSync(SYSTEM_BUNDLE)) {
    const all = await bundle(SYSTEM_BUNDLE);
    return { codeSigning: all, timestamping: all, source: SYSTEM_BUNDLE, enforced: true };
  }
  const sdk = await newestSdkTrustedRoots();
  if (sdk) {
    const codeSigning = existsSync(join(sdk, 'codesignctl.pem')) ? await bundle(join(sdk, 'codesignctl.pem')) : [];
    const timestamping = existsSync(join(sdk, 'timestampctl.pem')) ? await bundle(join(sdk, 'timestampctl.pem')) : [];
    if (codeSigning.length) return { codeSigning, timestamping, source: sdk, enforced: true };
  }
  return { codeSigning: [], timestamping: [], source: 'none', enforced: false };
}

/** The `trustedroots` folder of the newest .NET SDK installed where `dotnet` (DOTNET_ROOT or on PATH) lives. */
async function newestSdkTrustedRoots(): Promise<string | null> {
  const homes = new Set<string>();
  if (process.env.DOTNET_ROOT) homes.add(process.env.DOTNET_ROOT);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'dotnet'))) homes.add(dirname(await realpath(join(dir, 'dotnet')).catch(() => join(dir, 'dotnet'))));
  }
  for (const home of homes) {
    const sdks = await readdir(join(home, 'sdk')).catch(() => [] as string[]);
    const newest = sdks.filter((v) => /^\d+\.\d+\.\d+/.test(v) && existsSync(join(home, 'sdk', v, 'trustedroots'))).sort(compareVersions).at(-1);
    if (newest) return join(home, 'sdk', newest, 'trustedroots');
  }
  return null;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

const loaded = new Map<string, Promise<TrustedRoots>>();

/** The roots for these settings, loaded once per process (every feed shares them); `onLoad` hears where they came from. */
export function trustedRoots(files: readonly string[], onLoad?: (roots: TrustedRoots) => void): Promise<TrustedRoots> {
  const key = files.join('\n');
  let roots = loaded.get(key);
  if (!roots) {
    roots = loadTrustedRoots(files);
    roots.then(onLoad, () => loaded.delete(key));
    loaded.set(key, roots);
  }
  return roots;
}
