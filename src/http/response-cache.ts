import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A rendered JSON document with its validator; the gzip form is made once, on first demand. */
export class CachedDocument {
  readonly etag: string;
  private gzipped: Buffer | undefined;

  constructor(readonly body: Buffer) {
    this.etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  }

  gzip(): Buffer {
    this.gzipped ??= gzipSync(this.body, { level: 6 });
    return this.gzipped;
  }
}

/**
 * Rendered JSON documents keyed by URL, grouped by package id so a push or unlist drops exactly what it changed.
 * Bounded: the least recently used entries go first.
 */
export class ResponseCache {
  private readonly entries = new Map<string, { doc: CachedDocument; group: string }>();
  private readonly groups = new Map<string, Set<string>>();

  constructor(
    private readonly maxEntries = 20_000,
    /** Told of every lookup (metrics). */
    private readonly onLookup: (hit: boolean) => void = () => {},
  ) {}

  async get(key: string, group: string, render: () => Promise<unknown | null>): Promise<CachedDocument | null> {
    const hit = this.entries.get(key);
    this.onLookup(hit !== undefined);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.doc;
    }
    const value = await render();
    if (value === null) return null;
    const doc = new CachedDocument(Buffer.from(JSON.stringify(value)));
    this.set(key, group, doc);
    return doc;
  }

  invalidate(group: string): void {
    for (const key of this.groups.get(group) ?? []) this.entries.delete(key);
    this.groups.delete(group);
  }

  private set(key: string, group: string, doc: CachedDocument): void {
    this.entries.set(key, { doc, group });
    let keys = this.groups.get(group);
    if (!keys) this.groups.set(group, (keys = new Set()));
    keys.add(key);
    while (this.entries.size > this.maxEntries) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.groups.get(entry.group)?.delete(oldest);
    }
  }
}

/** Sends a document with ETag/If-None-Match (304) and gzip when the client accepts it. */
export function sendDocument(request: FastifyRequest, reply: FastifyReply, doc: CachedDocument, cacheControl: string) {
  reply.header('etag', doc.etag).header('cache-control', cacheControl).header('vary', 'Accept-Encoding');
  if (etagMatches(request.headers['if-none-match'], doc.etag)) return reply.code(304).send();
  reply.type('application/json; charset=utf-8');
  if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
    return reply.header('content-encoding', 'gzip').send(doc.gzip());
  }
  return reply.send(doc.body);
}

/** Mutable documents: clients may reuse them only after revalidating (cheap, thanks to the ETag). */
export const REVALIDATE = 'public, max-age=0, must-revalidate';
/** Documents that never change for a given URL. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** If-None-Match may list several tags, or `*`; weak comparison as RFC 9110 asks for GET. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
