/**
 * Differential test: our NuGet rules against NuGet's own libraries (NuGet.Versioning, NuGet.Frameworks,
 * NuGet.Packaging 8.0.0) run by the C# oracle in test/oracle. Curated corner cases plus seeded generated inputs;
 * any disagreement fails with the input and both answers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PawketError } from '../../../src/errors.js';
import { isValidPackageId, lowerId, MAX_PACKAGE_ID_LENGTH } from '../../../src/nuget/id.js';
import { parseNuspec } from '../../../src/nuget/nuspec.js';
import { longName, tryParseFramework, tryShortFolderName } from '../../../src/nuget/framework.js';
import {
  findBestMatch,
  isFloating,
  legacyRange,
  legacyShortRange,
  normalizeRange,
  parseRange,
  rangeIsSemVer2,
  satisfies,
  shortRange,
} from '../../../src/nuget/range.js';
import {
  compareVersions,
  fullVersion,
  isPrerelease,
  isSemVer2,
  normalizeVersion,
  parseVersion,
  versionSortKey,
  type NuGetVersion,
} from '../../../src/nuget/version.js';
import {
  comparableVersionText,
  frameworkText,
  idText,
  nearbyVersionText,
  nuspecCase,
  Random,
  rangeText,
  versionText,
} from '../../oracle/generate.js';
import { askOracle, buildOracle, dotnetAvailable, type OracleRequest } from '../../oracle/oracle.js';
import { CURATED_FRAMEWORKS, CURATED_IDS, CURATED_RANGES, CURATED_VERSIONS } from './curated.js';

// Override for a longer soak: NUGET_DIFF_COUNT=200000 NUGET_DIFF_SEED=7 npx vitest run test/unit/nuget/differential
const GENERATED = Number(process.env['NUGET_DIFF_COUNT'] ?? 10_000);
const NUSPEC_GENERATED = Math.ceil(GENERATED / 5);
const SEED = Number(process.env['NUGET_DIFF_SEED'] ?? 20240607);
const hasDotnet = dotnetAvailable();
if (!hasDotnet) {
  console.warn(
    '\n*** SKIPPING the NuGet differential test: `dotnet` is not on PATH, so NuGet rules are NOT being checked ' +
      'against NuGet itself. Install the .NET SDK to run it. ***\n',
  );
}

/** Collects disagreements and fails once with the first few, each with the input and both answers. */
function expectAgreement(kind: string, inputs: readonly unknown[], ours: readonly unknown[], theirs: readonly unknown[]): void {
  const mismatches: string[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const a = JSON.stringify(ours[i]);
    const b = JSON.stringify(theirs[i]);
    if (a !== b) mismatches.push(`${kind} input ${JSON.stringify(inputs[i])}\n    ours:  ${a}\n    NuGet: ${b}`);
  }
  if (mismatches.length > 0) {
    const shown = mismatches.slice(0, 25).join('\n');
    expect.fail(`${mismatches.length} of ${inputs.length} ${kind} inputs disagree with NuGet:\n${shown}`);
  }
}

/** Whether we accept a nuspec, and the description we read from it; a refusal must be a 400. */
function nuspecAnswer(bytes: Buffer): Record<string, unknown> {
  try {
    return { ok: true, description: parseNuspec(bytes).description };
  } catch (error) {
    if (!(error instanceof PawketError) || error.status !== 400) throw error;
    return { ok: false };
  }
}

function versionAnswer(s: string): Record<string, unknown> {
  const v = parseVersion(s);
  if (v === null) return { ok: false };
  return {
    ok: true,
    normalized: normalizeVersion(v),
    full: fullVersion(v),
    original: v.original,
    semVer2: isSemVer2(v),
    prerelease: isPrerelease(v),
  };
}

