import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  fullVersion,
  isPrerelease,
  isSemVer2,
  lowerNormalizedVersion,
  normalizeVersion,
  parseVersion,
  versionOf,
  versionSortKey,
} from '../../../src/nuget/version.js';

const norm = (text: string): string | null => {
  const v = parseVersion(text);
  return v === null ? null : normalizeVersion(v);
};

/** Sorts version strings with our comparer. */
const sorted = (texts: string[]): string[] => [...texts].sort((a, b) => compareVersions(versionOf(a), versionOf(b)));

describe('parseVersion / normalizeVersion: one package version, one key', () => {
  it('1.0 and 1.0.0.0 normalize to one package', () => {
    expect(norm('1.0')).toBe('1.0.0');
    expect(norm('1.0.0.0')).toBe('1.0.0');
    expect(norm('1')).toBe('1.0.0');
  });

  it('a non-zero fourth part is kept', () => {
    expect(norm('1.2.3.4')).toBe('1.2.3.4');
  });

  it('leading zeros in numbers are dropped: 01.02.03 is 1.2.3', () => {
    expect(norm('01.02.03')).toBe('1.2.3');
  });

  it('release labels keep their case in the normalized form', () => {
    expect(norm('1.0.0-Beta.1')).toBe('1.0.0-Beta.1');
  });

  it('the lower-case key of 1.0-RC is 1.0.0-rc (flat container URLs)', () => {
    expect(lowerNormalizedVersion(versionOf('1.0-RC'))).toBe('1.0.0-rc');
  });

  it('build metadata is dropped from the normalized form and kept in the full form', () => {
    const v = versionOf('1.0.0-beta+sha.abc');
    expect(normalizeVersion(v)).toBe('1.0.0-beta');
    expect(fullVersion(v)).toBe('1.0.0-beta+sha.abc');
    expect(v.metadata).toBe('sha.abc');
  });

  it('surrounding white space is ignored, as NuGet trims', () => {
    expect(norm('  1.0.0\t')).toBe('1.0.0');
    expect(norm('\u00a01.0')).toBe('1.0.0');
  });

  it('the original text is kept without its spaces, as NuGet keeps it', () => {
    expect(versionOf(' 1.0-beta ').original).toBe('1.0-beta');
  });

  it.each([
    ['', 'empty'],
    ['1.0.0.0.0', 'five numeric parts'],
    ['1..0', 'an empty numeric part'],
    ['1.0.0-', 'an empty release label'],
    ['1.0.0-beta..1', 'an empty dotted label part'],
    ['1.0.0+', 'empty metadata'],
    ['1.0.0-beta.01', 'a numeric label with a leading zero'],
    ['1.0.0-be_ta', 'an underscore in a label'],
    ['1.0.0-ä', 'a non-ASCII label'],
    ['2147483648.0.0', 'a number beyond int32'],
    ['1.٣', 'a non-ASCII digit'],
    ['v1.0', 'a v prefix'],
    ['-1.0', 'a negative number'],
  ])('refuses %j (%s)', (text) => {
    expect(parseVersion(text)).toBeNull();
  });

  it('accepts the largest int32 in every numeric part', () => {
    expect(norm('2147483647.2147483647.2147483647.2147483647')).toBe('2147483647.2147483647.2147483647.2147483647');
  });

  it('allows leading zeros in metadata (SemVer allows them there)', () => {
    expect(fullVersion(versionOf('1.0.0+001'))).toBe('1.0.0+001');
  });
});

describe('compareVersions: the order clients resolve in', () => {
  it('1.0.0-beta.10 sorts after 1.0.0-beta.9 (numeric labels compare as numbers)', () => {
    expect(compareVersions(versionOf('1.0.0-beta.10'), versionOf('1.0.0-beta.9'))).toBe(1);
  });

  it('a release sorts after its prereleases', () => {
    expect(sorted(['1.0.0', '1.0.0-rc.1', '1.0.0-alpha'])).toEqual(['1.0.0-alpha', '1.0.0-rc.1', '1.0.0']);
  });

  it('labels compare case-insensitively: 1.0.0-BETA equals 1.0.0-beta', () => {
    expect(compareVersions(versionOf('1.0.0-BETA'), versionOf('1.0.0-beta'))).toBe(0);
  });

  it('numeric labels sort before alphanumeric ones', () => {
    expect(compareVersions(versionOf('1.0.0-1'), versionOf('1.0.0-alpha'))).toBe(-1);
  });

  it('fewer labels sort first when the shared ones are equal (beta < beta.1)', () => {
    expect(compareVersions(versionOf('1.0.0-beta'), versionOf('1.0.0-beta.1'))).toBe(-1);
  });

  it('metadata does not take part in ordering', () => {
    expect(compareVersions(versionOf('1.0.0+a'), versionOf('1.0.0+b'))).toBe(0);
  });

  it('the fourth part counts: 1.0.0.1 sorts after 1.0.0', () => {
    expect(compareVersions(versionOf('1.0.0.1'), versionOf('1.0.0'))).toBe(1);
  });

  it('orders a realistic list of versions as NuGet does', () => {
    expect(sorted(['2.0.0', '1.10.0', '1.2.0', '1.2.0-rc.2', '1.2.0-rc.10', '1.2.0-RC.3', '1.2.0-beta'])).toEqual([
      '1.2.0-beta',
      '1.2.0-rc.2',
      '1.2.0-RC.3',
      '1.2.0-rc.10',
      '1.2.0',
      '1.10.0',
      '2.0.0',
    ]);
  });
});

describe('isPrerelease / isSemVer2: what older clients may see', () => {
  it('a single release label is a prerelease but not SemVer 2.0.0', () => {
    const v = versionOf('1.0.0-beta1');
    expect(isPrerelease(v)).toBe(true);
    expect(isSemVer2(v)).toBe(false);
  });

  it('a dotted release label makes a SemVer 2.0.0 version', () => {
    expect(isSemVer2(versionOf('1.0.0-beta.1'))).toBe(true);
  });

  it('build metadata makes a SemVer 2.0.0 version, even on a stable version', () => {
    const v = versionOf('1.0.0+build.5');
    expect(isSemVer2(v)).toBe(true);
    expect(isPrerelease(v)).toBe(false);
  });
});

describe('versionSortKey: SQL ORDER BY agrees with NuGet', () => {
  it('sorting by key gives the comparer order (beta.9 before beta.10, prereleases before the release)', () => {
    const texts = ['1.0.0', '1.0.0-beta.10', '1.0.0-beta.9', '1.0.0-beta', '1.0.0-1', '0.9.0', '1.0.0.1', '1.0.0-BETA.x'];
    const byKey = [...texts].sort((a, b) => {
      const ka = versionSortKey(versionOf(a));
      const kb = versionSortKey(versionOf(b));
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    expect(byKey).toEqual(sorted(texts));
  });

  it('versions that are equal to NuGet share one key', () => {
    expect(versionSortKey(versionOf('1.0-RC+a'))).toBe(versionSortKey(versionOf('1.0.0.0-rc+b')));
  });
});
