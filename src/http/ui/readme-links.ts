/**
 * Where the URLs of a readme point once it is shown on a package page. Readmes are written for a repository, where
 * `![logo](images/logo.png)` and `[guide](docs/guide.md)` resolve next to the file; on our page they would resolve
 * under `/packages/...` and break. Relative images go to the file route (served from inside the package), relative
 * links to the repository when it is on GitHub, and are dropped otherwise. URLs with a scheme are left to the
 * sanitizer (http, https and mailto stay, the rest go).
 */
import type { Repository } from '../../package/metadata.js';
import { imageTypeOf } from './image-types.js';
import { encodePackagePath, folderOf, resolvePackagePath } from './package-paths.js';

/** Rewrites one URL of a readme; null drops the attribute. */
export interface ReadmeLinks {
  image(url: string): string | null;
  link(url: string): string | null;
  /** An `srcset` (`a.png 1x, b.png 2x`): each candidate as {@link ReadmeLinks.image}; null when none is left. */
  srcset(value: string): string | null;
}

export interface ReadmeLocation {
  /** The file route of this package version, ending with `/`: `/packages/Contoso.Lib/1.0.0/files/`. */
  readonly filesUrl: string;
  /** The readme's path inside the package, as the nuspec names it (`docs\README.md`). */
  readonly readmePath: string;
  readonly repository: Repository | null;
}

/** `scheme:` (after the characters browsers ignore) or `//host`: not a path inside the package. */
function isAbsolute(url: string): boolean {
  // eslint-disable-next-line no-control-regex
  const compact = url.replace(/[\u0000-\u0020\u007f]/g, '');
  return /^[a-z][a-z\d+.-]*:/i.test(compact) || /^[/\\]{2}/.test(compact);
}

/** A relative URL split into its package path (percent-decoded) and its `#fragment`; null when it does not decode. */
function splitRelative(url: string): { path: string; fragment: string } | null {
  const hash = url.indexOf('#');
  const fragment = hash >= 0 ? url.slice(hash) : '';
  const beforeHash = hash >= 0 ? url.slice(0, hash) : url;
  const query = beforeHash.indexOf('?');
  const raw = query >= 0 ? beforeHash.slice(0, query) : beforeHash;
  try {
    return { path: decodeURIComponent(raw), fragment };
  } catch {
    return null;
  }
}

/**
 * The prefix of blob URLs in a GitHub repository (`https://github.com/owner/repo/blob/<commit or HEAD>/`), or null
 * for repositories elsewhere: their URL layouts differ and guessing would make broken links.
 */
export function repositoryBlobUrl(repository: Repository | null): string | null {
  if (!repository?.url) return null;
  let url: URL;
  try {
    url = new URL(repository.url);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.hostname !== 'github.com' && url.hostname !== 'www.github.com') return null;
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts.length !== 2 || !parts.every((p) => /^[\w.-]+$/.test(p))) return null;
  const repo = parts[1]!.replace(/\.git$/i, '');
  const ref = repository.commit && /^[0-9a-f]{7,40}$/i.test(repository.commit) ? repository.commit : 'HEAD';
  return `https://github.com/${parts[0]}/${repo}/blob/${ref}/`;
}

/**
 * The rewriting for one readme.
 * @example
 * const links = readmeLinks({ filesUrl: '/packages/A/1.0.0/files/', readmePath: 'docs/README.md', repository: null });
 * links.image('img/logo.png') // '/packages/A/1.0.0/files/docs/img/logo.png'
 * links.link('guide.md')      // null (no GitHub repository to send it to)
 */
export function readmeLinks(location: ReadmeLocation): ReadmeLinks {
  const folder = folderOf(location.readmePath);
  const blobUrl = repositoryBlobUrl(location.repository);
  const packageFile = (url: string) => {
    const parts = splitRelative(url.trim());
    const path = parts && resolvePackagePath(folder, parts.path);
    return parts && path ? { path, fragment: parts.fragment } : null;
  };
  const imageUrl = (path: string) => (imageTypeOf(path) ? location.filesUrl + encodePackagePath(path) : null);
  const image = (url: string) => {
    if (isAbsolute(url)) return url;
    const file = packageFile(url);
    return file ? imageUrl(file.path) : null;
  };
  return {
    image,
    srcset(value) {
      const candidates = value
        .split(',')
        .map((c) => c.trim().split(/\s+/))
        .flatMap(([url, ...descriptor]) => {
          const rewritten = url ? image(url) : null;
          return rewritten ? [[rewritten, ...descriptor].join(' ')] : [];
        });
      return candidates.length ? candidates.join(', ') : null;
    },
    link(url) {
      // In-page anchors and absolute URLs stay (the sanitizer decides on schemes).
      if (isAbsolute(url) || url.trim().startsWith('#')) return url;
      const file = packageFile(url);
      if (!file) return null;
      const image = imageUrl(file.path);
      if (image) return image;
      return blobUrl ? blobUrl + encodePackagePath(file.path) + file.fragment : null;
    },
  };
}
