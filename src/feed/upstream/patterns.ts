import { lowerId } from '../../nuget/id.js';

/** Id patterns: `*` matches any run of characters; case-insensitive; anything else is literal. */
export function idPattern(pattern: string): RegExp {
  const body = lowerId(pattern)
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/**
 * Whether an upstream with these lists may be asked for an id: deny wins; an empty allow list allows every id.
 * @example idAllowed('Newtonsoft.Json', ['newtonsoft.*'], []) // true
 */
export function idAllowed(id: string, allow: readonly string[], deny: readonly string[]): boolean {
  const lid = lowerId(id);
  if (deny.some((p) => idPattern(p).test(lid))) return false;
  return allow.length === 0 || allow.some((p) => idPattern(p).test(lid));
}
