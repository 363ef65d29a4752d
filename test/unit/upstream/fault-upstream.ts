import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FileMode = 'ok' | 'hang' | '500' | 'truncated' | 'wrong-hash' | 'garbage';
export type MetadataMode = 'ok' | 'hang' | '500' | 'garbage';
export type SearchMode = 'ok' | 'hang' | '500' | 'garbage';

interface Hosted {
  readonly id: string;
  readonly version: string;
  readonly bytes: Buffer;
}

/**
 * A tiny V3 feed for tests that misbehaves on demand: it hangs, answers 500, truncates package files, serves bytes
 * that do not match the published hash, or answers garbage. It counts the requests of each path.
 */
export class FaultUpstream {
  metadataMode: MetadataMode = 'ok';
  searchMode: SearchMode = 'ok';
  fileMode: FileMode = 'ok';
  readonly hits = new Map<string, number>();
  private readonly packages: Hosted[] = [];
  private readonly server: Server;
  private readonly hanging = new Set<import('node:http').ServerResponse>();
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const base = this.url;
      const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (path === '/v3/index.json') {
        return json({
          version: '3.0.0',
          resources: [
            { '@id': `${base}/flat/`, '@type': 'PackageBaseAddress/3.0.0' },
            { '@id': `${base}/reg/`, '@type': 'RegistrationsBaseUrl/3.6.0' },
            { '@id': `${base}/search`, '@type': 'SearchQueryService/3.5.0' },
            { '@id': `${base}/autocomplete`, '@type': 'SearchAutocompleteService/3.5.0' },
          ],
        });
      }
      if (path === '/search' || path === '/autocomplete') {
        if (this.searchMode === 'hang') return void this.hanging.add(res);
        if (this.searchMode === '500') return res.writeHead(500).end('boom');
        if (this.searchMode === 'garbage') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"totalHits": "many", "data": 7}');
        return json(this.search(path, query));
      }
      const reg = /^\/reg\/([^/]+)\/index\.json$/.exec(path);
      if (reg) {
        if (this.metadataMode === 'hang') return void this.hanging.add(res);
        if (this.metadataMode === '500') return res.writeHead(500).end('boom');
        if (this.metadataMode === 'garbage') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"items": [{"nope"');
        const mine = this.packages.filter((p) => p.id.toLowerCase() === reg[1]);
        if (mine.length === 0) return res.writeHead(404).end();
        return json({
          count: 1,
          items: [
            {
              '@id': `${base}/reg/${reg[1]}/page.json`,
              count: mine.length,
              items: mine.map((p) => ({
                catalogEntry: {
                  id: p.id,
                  version: p.version,
                  listed: true,
                  description: `${p.id} from the fault upstream`,
                  authors: 'Fault',
                  packageHash: createHash('sha512').update(p.bytes).digest('base64'),
                  packageHashAlgorithm: 'SHA512',
                },
              })),
            },
          ],
        });
      }
      const file = /^\/flat\/([^/]+)\/([^/]+)\/[^/]+\.nupkg$/.exec(path);
      if (file) {
        const p = this.packages.find((x) => x.id.toLowerCase() === file[1] && x.version.toLowerCase() === file[2]);
        if (!p) return res.writeHead(404).end();
        switch (this.fileMode) {
          case 'hang':
            return void this.hanging.add(res);
          case '500':
            return res.writeHead(500).end('boom');
          case 'truncated':
            res.writeHead(200, { 'content-length': p.bytes.length, 'content-type': 'application/octet-stream' });
            res.write(p.bytes.subarray(0, p.bytes.length >> 1));
            return setTimeout(() => res.destroy(), 20);
          case 'wrong-hash': {
            const other = Buffer.from(p.bytes);
            other[other.length - 1] = other[other.length - 1]! ^ 0xff;
            return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(other);
          }
          case 'garbage':
            return res.writeHead(200).end('this is not a zip');
          default:
            return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(p.bytes);
        }
      }
      res.writeHead(404).end();
    });
  }

  /** Search and autocomplete as a feed would answer them: ids containing `q`, in the order they were added. */
  private search(path: string, query: URLSearchParams): { totalHits: number; data: unknown[] } {
    const prerelease = query.get('prerelease') === 'true';
    const visible = this.packages.filter((p) => prerelease || !p.version.includes('-'));
    const wanted = query.get('id');
    if (path === '/autocomplete' && wanted !== null) {
      const versions = visible.filter((p) => p.id.toLowerCase() === wanted.toLowerCase()).map((p) => p.version);
      return { totalHits: versions.length, data: versions };
    }
    const q = (query.get('q') ?? '').toLowerCase();
    const ids = [...new Set(visible.filter((p) => p.id.toLowerCase().includes(q)).map((p) => p.id))];
    const skip = Number(query.get('skip') ?? 0);
    const page = ids.slice(skip, skip + Number(query.get('take') ?? 20));
    if (path === '/autocomplete') return { totalHits: ids.length, data: page };
    return {
      totalHits: ids.length,
      data: page.map((id) => {
        const versions = visible.filter((p) => p.id === id).map((p) => ({ version: p.version, downloads: 1 }));
        return { id, version: versions.at(-1)!.version, description: `${id} from the fault upstream`, versions, totalDownloads: versions.length };
      }),
    };
  }

  add(id: string, version: string, bytes: Buffer): void {
    this.packages.push({ id, version, bytes });
  }

  hitsOf(fragment: string): number {
    let n = 0;
    for (const [path, count] of this.hits) if (path.includes(fragment)) n += count;
    return n;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return `${this.url}/v3/index.json`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
