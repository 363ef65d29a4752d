import { describe, expect, it } from 'vitest';
import { PawketError } from '../../../src/errors.js';
import {
  literalParam,
  parseFilter,
  parseOrderBy,
  parseSelect,
  pinnedIds,
  wholeNumberParam,
} from '../../../src/http/v2/odata-query.js';

describe('OData $filter parsing', () => {
  it('reads the forms NuGet clients send', () => {
    // NuGet.Client's V2 query builder (GetPackages with a search term)
    const clientSearch =
      "((((Id ne null) and substringof('json',tolower(Id))) or ((Description ne null) and substringof('json',tolower(Description)))) or ((Tags ne null) and substringof(' json ',tolower(Tags)))) and IsLatestVersion";
    for (const text of [
      'IsLatestVersion',
      'IsAbsoluteLatestVersion',
      "Id eq 'Foo'",
      "tolower(Id) eq 'foo'",
      "(Id eq 'Foo') and (NormalizedVersion eq '1.0.0')",
      "(tolower(Id) eq 'foo') and (Version eq '1.0')",
      "IsLatestVersion and substringof('PSModule', Tags)",
      "Published gt datetime'2020-01-01T00:00:00'",
      "not IsPrerelease and length(Id) ge 3",
      clientSearch,
    ]) {
      expect(() => parseFilter(text), text).not.toThrow();
    }
    expect(parseFilter("tolower(Id) eq 'it''s'")).toEqual({
      kind: 'binary',
      op: 'eq',
      left: { kind: 'call', name: 'tolower', args: [{ kind: 'property', name: 'Id' }] },
      right: { kind: 'literal', value: "it's" },
    });
  });

  it('binds and tighter than or, and comparisons tighter than both', () => {
    const e = parseFilter("Id eq 'a' or Id eq 'b' and IsPrerelease");
    expect(e).toMatchObject({ op: 'or', right: { op: 'and' } });
  });

  it('refuses what it cannot read with a 400 that says why', () => {
    for (const [text, reason] of [
      ["Id eq 'open", /no closing quote/],
      ['frobnicate(Id)', /frobnicate\(\) is not supported/],
      ["Id eq 'a' )", /expected eof|unexpected/],
      ['substringof(Id)', /takes 2 arguments/],
      ['Id eq #', /unexpected '#'/],
    ] as const) {
      let error: unknown;
      try {
        parseFilter(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(PawketError);
      expect((error as PawketError).status).toBe(400);
      expect((error as PawketError).message, text).toMatch(reason);
    }
  });

  it('bounds the work a hostile filter can ask for', () => {
    expect(() => parseFilter('('.repeat(100) + 'IsLatestVersion' + ')'.repeat(100))).toThrow(/too complex/);
    expect(() => parseFilter(`Id eq '${'x'.repeat(5000)}'`)).toThrow(/longer than/);
    expect(() => parseFilter(Array.from({ length: 300 }, () => 'a eq 1').join(' or '))).toThrow(/too complex/);
  });
});

describe('OData options', () => {
  it('reads $orderby with directions', () => {
    expect(parseOrderBy('DownloadCount desc,Id')).toEqual([
      { expr: { kind: 'property', name: 'DownloadCount' }, descending: true },
      { expr: { kind: 'property', name: 'Id' }, descending: false },
    ]);
    expect(parseOrderBy('concat(Title,Id) asc')[0]).toMatchObject({ expr: { kind: 'call', name: 'concat' }, descending: false });
  });

  it('reads literals, numbers and $select', () => {
    expect(literalParam("'Foo.Bar'")).toBe('Foo.Bar');
    expect(literalParam("'it''s'")).toBe("it's");
    expect(literalParam('Foo')).toBe('Foo');
    expect(literalParam(undefined)).toBeNull();
    expect(() => literalParam("'open")).toThrow(/closing quote/);
    expect(wholeNumberParam('30', '$top')).toBe(30);
    expect(() => wholeNumberParam('-1', '$top')).toThrow(/whole number/);
    expect(parseSelect('Id, Version')).toEqual(['Id', 'Version']);
    expect(parseSelect('*')).toBeNull();
    expect(() => parseSelect('Id;drop')).toThrow(/not a property name/);
  });
});

describe('what a filter pins', () => {
  it('finds ids pinned by equality, in conjunctions and disjunctions', () => {
    expect(pinnedIds(parseFilter("Id eq 'Foo'"))).toEqual(['Foo']);
    expect(pinnedIds(parseFilter("'Foo' eq tolower(Id)"))).toEqual(['Foo']);
    expect(pinnedIds(parseFilter("(tolower(Id) eq 'foo') and (NormalizedVersion eq '1.0.0')"))).toEqual(['foo']);
    expect(pinnedIds(parseFilter("Id eq 'a' or Id eq 'b'"))).toEqual(['a', 'b']);
    expect(pinnedIds(parseFilter("Id eq 'a' or IsLatestVersion"))).toBeNull();
    expect(pinnedIds(parseFilter("Id ne 'a'"))).toBeNull();
    expect(pinnedIds(parseFilter("substringof('a', Id)"))).toBeNull();
  });
});
