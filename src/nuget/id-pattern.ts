import { toLowerInvariant } from './id.js';

/** What an id pattern may hold: id characters and `*`, at most as long as an id. */
const ID_PATTERN = /^[A-Za-z0-9_.*-]{1,100}$/;

/**
 * Whether text is an id pattern (`Contoso.*`, `*.Tools`, `Fabrikam.Core`): what API keys' patterns and a feed's
 * `requireStaging` take.
 */
export function isIdPattern(text: string): boolean {
  return ID_PATTERN.test(text);
}

/** The refusal of a text that is not an id pattern, naming it. */
export function notAnIdPattern(text: string): string {
  return `'${text.slice(0, 100)}' is not an id pattern: use id characters and '*' (Contoso.*)`;
}

/**
 * Whether a package id matches a glob pattern (`*` matches any run of characters), case-insensitively.
 *
 * A wildcard match that backtracks to the last `*` only: at most pattern length times id length steps. A regular
 * expression made from the pattern (`^.*a.*a.*a…b$`) backtracks exponentially, and patterns come from people.
 * @example matchesIdPattern('Contoso.*', 'contoso.core') // true
 */
export function matchesIdPattern(pattern: string, id: string): boolean {
  const p = toLowerInvariant(pattern);
  const s = toLowerInvariant(id);
  let pi = 0;
  let si = 0;
  // The last `*` seen, and where in the id its run ends for now.
  let star = -1;
  let runEnd = 0;
  while (si < s.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      runEnd = si;
    } else if (pi < p.length && p[pi] === s[si]) {
      pi++;
      si++;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++runEnd;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
