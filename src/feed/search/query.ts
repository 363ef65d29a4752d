/**
 * The search query language of nuget.org: free text, `field:value` terms and quoted phrases.
 *
 * - `json serializer` — two free terms; packages matching both come first (see the index for the exact rule).
 * - `"dependency injection"` — a phrase: the words one after the other.
 * - `id:json` (words of the id), `packageid:Newtonsoft.Json` (exactly that id), `version:13.0.1` (the latest
 *   version shown), `title:`, `description:`, `summary:`, `tags:` (`tag:`), `author:` (`authors:`), `owner:` (`owners:`).
 *   Field names are case-insensitive; a value may be quoted (`title:"Json Net"`).
 * - An unknown `name:value` is free text, so `c:\temp` or `http://x` still search for something.
 */

export type QueryField = 'id' | 'packageid' | 'version' | 'title' | 'description' | 'summary' | 'tags' | 'author' | 'owner';

const FIELDS: Readonly<Record<string, QueryField>> = {
  id: 'id',
  packageid: 'packageid',
  version: 'version',
  title: 'title',
  description: 'description',
  summary: 'summary',
  tag: 'tags',
  tags: 'tags',
  author: 'author',
  authors: 'author',
  owner: 'owner',
  owners: 'owner',
};

export interface QueryTerm {
  readonly text: string;
  /** Written in double quotes: its words must appear as a phrase. */
  readonly quoted: boolean;
}

export interface ParsedQuery {
  /** Terms without a field. */
  readonly free: readonly QueryTerm[];
  /** Terms with a field, grouped by field, in the order written. */
  readonly fields: ReadonlyMap<QueryField, readonly QueryTerm[]>;
}

/** Bounds on what one query may ask, so a hostile query costs no more than a normal one. */
export const QUERY_LIMITS = { chars: 1000, terms: 32, termChars: 256 } as const;

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

/**
 * Parses a query; never throws. Over-long queries and terms are cut to {@link QUERY_LIMITS}.
 * @example parseQuery('json tags:"web api"') // { free: [{ text: 'json', quoted: false }], fields: Map { 'tags' => [{ text: 'web api', quoted: true }] } }
 */
export function parseQuery(q: string): ParsedQuery {
  const text = q.slice(0, QUERY_LIMITS.chars);
  const free: QueryTerm[] = [];
  const fields = new Map<QueryField, QueryTerm[]>();
  let count = 0;
  let i = 0;

  /** Reads a value at `i`: a quoted phrase (to the closing quote or the end) or a run of non-space characters. */
  const readValue = (): QueryTerm | null => {
    while (i < text.length && isSpace(text[i])) i++;
    if (i >= text.length) return null;
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      const value = text.slice(i + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end + 1;
      return { text: value.trim().slice(0, QUERY_LIMITS.termChars), quoted: true };
    }
    const start = i;
    while (i < text.length && !isSpace(text[i])) i++;
    return { text: text.slice(start, i).slice(0, QUERY_LIMITS.termChars), quoted: false };
  };

  while (i < text.length && count < QUERY_LIMITS.terms) {
    while (i < text.length && isSpace(text[i])) i++;
    if (i >= text.length) break;
    let field: QueryField | undefined;
    if (text[i] !== '"') {
      const colon = text.indexOf(':', i);
      const name = colon > i ? text.slice(i, colon) : '';
      if (name.length > 0 && !/\s/.test(name)) field = FIELDS[name.toLowerCase()];
      if (field) i = colon + 1;
    }
    const term = readValue();
    if (!term || term.text.length === 0) continue;
    count++;
    if (field) {
      let list = fields.get(field);
      if (!list) fields.set(field, (list = []));
      list.push(term);
    } else {
      free.push(term);
    }
  }
  return { free, fields };
}
