import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BASE_IDLE_MS, documentAnswer, MAX_BASES_PER_DOCUMENT, ResponseCache, type CachedDocument } from '../../../src/http/response-cache.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GZIP = { 'accept-encoding': 'gzip' };
const CC = 'public, max-age=0, must-revalidate';

/** Text gzip cannot shrink much, so sizes stay predictable. */
const noise = (bytes: number, seed = 1) => {
  let x = seed;
  let out = '';
  while (out.length < bytes) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += x.toString(36);
  }
  return out.slice(0, bytes);
};

/** A registration-like document: links built on the base it is given. */
const linked = (base: string, id: string, text: string) => ({
  '@id': `${base}/v3/registration/${id}/index.json`,
  items: [{ packageContent: `${base}/v3/flatcontainer/${id}/1.0.0/${id}.1.0.0.nupkg`, description: text }],
});

const body = (doc: CachedDocument, headers: Record<string, string> = {}) => {
  const answer = documentAnswer(headers, doc, CC);
  return answer.headers['content-encoding'] === 'gzip' ? gunzipSync(answer.body!) : answer.body!;
};

afterEach(() => {
  vi.useRealTimers();
});

describe('the response cache byte bound', () => {
  it('never holds more than its size, counting bodies, gzip forms and answers, and drops the least recently used first', async () => {
    const cache = new ResponseCache(MiB);
    for (let i = 0; i < 40; i++) {
      const doc = await cache.get(`k${i}`, `id${i}`, async () => ({ text: noise(50 * KiB, i + 1) }));
      documentAnswer(GZIP, doc!, CC); // adds the gzip form
      documentAnswer({}, doc!, CC);
      expect(cache.bytes).toBeLessThanOrEqual(MiB);
      // One document kept in use all along stays.
      expect(cache.peek('k0')).toBeDefined();
    }
    expect(cache.bytes).toBeGreaterThan(MiB / 2);
    expect(cache.peek('k1')).toBeUndefined();
    expect(cache.peek('k39')).toBeDefined();
  });

  it('counts the gzip form when it is made', async () => {
    const cache = new ResponseCache(8 * MiB);
    const doc = (await cache.get('k', 'id', async () => ({ text: noise(100 * KiB) })))!;
    const before = cache.bytes;
    expect(before).toBeGreaterThan(100 * KiB);
    const gzip = documentAnswer(GZIP, doc, CC).body!;
    expect(cache.bytes - before).toBeGreaterThanOrEqual(gzip.length);
  });

  it('answers a document bigger than the whole cache without keeping it', async () => {
    const cache = new ResponseCache(MiB);
    const render = vi.fn(async () => ({ text: noise(2 * MiB) }));
    expect(body((await cache.get('big', 'id', render))!).length).toBeGreaterThan(2 * MiB);
    expect(cache.bytes).toBe(0);
    await cache.get('big', 'id', render);
    expect(render).toHaveBeenCalledTimes(2);
  });

  it('drops what a push changed, and does not keep what rendered while it happened', async () => {
    const cache = new ResponseCache(MiB);
    await cache.get('a', 'id', async () => ({ v: 1 }));
    cache.invalidate('id');
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.bytes).toBe(0);
    let finish!: () => void;
    const rendering = cache.get('a', 'id', () => new Promise((resolve) => (finish = () => resolve({ v: 1 }))));
    cache.invalidate('id'); // the push lands while the old rows are being rendered
    finish();
    expect(JSON.parse(body((await rendering)!).toString())).toEqual({ v: 1 });
    expect(cache.peek('a')).toBeUndefined();
  });
});

describe('documents linked from many base URLs', () => {
  it('render once and answer each base with the bytes a rendering for it would have', async () => {
    const cache = new ResponseCache(8 * MiB);
    const render = vi.fn(async (base: string) => linked(base, 'contoso.core', 'text'));
    const bases = ['http://localhost:5000', 'http://127.0.0.1:5000', 'https://[::1]:8443'];
    const etags = new Set<string>();
    for (const base of bases) {
      const doc = (await cache.get('reg', 'contoso.core', render, base))!;
      expect(body(doc).equals(Buffer.from(JSON.stringify(linked(base, 'contoso.core', 'text'))))).toBe(true);
      expect(body(doc, GZIP).equals(body(doc))).toBe(true);
      etags.add(doc.etag);
      expect(cache.peek('reg', base)).toBe(doc);
    }
    expect(render).toHaveBeenCalledTimes(1);
    expect(etags.size).toBe(bases.length);
  });

  it('keep finished answers for a few bases; other bases get plain answers made for them, and the cache does not grow', async () => {
    const cache = new ResponseCache(16 * MiB);
    const text = noise(200 * KiB);
    const usual = 'http://nuget.example.test';
    const first = (await cache.get('reg', 'id', async (base) => linked(base, 'id', text), usual))!;
    expect(documentAnswer(GZIP, first, CC).headers['content-encoding']).toBe('gzip');
    for (let i = 1; i < MAX_BASES_PER_DOCUMENT; i++) documentAnswer(GZIP, cache.peek('reg', `http://h${i}.test`)!, CC);
    const held = cache.bytes;
    for (let i = 0; i < 200; i++) {
      const base = `http://cycle${i}.test:8080`;
      const doc = cache.peek('reg', base)!;
      const answer = documentAnswer(GZIP, doc, CC);
      expect(answer.headers['content-encoding']).toBeUndefined(); // no gzip work for a passing host
      expect(JSON.parse(answer.body!.toString())['@id']).toBe(`${base}/v3/registration/id/index.json`);
      expect(documentAnswer({ 'if-none-match': doc.etag }, doc, CC).status).toBe(304);
    }
    expect(cache.bytes).toBe(held);
    // The bases in use keep their finished answers.
    expect(cache.peek('reg', usual)).toBe(first);
    expect(documentAnswer(GZIP, first, CC).headers['content-encoding']).toBe('gzip');
  });

  it('give the place of a base unused for a while to a new one', async () => {
    vi.useFakeTimers();
    const cache = new ResponseCache(16 * MiB);
    await cache.get('reg', 'id', async (base) => linked(base, 'id', 'text'), 'http://old.test');
    for (let i = 1; i < MAX_BASES_PER_DOCUMENT; i++) cache.peek('reg', `http://h${i}.test`);
    expect(documentAnswer(GZIP, cache.peek('reg', 'http://new.test')!, CC).headers['content-encoding']).toBeUndefined();
    vi.advanceTimersByTime(BASE_IDLE_MS + 1);
    const doc = cache.peek('reg', 'http://new.test')!;
    expect(documentAnswer(GZIP, doc, CC).headers['content-encoding']).toBe('gzip');
    expect(cache.peek('reg', 'http://new.test')).toBe(doc);
  });

  it('share one answer for every base when they have no links', async () => {
    const cache = new ResponseCache(MiB);
    const doc = await cache.get('flat', 'id', async () => ({ versions: ['1.0.0'] }));
    expect(cache.peek('flat', 'http://a.test')).toBe(doc);
    expect(cache.peek('flat', 'http://b.test')).toBe(doc);
  });
});