function compareAnswer(a: string, b: string): Record<string, unknown> {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va === null || vb === null) return { result: null };
  const result = compareVersions(va, vb);
  // The SQL sort key must order exactly as the comparer does.
  const ka = versionSortKey(va);
  const kb = versionSortKey(vb);
  const keyOrder = ka < kb ? -1 : ka > kb ? 1 : 0;
  return keyOrder === result ? { result } : { result, sortKeyDisagrees: [ka, kb] };
}

function rangeAnswer(s: string, candidates: readonly string[]): Record<string, unknown> {
  const r = parseRange(s);
  if (r === null) return { ok: false };
  const versions = candidates.map((c) => parseVersion(c));
  const valid = versions.filter((v): v is NuGetVersion => v !== null);
  const best = findBestMatch(r, valid);
  return {
    ok: true,
    normalized: normalizeRange(r),
    legacy: legacyRange(r),
    legacyShort: legacyShortRange(r),
    short: shortRange(r),
    floating: isFloating(r),
    min: r.minVersion ? fullVersion(r.minVersion) : null,
    max: r.maxVersion ? fullVersion(r.maxVersion) : null,
    minInclusive: r.isMinInclusive,
    maxInclusive: r.isMaxInclusive,
    semVer2: rangeIsSemVer2(r),
    satisfies: versions.map((v) => (v === null ? null : satisfies(r, v))),
    best: best === null ? -1 : versions.indexOf(best),
  };
}

function frameworkAnswer(s: string): Record<string, unknown> {
  const f = tryParseFramework(s);
  if (f === null) return { ok: false };
  const short = tryShortFolderName(f);
  return {
    ok: true,
    framework: f.framework,
    version: f.version.join('.'),
    profile: f.profile,
    platform: f.platform,
    platformVersion: f.platformVersion.join('.'),
    long: longName(f),
    ...(short === null ? { shortError: true } : { short }),
  };
}

/** NuGet's framework answer without the exception type names (we only say whether it threw). */
function frameworkExpectation(nuget: Record<string, unknown>): Record<string, unknown> {
  const { error: _error, shortError, ...rest } = nuget;
  return shortError === undefined ? rest : { ...rest, shortError: true };
}

/**
 * Our id answer next to NuGet's. Two deliberate differences, applied to NuGet's answer before comparing:
 * we also enforce the 100-character limit (NuGet checks it separately), and we refuse a trailing "\n" that .NET's
 * `$` lets through.
 */
function idExpectation(s: string, nuget: Record<string, unknown>): Record<string, unknown> {
  const valid = nuget['valid'] === true && s.length <= MAX_PACKAGE_ID_LENGTH && !s.endsWith('\n');
  return { valid, lower: nuget['lower'] };
}

