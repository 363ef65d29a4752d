import { describe, expect, it } from 'vitest';
import {
  checkAdvisoryUrl,
  isVulnerable,
  normalizeVulnerableRange,
  parseAlternate,
  parseDeprecationReason,
  parseSeverity,
} from '../../../src/nuget/advisory.js';
import { parseVersion } from '../../../src/nuget/version.js';

describe('deprecation reasons and severities', () => {
  it('accepts the spellings people type and refuses the rest', () => {
    expect(['legacy', 'Legacy', 'LEGACY'].map(parseDeprecationReason)).toEqual(['Legacy', 'Legacy', 'Legacy']);
    expect(['critical-bugs', 'CriticalBugs', 'critical_bugs'].map(parseDeprecationReason)).toEqual(['CriticalBugs', 'CriticalBugs', 'CriticalBugs']);
    expect(parseDeprecationReason('boring')).toBeNull();
    expect(['low', 'Moderate', 'medium', 'HIGH', 'critical', '2', 3].map(parseSeverity)).toEqual([0, 1, 1, 2, 3, 2, 3]);
    expect(parseSeverity('4')).toBeNull();
    expect(parseSeverity('severe')).toBeNull();
  });
});

describe('vulnerable ranges', () => {
  it('are normalized by NuGet rules', () => {
    expect(normalizeVulnerableRange('[1.0,2.0)')).toBe('[1.0.0, 2.0.0)');
    expect(normalizeVulnerableRange('1.2')).toBe('[1.2.0, )');
    expect(normalizeVulnerableRange('(,1.4.2]')).toBe('(, 1.4.2]');
  });

  it('refuse floating and malformed ranges with the reason', () => {
    expect(() => normalizeVulnerableRange('1.*')).toThrow(/floats/);
    expect(() => normalizeVulnerableRange('[2.0,1.0]')).toThrow(/not a NuGet version range/);
    expect(() => normalizeVulnerableRange('banana')).toThrow(/not a NuGet version range/);
  });

  it('match versions as NuGet ranges do (prereleases inside the bounds too)', () => {
    const v = { url: 'https://a.example/1', severity: 2 as const, versions: '[1.0.0, 2.0.0)' };
    const at = (text: string) => isVulnerable(v, parseVersion(text)!);
    expect(at('1.0.0')).toBe(true);
    expect(at('1.5.0-beta')).toBe(true);
    expect(at('2.0.0')).toBe(false);
    expect(at('0.9.0')).toBe(false);
  });
});

describe('advisory URLs and alternate packages', () => {
  it('only takes absolute http(s) URLs', () => {
    expect(checkAdvisoryUrl('https://github.com/advisories/GHSA-x')).toBe('https://github.com/advisories/GHSA-x');
    expect(() => checkAdvisoryUrl('javascript:alert(1)')).toThrow(/http/);
    expect(() => checkAdvisoryUrl('/relative')).toThrow(/absolute/);
    expect(() => checkAdvisoryUrl(`https://a.example/${'x'.repeat(2100)}`)).toThrow(/longer/);
  });

  it('parses Id and Id@RANGE', () => {
    expect(parseAlternate('Contoso.Http')).toEqual({ id: 'Contoso.Http', range: null });
    expect(parseAlternate('Contoso.Http@*')).toEqual({ id: 'Contoso.Http', range: null });
    expect(parseAlternate('Contoso.Http@[2.0,)')).toEqual({ id: 'Contoso.Http', range: '[2.0.0, )' });
    expect(() => parseAlternate('not an id')).toThrow(/valid package id/);
    expect(() => parseAlternate('Contoso.Http@[x')).toThrow(/range/);
  });
});
