/**
 * Shared pieces of the restore benchmark: the three resources it measures, a raw HTTP client that does not
 * decompress (we compare bytes on the wire), and a seeded random generator so every run builds the same feed.
 */
import http from 'node:http';

/** One measured resource: how its URLs look and what a client sends for it. */
export interface Resource {
  readonly key: 'flat' | 'nupkg' | 'registration';
  readonly label: string;
  readonly pattern: string;
  /** Headers sent with every request of this resource, by both load generators and the snapshot. */
  readonly headers: Readonly<Record<string, string>>;
  /** What Pawket/nginx should reach at least, as a fraction of nginx's requests/s. */
  readonly aim: number;
  /** File (in the work dir) holding this resource's URL paths, one a line. */
  readonly urlFile: string;
}

export const RESOURCES: readonly Resource[] = [
  {
    key: 'flat',
    label: '(a) versions list',
    pattern: 'GET /v3/flatcontainer/{id}/index.json',
    headers: {},
    aim: 0.5,
    urlFile: 'urls-flat.txt',
  },
  {
    key: 'nupkg',
    label: '(b) package download',
    pattern: 'GET /v3/flatcontainer/{id}/{v}/{id}.{v}.nupkg',
    headers: {},
    aim: 0.8,
    urlFile: 'urls-nupkg.txt',
  },
  {
    key: 'registration',
    label: '(c) registration index',
    pattern: 'GET /v3/registration-gz-semver2/{id}/index.json  (Accept-Encoding: gzip)',
    headers: { 'accept-encoding': 'gzip' },
    aim: 0.5,
    urlFile: 'urls-registration.txt',
  },
];

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One request; the body comes back exactly as sent on the wire (no decompression). */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Runs `work` over `items` with at most `limit` in flight; stops at the first failure. */
export async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** mulberry32: small, fast and good enough to make deterministic test data. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with a seeded generator, so both servers and every run see the same order. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const rnd = random(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Positive integer from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Required environment variable (run.sh sets them all). */
export function envString(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run the benchmark with bench/restore/run.sh)`);
  return value;
}

export const MiB = 1024 * 1024;
