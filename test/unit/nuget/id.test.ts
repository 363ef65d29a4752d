import { describe, expect, it } from 'vitest';
import { compareIds, idsEqual, isValidPackageId, lowerId, MAX_PACKAGE_ID_LENGTH } from '../../../src/nuget/id.js';

describe('isValidPackageId: what NuGet accepts as a package id', () => {
  it.each(['Newtonsoft.Json', 'xunit.runner.visualstudio', 'My-Package_1', '_', '1', 'Straße', 'İstanbul.Tools'])(
    'accepts %j',
    (id) => {
      expect(isValidPackageId(id)).toBe(true);
    },
  );

  it.each([
    ['', 'empty'],
    ['.Lead', 'a leading separator'],
    ['Trail-', 'a trailing separator'],
    ['a..b', 'doubled separators'],
    ['a.-b', 'mixed doubled separators'],
    ['a b', 'a space'],
    ['a/b', 'a slash (path traversal)'],
    ['..', 'dots only'],
    ['a+b', 'a plus'],
    ['a\u{1d400}', 'a character outside the BMP'],
  ])('refuses %j (%s)', (id) => {
    expect(isValidPackageId(id)).toBe(false);
  });

  it(`allows ${MAX_PACKAGE_ID_LENGTH} characters and no more`, () => {
    expect(isValidPackageId('a'.repeat(MAX_PACKAGE_ID_LENGTH))).toBe(true);
    expect(isValidPackageId('a'.repeat(MAX_PACKAGE_ID_LENGTH + 1))).toBe(false);
  });

  it('refuses a trailing line break, which NuGet itself lets through', () => {
    expect(isValidPackageId('Foo\n')).toBe(false);
  });
});

describe('lowerId / idsEqual: one package whatever the case', () => {
  it('lower-cases ids for URLs and keys', () => {
    expect(lowerId('Newtonsoft.Json')).toBe('newtonsoft.json');
  });

  it('lower-cases character by character like .NET (no final sigma, İ stays one character)', () => {
    expect(lowerId('ΣΑΣ')).toBe('σασ');
    expect(lowerId('İ')).toHaveLength(1);
  });

  it('ids differing only in case are the same package', () => {
    expect(idsEqual('Newtonsoft.Json', 'NEWTONSOFT.JSON')).toBe(true);
    expect(idsEqual('Newtonsoft.Json', 'Newtonsoft.Jso')).toBe(false);
  });

  it('orders ids case-insensitively', () => {
    expect(['b', 'A', 'a', 'C'].sort(compareIds)).toEqual(['A', 'a', 'b', 'C']);
  });
});
