/** Id patterns (`Contoso.*`): what they may hold, and how an id is matched against one. */
import { describe, expect, it } from 'vitest';
import { isIdPattern, matchesIdPattern } from '../../../src/nuget/id-pattern.js';

/** The glob as a regular expression: the meaning the matcher must keep (and what it used to run). */
function reference(pattern: string, id: string): boolean {
  const source = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.\\+?^${}()|[\]-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(id.toLowerCase());
}

describe('id patterns', () => {
  it('hold id characters and * only, up to 100', () => {
    for (const p of ['Contoso.*', '*.Tools', 'Fabrikam.Core', '*', 'a_b-c.*']) expect(isIdPattern(p), p).toBe(true);
    for (const p of ['', 'Contoso!', 'a b', 'Contoso/*', 'x'.repeat(101), 'Ünïcode.*']) expect(isIdPattern(p), p).toBe(false);
  });

  it('match as the glob reads, on every short pattern and id of a small alphabet', () => {
    const alphabet = ['a', 'B', '.', '*'];
    const words = (n: number): string[] => (n === 0 ? [''] : words(n - 1).flatMap((w) => alphabet.map((c) => w + c)));
    const patterns = [0, 1, 2, 3, 4].flatMap(words);
    const ids = [0, 1, 2, 3, 4].flatMap(words).filter((w) => !w.includes('*'));
    for (const p of patterns) {
      for (const id of ids) expect(matchesIdPattern(p, id), `${p} ~ ${id}`).toBe(reference(p, id));
    }
  });

  it('decide a pattern of many stars against a long id at once (a regular expression backtracks for minutes)', () => {
    // A key's patterns and a feed's requireStaging come from people: a push must not stall the server on them.
    expect(matchesIdPattern(`${'*a'.repeat(40)}b`, 'a'.repeat(100))).toBe(false);
    expect(matchesIdPattern(`${'*a'.repeat(40)}*`, 'a'.repeat(100))).toBe(true);
  });
});
