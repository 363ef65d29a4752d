/**
 * The target frameworks a package supports, from its file layout: what nuget.org shows on the "Frameworks" tab and
 * what search's framework filter uses.
 *
 * nuget.org (`AssetFrameworkHelper`) runs restore's content-model patterns over the files. We keep the folder part of
 * those patterns, which is what decides the framework:
 *
 * | folder                          | counted when                                          |
 * |---------------------------------|-------------------------------------------------------|
 * | `lib/{tfm}/…`, `ref/{tfm}/…`    | always                                                |
 * | `runtimes/{rid}/lib/{tfm}/…`    | always                                                |
 * | `contentFiles/{lang}/{tfm}/…`   | always                                                |
 * | `build/{tfm}/…`                 | always (nuget.org also wants `{id}.props`/`.targets`) |
 * | `buildTransitive/{tfm}/…`       | always                                                |
 * | `tools/{tfm}/…`                 | only for `DotnetTool`/`DotnetCliTool` packages        |
 *
 * A folder counts only when a file sits inside it (`lib/foo.dll` names no framework), and names that are no
 * framework (`any`, unparsable ones) are skipped. The package reader adds the dependency-group frameworks.
 */
import { isSpecificFramework, parseFramework, tryShortFolderName } from '../nuget/framework.js';
import type { PackageType } from './metadata.js';

const TOOL_TYPES = new Set(['dotnettool', 'dotnetclitool']);

/**
 * Short folder names of the frameworks the package's assets target, sorted, without duplicates.
 *
 * @example assetFrameworks(['lib/net8.0/A.dll', 'lib/netstandard2.0/A.dll', 'README.md'], []) // ['net8.0', 'netstandard2.0']
 */
export function assetFrameworks(entries: readonly string[], packageTypes: readonly PackageType[]): string[] {
  const isTool = packageTypes.some((t) => TOOL_TYPES.has(t.name.toLowerCase()));
  const found = new Set<string>();
  for (const entry of entries) {
    const folder = frameworkFolder(entry.split('/'), isTool);
    if (folder === null) continue;
    const short = frameworkName(folder);
    if (short !== null) found.add(short);
  }
  return [...found].sort();
}

/** The `{tfm}` segment of an asset path, or null when the path is no framework-specific asset. */
function frameworkFolder(segments: readonly string[], isTool: boolean): string | null {
  const top = segments[0]?.toLowerCase();
  // The segment index of {tfm} in each layout; a file must follow it.
  let index: number;
  if (top === 'lib' || top === 'ref' || top === 'build' || top === 'buildtransitive') index = 1;
  else if (top === 'contentfiles') index = 2;
  else if (top === 'runtimes' && segments[2]?.toLowerCase() === 'lib') index = 3;
  else if (top === 'tools' && isTool) index = 1;
  else return null;
  const last = segments[segments.length - 1];
  if (segments.length < index + 2 || !last) return null;
  return segments[index] || null;
}

/** The short folder name of a `{tfm}` folder (OPC percent-encodes `+` in `portable-net45+win8`), or null. */
function frameworkName(folder: string): string | null {
  let decoded = folder;
  try {
    decoded = decodeURIComponent(folder);
  } catch {
    // A stray '%' is not an escape; use the name as it is.
  }
  const framework = parseFramework(decoded);
  return isSpecificFramework(framework) ? tryShortFolderName(framework) : null;
}

/**
 * Union of dependency-group frameworks and asset frameworks, sorted, without duplicates.
 * @example mergeFrameworks(['net8.0'], ['net8.0', 'netstandard2.0']) // ['net8.0', 'netstandard2.0']
 */
export function mergeFrameworks(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