describe.skipIf(!hasDotnet)('differential against NuGet 8.0.0 (test/oracle)', () => {
  const rand = new Random(SEED);

  beforeAll(() => {
    buildOracle();
  });

  it(`versions: parse, normalize, full string, SemVer2, prerelease (${CURATED_VERSIONS.length} curated + ${GENERATED} generated)`, async () => {
    const inputs = [...CURATED_VERSIONS, ...Array.from({ length: GENERATED }, () => versionText(rand))];
    const theirs = await askOracle(inputs.map((s): OracleRequest => ({ op: 'version', s })));
    expectAgreement('version', inputs, inputs.map(versionAnswer), theirs);
  });

  it(`versions: ordering, and the SQL sort key (${GENERATED} generated pairs + curated pairs)`, async () => {
    const pool = [...CURATED_VERSIONS, ...Array.from({ length: 2000 }, () => comparableVersionText(rand))];
    const pairs: [string, string][] = [];
    for (const a of CURATED_VERSIONS.slice(0, 60)) for (const b of CURATED_VERSIONS.slice(0, 60)) pairs.push([a, b]);
    for (let i = 0; i < GENERATED; i++) {
      const a = rand.pick(pool);
      pairs.push([a, rand.chance(0.3) ? nearbyVersionText(rand, a) : rand.pick(pool)]);
    }
    const theirs = await askOracle(pairs.map(([a, b]): OracleRequest => ({ op: 'compare', a, b })));
    expectAgreement(
      'compare',
      pairs,
      pairs.map(([a, b]) => compareAnswer(a, b)),
      theirs.map((t) => ({ result: t['result'] })),
    );
  });

  it(`ranges: parse, strings, satisfies, best match, SemVer2 (${CURATED_RANGES.length} curated + ${GENERATED} generated)`, async () => {
    const candidatePool = [...CURATED_VERSIONS, ...Array.from({ length: 500 }, () => comparableVersionText(rand))];
    const inputs = [...CURATED_RANGES, ...Array.from({ length: GENERATED }, () => rangeText(rand))].map((s) => ({
      s,
      v: Array.from({ length: 10 }, () => rand.pick(candidatePool)),
    }));
    const theirs = await askOracle(inputs.map(({ s, v }): OracleRequest => ({ op: 'range', s, v })));
    expectAgreement('range', inputs, inputs.map(({ s, v }) => rangeAnswer(s, v)), theirs);
  });

  it(`frameworks: parse, short folder name, long name (${CURATED_FRAMEWORKS.length} curated + ${GENERATED} generated)`, async () => {
    const inputs = [...CURATED_FRAMEWORKS, ...Array.from({ length: GENERATED }, () => frameworkText(rand))];
    const theirs = await askOracle(inputs.map((s): OracleRequest => ({ op: 'framework', s })));
    expectAgreement('framework', inputs, inputs.map(frameworkAnswer), theirs.map(frameworkExpectation));
  });

  it('frameworks: every BMP character as an unknown identifier (letter or digit? lower case?)', async () => {
    const inputs: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      if (c < 0xd800 || c > 0xdfff) inputs.push(`x${String.fromCharCode(c)},Version=v1.0`);
    }
    const theirs = await askOracle(inputs.map((s): OracleRequest => ({ op: 'framework', s })));
    expectAgreement('framework', inputs, inputs.map(frameworkAnswer), theirs.map(frameworkExpectation));
  });

  it(`ids: validity and lower-case form (${CURATED_IDS.length} curated + ${GENERATED} generated)`, async () => {
    const inputs = [...CURATED_IDS, ...Array.from({ length: GENERATED }, () => idText(rand))];
    const theirs = await askOracle(inputs.map((s): OracleRequest => ({ op: 'id', s })));
    expectAgreement(
      'id',
      inputs,
      inputs.map((s) => ({ valid: isValidPackageId(s), lower: lowerId(s) })),
      inputs.map((s, i) => idExpectation(s, theirs[i] ?? {})),
    );
  });

  it(`nuspecs: refused exactly when NuGet's reader refuses the characters or bytes (${NUSPEC_GENERATED} generated)`, async () => {
    const cases = Array.from({ length: NUSPEC_GENERATED }, () => nuspecCase(rand));
    const theirs = await askOracle(cases.map(({ bytes }): OracleRequest => ({ op: 'nuspec', b64: bytes.toString('base64') })));
    expectAgreement(
      'nuspec',
      cases.map((c) => c.label),
      cases.map((c) => nuspecAnswer(c.bytes)),
      theirs.map((t) => (t['ok'] === true ? { ok: true, description: t['description'] } : { ok: false })),
    );
  });

  it('ids: every BMP character alone (word character? lower case?), so Unicode-version drift shows', async () => {
    const inputs: string[] = [];
    for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) inputs.push(String.fromCharCode(c));
    // Astral letters are never word characters, but some have lower-case forms.
    for (let c = 0x10000; c < 0x1f000; c += 7) inputs.push(String.fromCodePoint(c));
    const theirs = await askOracle(inputs.map((s): OracleRequest => ({ op: 'id', s })));
    expectAgreement(
      'id',
      inputs,
      inputs.map((s) => ({ valid: isValidPackageId(s), lower: lowerId(s) })),
      inputs.map((s, i) => idExpectation(s, theirs[i] ?? {})),
    );
  });
});
