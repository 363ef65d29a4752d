import { describe, expect, it } from 'vitest';
import type { UpstreamClient, UpstreamPage } from '../../../src/feed/upstream/client.js';
import { UpstreamSearch, type UpstreamAsker } from '../../../src/feed/upstream/upstream-search.js';

const request = (query: string) => ({ query, skip: 0, take: 2, prerelease: false, semVer2: true, packageType: null });

/** Upstreams answering every search with two ids; `down` ones answer nothing (as the breaker does). */
function asker(urls: string[], down: string[] = []) {
  const asked: string[] = [];
  const upstreams: UpstreamAsker = {
    urls,
    allows: (url, id) => !(url === 'u2' && id.startsWith('Denied')),
    ask: async <T>(url: string, work: (client: UpstreamClient) => Promise<T>) => {
      const client = {
        search: async (params: URLSearchParams) => {
          asked.push(`${url} ${params}`);
          return { totalHits: 2, data: [{ id: `${params.get('q')}.A`, version: '1.0.0' }, { id: `${params.get('q')}.B`, version: '1.0.0' }] };
        },
        autocomplete: async (params: URLSearchParams): Promise<UpstreamPage<string>> => {
          asked.push(`${url} ${params}`);
          return { totalHits: 1, data: ['1.0.0'] };
        },
      } as unknown as UpstreamClient;
      return down.includes(url) ? null : work(client);
    },
  };
  return { upstreams, asked };
}

describe('UpstreamSearch', () => {
  it('asks every upstream with the same filter and leaves out those that answer nothing', async () => {
    const { upstreams, asked } = asker(['u1', 'u2', 'u3'], ['u2']);
    const answers = await new UpstreamSearch(upstreams).search(request('json'));
    expect(answers.map((a) => [a.upstream, a.totalHits, a.items.length])).toEqual([['u1', 2, 2], ['u3', 2, 2]]);
    expect(asked).toContain('u1 q=json&skip=0&take=2&prerelease=false&semVerLevel=2.0.0');
  });

  it('keeps answers for a while, bounded by the number of hits held', async () => {
    const { upstreams, asked } = asker(['u1']);
    const search = new UpstreamSearch(upstreams, { maxItems: 4 });
    await search.search(request('a'));
    await search.search(request('a'));
    expect(asked).toHaveLength(1);
    await search.search(request('b'));
    await search.search(request('c')); // 6 hits > 4: the answer for 'a' goes
    await search.search(request('c'));
    expect(asked).toHaveLength(3);
    await search.search(request('a'));
    expect(asked).toHaveLength(4);
    const expired = new UpstreamSearch(upstreams, { ttlMs: 0 });
    await expired.search(request('d'));
    await expired.search(request('d'));
    expect(asked).toHaveLength(6);
  });

  it('shares one request between identical concurrent questions', async () => {
    const { upstreams, asked } = asker(['u1']);
    const search = new UpstreamSearch(upstreams);
    await Promise.all([search.search(request('x')), search.search(request('x')), search.search(request('x'))]);
    expect(asked).toHaveLength(1);
  });

  it('asks for the versions of an id only the upstreams that may show it', async () => {
    const { upstreams, asked } = asker(['u1', 'u2']);
    const answers = await new UpstreamSearch(upstreams).autocompleteVersions('Denied.Lib', { prerelease: true, semVer2: false, packageType: null });
    expect(answers.map((a) => a.upstream)).toEqual(['u1']);
    expect(asked).toEqual(['u1 id=Denied.Lib&prerelease=true']);
  });
});
