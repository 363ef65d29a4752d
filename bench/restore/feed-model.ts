/**
 * The benchmark feed: which ids and versions exist and what each package contains. Deterministic, so every run
 * (and both servers) see the same feed.
 */
import { buildNupkg } from '../../test/support/nupkg.js';
import { random } from './common.js';

const VENDORS = ['Contoso', 'Fabrikam', 'Northwind', 'Tailspin', 'Litware', 'Adatum', 'Woodgrove', 'Proseware'];
const AREAS = ['Data', 'Web', 'Logging', 'Security', 'Messaging', 'Storage', 'Json', 'Caching', 'Http', 'Diagnostics'];
const NOUNS = ['Core', 'Client', 'Abstractions', 'Extensions', 'Tools', 'Server', 'Analyzers'];

/** Mixed-case ids as people write them, e.g. `Contoso.Data.Core0`; unique thanks to the index suffix. */
export function packageId(i: number): string {
  return `${VENDORS[i % VENDORS.length]}.${AREAS[Math.floor(i / VENDORS.length) % AREAS.length]}.${NOUNS[i % NOUNS.length]}${i}`;
}

/**
 * `count` versions in the shapes a real id accumulates: patches, minors, a SemVer 1 prerelease and a SemVer 2.0.0
 * one (dotted label), so the `-semver2` registration hive has something to show.
 * For 10: 1.0.0 1.0.1 1.1.0-beta.1 1.1.0 1.2.0-preview4 2.0.0 2.0.1 2.1.0-beta.1 2.1.0 2.2.0-preview9.
 */
export function packageVersions(count: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const major = 1 + Math.floor(k / 5);
    out.push(
      [`${major}.0.0`, `${major}.0.1`, `${major}.1.0-beta.1`, `${major}.1.0`, `${major}.2.0-preview${k}`][k % 5]!,
    );
  }
  return out;
}

/** Incompressible bytes standing in for IL (a real small assembly deflates only a little). */
function binary(rnd: () => number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) out.writeUInt32LE(Math.floor(rnd() * 0x100000000), i);
  // "MZ" so it at least starts like a PE file.
  out[0] = 0x4d;
  out[1] = 0x5a;
  return out;
}

function xmlDocs(id: string, members: number): string {
  const lines = [`<?xml version="1.0"?>`, `<doc><assembly><name>${id}</name></assembly><members>`];
  for (let m = 0; m < members; m++) {
    lines.push(
      `<member name="M:${id}.Service${m}.ExecuteAsync(System.Threading.CancellationToken)">`,
      `<summary>Runs operation ${m} of ${id} and returns when the remote side has acknowledged it.</summary>`,
      `<param name="cancellationToken">Cancels the operation.</param><returns>A task that completes with the result.</returns>`,
      `</member>`,
    );
  }
  lines.push('</members></doc>');
  return lines.join('\n');
}

/**
 * One package of the feed, about 5-6 KB: two small "assemblies", XML docs, a readme, and one or two dependencies
 * per framework group (an earlier package of the feed and a well-known one).
 */
export async function buildBenchPackage(i: number, version: string, versionIndex: number): Promise<Buffer> {
  const id = packageId(i);
  const rnd = random(i * 1_000 + versionIndex + 1);
  const feedDep: Array<readonly [string, string]> = i > 0 ? [[packageId((i * 31 + 7) % i), '[1.0.0, )']] : [];
  const readme = `# ${id}\n\n${id} helps with ${AREAS[Math.floor(i / VENDORS.length) % AREAS.length]!.toLowerCase()} tasks.\n\n` +
    '```csharp\nservices.Add' + NOUNS[i % NOUNS.length] + '();\n```\n\nSee the project site for documentation.\n';
  return buildNupkg({
    id,
    version,
    authors: `${VENDORS[i % VENDORS.length]} Ltd`,
    description: `${id}: a ${NOUNS[i % NOUNS.length]!.toLowerCase()} library for the benchmark feed, version ${version}.`,
    dependencies: {
      'net8.0': [...feedDep, ['Microsoft.Extensions.Logging.Abstractions', '8.0.0']],
      'netstandard2.0': [...feedDep, ['System.Text.Json', '8.0.5']],
    },
    extraMetadata: [
      `<license type="expression">MIT</license>`,
      `<projectUrl>https://example.com/${id.toLowerCase()}</projectUrl>`,
      `<tags>benchmark ${AREAS[Math.floor(i / VENDORS.length) % AREAS.length]!.toLowerCase()} ${NOUNS[i % NOUNS.length]!.toLowerCase()}</tags>`,
      `<readme>README.md</readme>`,
      `<repository type="git" url="https://example.com/git/${id.toLowerCase()}.git" />`,
    ].join(''),
    files: [
      { name: `lib/net8.0/${id}.dll`, data: binary(rnd, 2048 + Math.floor(rnd() * 256) * 4) },
      { name: `lib/net8.0/${id}.xml`, data: xmlDocs(id, 12) },
      { name: `lib/netstandard2.0/${id}.dll`, data: binary(rnd, 1024 + Math.floor(rnd() * 256) * 4) },
      { name: 'README.md', data: readme },
    ],
  });
}
