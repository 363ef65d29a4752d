import { describe, expect, it } from 'vitest';
import { FileBytesCache } from '../../../src/feed/file-bytes-cache.js';

const bytes = (n: number, fill = 1) => Buffer.alloc(n, fill);

describe('the in-memory cache of small package files', () => {
  it('keeps the most recently used files within its byte budget', () => {
    const cache = new FileBytesCache(1600);
    cache.set('a', bytes(100));
    cache.set('b', bytes(100));
    for (let i = 0; i < 14; i++) cache.set(`fill${i}`, bytes(100));
    expect(cache.size).toBe(1600);
    cache.get('a'); // a is now the most recent: b goes first
    cache.set('c', bytes(100));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toEqual(bytes(100));
    expect(cache.size).toBeLessThanOrEqual(1600);
  });

  it('never lets one file take more than a sixteenth of the budget', () => {
    const cache = new FileBytesCache(1600);
    cache.set('big', bytes(101));
    expect(cache.get('big')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
