/**
 * How ids and text become search tokens. Ids are split on their separators and inside words on camel case and
 * letter/digit changes, so `Newtonsoft.Json` is found by `json`, `newton` and `NewtonsoftJson`, and
 * `Contoso.Data.SqlClient` by `sql` and `sqlclient` (runs of words match as one: see `compact`). Free text is split the same way and lower-cased; a few
 * English stop words and plural endings are dropped so `tags` finds `tag`.
 */
import { lowerId } from '../../nuget/id.js';

/** Runs of letters, digits and marks: anything else (`.`, `-`, `_`, spaces, punctuation) separates. */
const SEGMENT = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * Words inside a segment: `SQLClient` → `SQL` `Client`, `fooBar` → `foo` `Bar`, `Log4Net` → `Log` `4` `Net`.
 * Letters without case (CJK, ...) stay together.
 */
const WORD = /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?[\p{Ll}\p{Lm}\p{Lo}\p{Lt}\p{M}]+|\p{Lu}[\p{Lu}\p{M}]*|\p{N}+|[\p{L}\p{M}]+/gu;

/** What search needs to know about an id, or about a query term compared with ids. */
export interface IdShape {
  /** `lowerId` of the text. */
  readonly lower: string;
  /** The words, lower-cased, in order: `newtonsoft`, `json`. */
  readonly words: readonly string[];
  /** The words run together: `newtonsoftjson`. Separators and case do not matter to it. */
  readonly compact: string;
}

/**
 * Splits an id (or a query term meant for ids) into its words.
 * @example idShape('Contoso.Data.SqlClient').words // ['contoso', 'data', 'sql', 'client']
 */
export function idShape(text: string): IdShape {
  const words: string[] = [];
  for (const segment of text.match(SEGMENT) ?? []) {
    for (const part of segment.match(WORD) ?? [segment]) words.push(lowerId(part));
  }
  return { lower: lowerId(text), words, compact: words.join('') };
}

/** Words that carry no meaning in a package description; never indexed from free text, never required. */
const STOP_WORDS = new Set(
  'a an and are as at be by for from has have in into is it its of on or that the this to was will with you your'.split(' '),
);

/**
 * Folds a text word for matching: lower case, and a plural `s` dropped (`tags` → `tag`, not `class` → `clas`).
 * @example textKey('Loggers') // 'logger'
 */
export function textKey(word: string): string {
  const lower = word.toLowerCase();
  if (lower.length > 3 && lower.endsWith('s') && !lower.endsWith('ss') && !lower.endsWith('us') && !lower.endsWith('is')) {
    return lower.slice(0, -1);
  }
  return lower;
}

/**
 * The words of free text as matching keys, in order (repeats kept, so phrases can be checked), stop words removed.
 * Both the whole segment and its camel-case words are produced (`JsonConvert` → `jsonconvert`, `json`, `convert`).
 * @example textWords('Fast JSON serializers for .NET') // ['fast', 'json', 'serializer', 'net']
 */
export function textWords(text: string, limit = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  for (const segment of text.match(SEGMENT) ?? []) {
    const parts = segment.match(WORD) ?? [segment];
    if (parts.length > 1) {
      const whole = textKey(segment);
      if (!STOP_WORDS.has(whole)) out.push(whole);
    }
    for (const part of parts) {
      const key = textKey(part);
      if (!STOP_WORDS.has(key)) out.push(key);
    }
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * The words of a phrase as they must appear one after the other in text: camel parts only (what {@link textWords}
 * produces in sequence), stop words removed.
 */
export function phraseWords(text: string): string[] {
  const out: string[] = [];
  for (const segment of text.match(SEGMENT) ?? []) {
    for (const part of segment.match(WORD) ?? [segment]) {
      const key = textKey(part);
      if (!STOP_WORDS.has(key)) out.push(key);
    }
  }
  return out;
}

/** True when `words` appear consecutively in `text` (as {@link phraseWords} splits it). */
export function containsPhrase(text: string, words: readonly string[]): boolean {
  if (words.length === 0) return false;
  const seq = phraseWords(text);
  outer: for (let i = 0; i + words.length <= seq.length; i++) {
    for (let j = 0; j < words.length; j++) if (seq[i + j] !== words[j]) continue outer;
    return true;
  }
  return false;
}
