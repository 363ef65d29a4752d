/** Which trusted-signer policy decides for an id, and what a policy may say (src/signing/signer-policy.ts). */
import { describe, expect, it } from 'vitest';
import type { SignerPolicyRecord } from '../../../src/db/signer-policy-database.js';
import { feedDefaultPolicy } from '../../../src/feed/signer-policies.js';
import { checkSignerPolicy, MAX_FINGERPRINTS, policyCovering } from '../../../src/signing/signer-policy.js';

const FP = 'AB'.repeat(32);
let nextId = 1;
const policy = (name: string, pattern: string | null, owner: string | null): SignerPolicyRecord => ({
  policyId: nextId++,
  name,
  pattern,
  owner,
  mode: 'require',
  fingerprints: [],
  created: '2026-01-01T00:00:00Z',
  createdBy: 'test',
});

describe('the policy that decides for an id', () => {
  const policies = [
    policy('contoso-all', null, 'contoso'),
    policy('any-contoso', 'Contoso.*', null),
    policy('contoso-tools', 'Contoso.Tools.*', null),
    policy('contoso-own', 'Contoso.*', 'contoso'),
    policy('exact', 'Contoso.Tools.Cli', null),
    policy('exact-too', 'Contoso.Tools.Cli', null),
  ];
  const decide = (id: string, owner: string | null) => policyCovering(policies, id, owner)?.name;

  it('prefers owner and pattern, then pattern, then owner; the longest pattern, then the oldest', () => {
    expect(decide('contoso.core', 'contoso')).toBe('contoso-own');
    expect(decide('contoso.core', 'someone-else')).toBe('any-contoso');
    expect(decide('contoso.core', null)).toBe('any-contoso');
    expect(decide('contoso.tools.build', 'contoso')).toBe('contoso-own');
    expect(decide('contoso.tools.build', null)).toBe('contoso-tools');
    expect(decide('contoso.tools.cli', null)).toBe('exact');
    expect(decide('fabrikam.core', 'contoso')).toBe('contoso-all');
    expect(decide('fabrikam.core', 'fabrikam')).toBeUndefined();
  });

  it('matches ids and owners whatever their case', () => {
    expect(decide('CONTOSO.Core', 'Contoso')).toBe('contoso-own');
  });

  it("falls back to the feed's signatures setting, read defensively", () => {
    expect(feedDefaultPolicy(undefined)).toEqual({ name: 'feed default', mode: 'accept', fingerprints: [] });
    expect(feedDefaultPolicy('verify').mode).toBe('verify');
    expect(feedDefaultPolicy({ mode: 'require', fingerprints: [FP.toLowerCase(), 'junk'] })).toMatchObject({ mode: 'require', fingerprints: [FP] });
    expect(feedDefaultPolicy('strict').mode).toBe('accept');
  });
});

describe('what a policy may say', () => {
  const ok = { name: 'contoso', pattern: 'Contoso.*', mode: 'require' };

  it('normalizes fingerprints as people copy them, and owners to lower case', () => {
    const colons = FP.match(/../g)!.join(':').toLowerCase();
    expect(checkSignerPolicy({ ...ok, owner: 'Contoso', fingerprints: [colons, FP] })).toEqual({ name: 'contoso', pattern: 'Contoso.*', owner: 'contoso', mode: 'require', fingerprints: [FP] });
  });

  it('refuses what is wrong with a 400 naming the field', () => {
    const refusal = (request: Parameters<typeof checkSignerPolicy>[0]) => {
      try {
        checkSignerPolicy(request);
      } catch (err) {
        expect((err as { status: number }).status).toBe(400);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal({ ...ok, name: '../x' })).toMatch(/^name: /);
    expect(refusal({ ...ok, pattern: 'Contoso/*' })).toMatch(/^pattern: .*not an id pattern/);
    expect(refusal({ ...ok, pattern: 'A'.repeat(101) })).toMatch(/^pattern: /);
    expect(refusal({ ...ok, pattern: null, owner: 'no spaces' })).toMatch(/^owner: /);
    expect(refusal({ ...ok, pattern: null })).toMatch(/^pattern, owner: /);
    expect(refusal({ ...ok, mode: 'strict' })).toMatch(/^mode: .*accept, verify, require/);
    expect(refusal({ ...ok, fingerprints: ['AB'.repeat(20)] })).toMatch(/^fingerprints: .*SHA-256/);
    expect(refusal({ ...ok, fingerprints: Array.from({ length: MAX_FINGERPRINTS + 1 }, () => FP) })).toMatch(/^fingerprints: a policy allows at most 20/);
    expect(refusal({ ...ok, mode: 'accept', fingerprints: [FP] })).toMatch(/^fingerprints: only a policy in mode require/);
    expect(refusal({ ...ok, mode: 'verify', fingerprints: [FP] })).toMatch(/^fingerprints: only a policy in mode require/);
  });
});
