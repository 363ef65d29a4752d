import { PawketError } from '../../errors.js';

/**
 * The refusal of any change to a virtual feed: 405, naming the members to push to instead.
 * @example readOnly('all', ['release', 'nugetorg-proxy'], 'push')
 * // 405 "Feed 'all' is virtual: push to one of its members (release, nugetorg-proxy)."
 */
export function readOnly(feed: string, members: readonly string[], what: 'push' | 'change'): PawketError {
  const list = members.length ? ` (${members.join(', ')})` : '';
  const message =
    what === 'push'
      ? `Feed '${feed}' is virtual: push to one of its members${list}.`
      : `Feed '${feed}' is virtual and read-only: change packages in the member that holds them${list}.`;
  return new PawketError(405, message, { allow: 'GET, HEAD' });
}
