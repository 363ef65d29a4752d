import { describe, expect, it } from 'vitest';
import {
  findBestMatch,
  isFloating,
  legacyShortRange,
  normalizeRange,
  parseRange,
  rangeIsSemVer2,
  satisfies,
  shortRange,
  type VersionRange,
} from '../../../src/nuget/range.js';
import { normalizeVersion, versionOf } from '../../../src/nuget/version.js';

const range = (text: string): VersionRange => {
  const r = parseRange(text);
  if (r === null) throw new Error(`'${text}' should parse`);
  return r;
};

const best = (text: string, versions: string[]): string | null => {
  const match = findBestMatch(range(text), versions.map(versionOf));
  return match === null ? null : normalizeVersion(match);
};

describe('parseRange / normalizeRange: dependency ranges as nuspecs write them', () => {
  it.each([
    ['1.0', '[1.0.0, )'],
    ['[1.0]', '[1.0.0, 1.0.0]'],
    ['[1.0,2.0)', '[1.0.0, 2.0.0)'],
    ['(,1.0]', '(, 1.0.0]'],
    ['(1.0,)', '(1.0.0, )'],
    [' [ 1.0 , 2.0 ] ', '[1.0.0, 2.0.0]'],
    ['1.*', '[1.*, )'],
    ['1.0.*-*', '[1.0.*-*, )'],
    ['*', '[*, )'],
    ['*-*', '[*-*, )'],
    ['1.0.0-beta*', '[1.0.0-beta*, )'],
  ])('%j normalizes to %j', (text, normalized) => {
    expect(normalizeRange(range(text))).toBe(normalized);
  });

  it('a bare version is a minimum, not an exact match', () => {
    const r = range('1.0');
    expect(satisfies(r, versionOf('5.0'))).toBe(true);
    expect(satisfies(r, versionOf('0.9'))).toBe(false);
  });

  it.each([
    ['(1.0]', 'a single version with an exclusive bracket'],
    ['[2.0,1.0]', 'a minimum above the maximum'],
    ['[1.0,1.0)', 'an empty interval with one inclusive end'],
    ['(,)', 'no bound at all'],
    ['[1.0,2.0,3.0]', 'three bounds'],
    ['[1.0', 'a missing closing bracket'],
    ['[1.*]', 'a floating maximum'],
    ['1.0.0+*', 'a star in metadata'],
  ])('refuses %j (%s)', (text) => {
    expect(parseRange(text)).toBeNull();
  });

  it('the legacy short string is what NuGet 2.x wrote: 1.0.0 for a minimum, [1.0.0] for an exact version', () => {
    expect(legacyShortRange(range('[1.0,)'))).toBe('1.0.0');
    expect(legacyShortRange(range('[1.0]'))).toBe('[1.0.0]');
    expect(legacyShortRange(range('1.*'))).toBe('1.0.0');
    expect(shortRange(range('1.*'))).toBe('1.*');
  });

  it('only a * makes a range float', () => {
    expect(isFloating(range('1.*'))).toBe(true);
    expect(isFloating(range('[1.0, )'))).toBe(false);
  });
});

describe('satisfies: which versions a dependency accepts', () => {
  it('respects inclusive and exclusive ends', () => {
    const r = range('[1.0,2.0)');
    expect(satisfies(r, versionOf('1.0'))).toBe(true);
    expect(satisfies(r, versionOf('1.9.9'))).toBe(true);
    expect(satisfies(r, versionOf('2.0'))).toBe(false);
  });

  it('a prerelease of the upper bound is below it, so [1.0,2.0) accepts 2.0.0-beta', () => {
    expect(satisfies(range('[1.0,2.0)'), versionOf('2.0.0-beta'))).toBe(true);
  });

  it('metadata is ignored: [1.0.0] accepts 1.0.0+build', () => {
    expect(satisfies(range('[1.0.0]'), versionOf('1.0.0+build'))).toBe(true);
  });
});

describe('findBestMatch: the version restore picks', () => {
  it('the lowest version that satisfies a plain range', () => {
    expect(best('1.0', ['2.0.0', '1.1.0', '1.0.5'])).toBe('1.0.5');
  });

  it('no prereleases for a range with stable bounds', () => {
    expect(best('1.0', ['1.0.0-beta', '1.1.0'])).toBe('1.1.0');
  });

  it('1.* picks the highest 1.x stable version', () => {
    expect(best('1.*', ['1.0.0', '1.9.0', '2.0.0', '1.10.0-beta'])).toBe('1.9.0');
  });

  it('1.0.0-beta* picks the highest matching beta, or the stable release', () => {
    expect(best('1.0.0-beta*', ['1.0.0-beta.1', '1.0.0-beta.2', '1.0.0-alpha.9'])).toBe('1.0.0-beta.2');
    expect(best('1.0.0-beta*', ['1.0.0-beta.1', '1.0.0'])).toBe('1.0.0');
  });

  it('*-* picks the absolute latest, prereleases included', () => {
    expect(best('*-*', ['1.0.0', '2.0.0-preview.1'])).toBe('2.0.0-preview.1');
  });

  it('nothing when no version satisfies', () => {
    expect(best('[3.0,4.0)', ['1.0.0', '2.0.0'])).toBeNull();
  });
});

describe('rangeIsSemVer2: a dependency that hides the package from old clients', () => {
  it('a SemVer 2.0.0 bound makes the range SemVer 2.0.0', () => {
    expect(rangeIsSemVer2(range('[1.0.0-beta.1, )'))).toBe(true);
    expect(rangeIsSemVer2(range('(, 2.0.0+build]'))).toBe(true);
  });

  it('plain bounds do not', () => {
    expect(rangeIsSemVer2(range('[1.0.0-beta1, 2.0.0)'))).toBe(false);
  });
});
