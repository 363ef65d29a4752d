import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A rendered JSON document with its validator; the gzip form is made once, on first demand. */
export class CachedDocument {
  readonly etag: string;
  private gzipped: Buffer | undefined;
  /** Finished answers per (variant, cache control): the restore fast path sends them as they are. */
  private readonly answers = new Map<string, DocumentAnswer>();

  constructor(readonly body: Buffer) {
    this.etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  }

  gzip(): Buffer {
    this.gzipped ??= gzipSync(this.body, { level: 6 });
    return this.gzipped;
  }

  answer(variant: 'plain' | 'gzip' | 'not-modified', cacheControl: string): DocumentAnswer {
    const key = `${variant}|${cacheControl}`;
    let found = this.answers.get(key);
    if (!found) {
      const headers: Record<string, string> = { etag: this.etag, 'cache-control': cacheControl, vary: 'Accept-Encoding' };
      let body: Buffer | null = null;
      if (variant !== 'not-modified') {
        headers['content-type'] = 'application/json; charset=utf-8';
        if (variant === 'gzip') headers['content-encoding'] = 'gzip';
        body = variant === 'gzip' ? this.gzip() : this.body;
        headers['content-length'] = String(body.length);
      }
      const rawHeaders = Object.entries(headers).flat();
      found = { status: variant === 'not-modified' ? 304 : 200, headers, rawHeaders, body };
      this.answers.set(key, found);
    }
    return found;
  }
}

/** A document's answer: status, headers (also as Node's flat `[name, value, ...]` list) and body. */
export interface DocumentAnswer {
  readonly status: 200 | 304;
  readonly headers: Readonly<Record<string, string>>;
  readonly rawHeaders: string[];
  readonly body: Buffer | null;
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

  /** The cached document, without rendering on a miss (the fast path falls back to the routes then). */
  peek(key: string): CachedDocument | undefined {
    const hit = this.entries.get(key);
    if (hit) this.onLookup(true);
    return hit?.doc;
  }

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

/** What answers a document request: 304 on a matching ETag, gzip when the client accepts it. */
export function documentAnswer(
  headers: { 'if-none-match'?: string | undefined; 'accept-encoding'?: string | undefined },
  doc: CachedDocument,
  cacheControl: string,
): DocumentAnswer {
  if (etagMatches(headers['if-none-match'], doc.etag)) return doc.answer('not-modified', cacheControl);
  return doc.answer(/\bgzip\b/.test(headers['accept-encoding'] ?? '') ? 'gzip' : 'plain', cacheControl);
}

/** Sends a document through Fastify (see documentAnswer). */
export function sendDocument(request: FastifyRequest, reply: FastifyReply, doc: CachedDocument, cacheControl: string) {
  const answer = documentAnswer(request.headers, doc, cacheControl);
  // Fastify sets the length itself (and would count a 304's as a body).
  const { 'content-length': _length, ...headers } = answer.headers;
  return reply.code(answer.status).headers(headers).send(answer.body ?? undefined);
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
