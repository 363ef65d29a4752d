/**
 * Paths of files inside a package as readmes reference them (`images/logo.png`, `../docs/x.svg`) and the file route
 * serves them: resolved against a folder of the package, normalized, and never above the package root.
 */
import { MAX_ENTRY_NAME_LENGTH } from '../../package/entry-names.js';

/**
 * The folder of a file named as a nuspec names it, with a trailing `/` (`''` at the root).
 * @example folderOf('docs\\README.md') // 'docs/'
 */
export function folderOf(path: string): string {
  const name = path.replaceAll('\\', '/').replace(/^(\.\/|\/)+/, '');
  return name.slice(0, name.lastIndexOf('/') + 1);
}

/**
 * Resolves a percent-decoded relative path against a folder of the package; a leading `/` means the package root
 * (as a readme in a repository means the repository root). Null when the path climbs above the root, names a
 * folder, or could not be an entry name (control characters, too long): such a reference cannot be served.
 *
 * @example resolvePackagePath('docs/', '../images/./logo.png') // 'images/logo.png'
 * @example resolvePackagePath('', '../secret.png') // null
 */
export function resolvePackagePath(folder: string, path: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (path === '' || /[\u0000-\u001f\u007f]/.test(path)) return null;
  const normalized = path.replaceAll('\\', '/');
  if (normalized.endsWith('/')) return null;
  const segments = normalized.startsWith('/') ? [] : folder.split('/').filter((s) => s !== '' && s !== '.');
  for (const segment of normalized.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) return null;
      segments.pop();
    } else {
      segments.push(segment);
    }
  }
  const resolved = segments.join('/');
  return resolved !== '' && resolved.length <= MAX_ENTRY_NAME_LENGTH ? resolved : null;
}

/**
 * A package path as a URL path: each segment percent-encoded, slashes kept.
 * @example encodePackagePath('img/my logo.png') // 'img/my%20logo.png'
 */
export function encodePackagePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
