import { describe, expect, it } from 'vitest';
import { ownerName } from '../../../src/feed/ownership.js';
import { userNameFrom } from '../../../src/people/oidc.js';

describe('user names made from claims', () => {
  it.each([
    ['Alice', 'alice'],
    ['Carol Smith!', 'carol-smith'],
    ['alice@example.com', 'alice-example.com'],
    ['José Núñez', 'jose-nunez'],
    ['--weird..', 'weird'],
    ['日本語', 'user'],
    ['', 'user'],
    ['x'.repeat(100), 'x'.repeat(58)],
  ])('%j becomes %j, a valid owner name', (claim, expected) => {
    const name = userNameFrom(claim);
    expect(name).toBe(expected);
    expect(ownerName(`${name}-12`)).toBe(`${name}-12`);
  });
});
