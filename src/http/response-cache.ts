import { createHash, randomBytes } from 'node:crypto';
import { deflateRawSync, gzipSync, inflateRawSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Estimated bytes of bookkeeping (objects, maps, header strings) behind each finished answer, variant and entry. */
const ANSWER_BYTES = 512;
const VARIANT_BYTES = 256;
const ENTRY_BYTES = 256;
/** Base URLs a document keeps finished answers for: more than the few names a feed's clients use. */
export const MAX_BASES_PER_DOCUMENT = 4;
/**
 * How long a base's finished answers must go unused before another base may take its place. Until then other bases
 * get answers made for them alone: a client cycling Host values costs a copy of the document per request, and at most
 * MAX_BASES_PER_DOCUMENT gzip compressions per document in this time.
 */
export const BASE_IDLE_MS = 5 * 60_000;
/**
 * Stands for the base URL while a document renders. Random per process and never sent (every occurrence is replaced),
 * so no package text can contain it; ASCII, so JSON leaves it as it is and no UTF-8 sequence contains it.
 */
const BASE_MARK = `pawket-base-${randomBytes(16).toString('hex')}`;
const BASE_MARK_BYTES = Buffer.from(BASE_MARK);

/**
 * A rendered JSON document with its validator, answered as is (plain, gzip, 304). The body, if made from a template,
 * and the gzip form are made once, on first demand; a transient document (made for one answer) is never gzipped.
 */
export class CachedDocument {
  readonly etag: string;
  private body: Buffer | undefined;
  private gzipped: Buffer | undefined;
  /** Finished answers per (variant, cache control): the restore fast path sends them as they are. */
  private readonly answers = new Map<string, DocumentAnswer>();
  /** Bytes this document made after it was built (body, gzip form, finished answers): the response cache counts them. */
  held = 0;
  /** Told of every growth; replaced by a no-op once the cache lets go of the document. */
  onGrow: (bytes: number) => void = () => {};
  /** Used since `seenAt` (set on every use: a field write, no clock read on the hot path; see DocumentTemplate). */
  used = false;
  /** When it was last seen in use, or made. */
  seenAt = 0;
  private readonly make: (() => Buffer) | undefined;

  constructor(body: Buffer);
  constructor(make: () => Buffer, etag: string, transient: boolean);
  constructor(
    source: Buffer | (() => Buffer),
    etag?: string,
    private readonly transient = false,
  ) {
    if (typeof source === 'function') {
      this.make = source;
      this.etag = etag!;
    } else {
      this.body = source;
      this.etag = `"${createHash('sha1').update(source).digest('base64url')}"`;
    }
  }

  gzip(): Buffer {
    if (!this.gzipped) {
      // From a body made for the purpose, not kept: clients that ask gzip never need the plain one.
      this.gzipped = own(gzipSync(this.body ?? this.make!(), { level: 6 }));
      this.grow(this.gzipped.length);
    }
    return this.gzipped;
  }

  answer(variant: 'plain' | 'gzip' | 'not-modified', cacheControl: string): DocumentAnswer {
    if (variant === 'gzip' && this.transient) variant = 'plain';
    const key = `${variant}|${cacheControl}`;
    let found = this.answers.get(key);
    if (!found) {
      const headers: Record<string, string> = { etag: this.etag, 'cache-control': cacheControl, vary: 'Accept-Encoding' };
      let body: Buffer | null = null;
      if (variant !== 'not-modified') {
        headers['content-type'] = 'application/json; charset=utf-8';
        if (variant === 'gzip') headers['content-encoding'] = 'gzip';
        body = variant === 'gzip' ? this.gzip() : this.plain();
        headers['content-length'] = String(body.length);
      }
      const rawHeaders = Object.entries(headers).flat();
      found = { status: variant === 'not-modified' ? 304 : 200, headers, rawHeaders, body };
      this.answers.set(key, found);
      this.grow(ANSWER_BYTES);
    }
    return found;
  }

  private plain(): Buffer {
    if (!this.body) {
      this.body = this.make!();
      this.grow(this.body.length);
    }
    return this.body;
  }

  private grow(bytes: number): void {
    this.held += bytes;
    this.onGrow(bytes);
  }
}

/** `bytes` in memory of its own: a small buffer may be a slice of a shared pool, which it would keep alive. */
function own(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

/** A document's answer: status, headers (also as Node's flat `[name, value, ...]` list) and body. */
export interface DocumentAnswer {
  readonly status: 200 | 304;
  readonly headers: Readonly<Record<string, string>>;
  readonly rawHeaders: string[];
  readonly body: Buffer | null;
}

/**
 * A rendered document whose absolute URLs have their base URL cut out, so one rendering serves every host name a
 * client may use. Finished answers (body, gzip form) are kept for a few bases (MAX_BASES_PER_DOCUMENT); a base
 * beyond them takes the place of one unused for BASE_IDLE_MS, or else gets a plain answer made for it alone.
 * A document without links has no cuts and one answer for every base.
 */
export class DocumentTemplate {
  /** Bytes held: the template, its finished variants and their bookkeeping. */
  size: number;
  /** Told of every change of `size` (the response cache counts bytes). */
  onGrow: (bytes: number) => void = () => {};
  /** Beyond this size, no more bases get finished answers (a huge document must not crowd out the rest of the cache). */
  maxSize = Infinity;
  private readonly digest: string = '';
  /** Finished variants by base URL. */
  private readonly variants = new Map<string, CachedDocument>();
  private readonly single: CachedDocument | undefined;

  /**
   * The template's bytes, compressed when it has cuts: only a new base or a plain answer needs them (each once), while
   * the finished gzip answers serve every request; a registration index is several times smaller so.
   */
  private readonly packed: Buffer;

  private constructor(
    bytes: Buffer,
    /** Offsets in the template's bytes where the base URL goes. */
    private readonly cuts: Uint32Array,
  ) {
    this.packed = cuts.length === 0 ? bytes : own(deflateRawSync(bytes, { level: 1 }));
    this.size = this.packed.length + cuts.byteLength;
    if (cuts.length === 0) {
      this.single = new CachedDocument(bytes);
      this.single.onGrow = (n) => this.grow(n);
    } else {
      // What every base's ETag derives from: no hashing of the whole body per base.
      this.digest = createHash('sha1').update(bytes).update(new Uint8Array(cuts.buffer, cuts.byteOffset, cuts.byteLength)).digest('base64url');
    }
  }

  /** Renders a value whose absolute URLs start with the base stand-in that ResponseCache.get hands its render function. */
  static of(value: unknown): DocumentTemplate {
    const json = Buffer.from(JSON.stringify(value));
    const found: number[] = [];
    for (let at = json.indexOf(BASE_MARK_BYTES); at !== -1; at = json.indexOf(BASE_MARK_BYTES, at + BASE_MARK_BYTES.length)) {
      found.push(at);
    }
    if (found.length === 0) return new DocumentTemplate(own(json), new Uint32Array(0));
    const bytes = Buffer.allocUnsafeSlow(json.length - found.length * BASE_MARK_BYTES.length);
    const cuts = new Uint32Array(found.length);
    let read = 0;
    let written = 0;
    found.forEach((at, i) => {
      written += json.copy(bytes, written, read, at);
      cuts[i] = written;
      read = at + BASE_MARK_BYTES.length;
    });
    json.copy(bytes, written, read);
    return new DocumentTemplate(bytes, cuts);
  }

  /** The document as linked from `base` (e.g. `http://localhost:5000`). */
  forBase(base: string): CachedDocument {
    if (this.single) return this.single;
    let doc = this.variants.get(base);
    if (doc) {
      doc.used = true;
      return doc;
    }
    const now = Date.now();
    if (this.variants.size >= MAX_BASES_PER_DOCUMENT || (this.variants.size > 0 && this.size > this.maxSize)) {
      const idle = this.idlest(now);
      if (now - idle.seenAt < BASE_IDLE_MS) return this.variant(base, true);
      this.dropVariant(idle);
    }
    doc = this.variant(base, false);
    doc.seenAt = now;
    doc.onGrow = (n) => this.grow(n);
    this.variants.set(base, doc);
    this.grow(VARIANT_BYTES + base.length);
    return doc;
  }

  /** The variant unused the longest; a variant used since it was last looked at counts as seen now. */
  private idlest(now: number): CachedDocument {
    let idlest: CachedDocument | undefined;
    for (const doc of this.variants.values()) {
      if (doc.used) {
        doc.used = false;
        doc.seenAt = now;
      }
      if (!idlest || doc.seenAt < idlest.seenAt) idlest = doc;
    }
    return idlest!;
  }

  private variant(base: string, transient: boolean): CachedDocument {
    // The base as JSON would have it had the document been rendered with it (host names need no escaping).
    const insert = Buffer.from(JSON.stringify(base).slice(1, -1));
    const etag = `"${createHash('sha1').update(this.digest).update('\n').update(base).digest('base64url')}"`;
    return new CachedDocument(() => this.fill(insert), etag, transient);
  }

  private dropVariant(old: CachedDocument): void {
    for (const [base, doc] of this.variants) {
      if (doc !== old) continue;
      this.variants.delete(base);
      old.onGrow = () => {};
      this.grow(-(VARIANT_BYTES + base.length + old.held));
      return;
    }
  }

  private fill(insert: Buffer): Buffer {
    const bytes = inflateRawSync(this.packed);
    const out = Buffer.allocUnsafeSlow(bytes.length + this.cuts.length * insert.length);
    let read = 0;
    let written = 0;
    for (const cut of this.cuts) {
      written += bytes.copy(out, written, read, cut);
      written += insert.copy(out, written);
      read = cut;
    }
    bytes.copy(out, written, read);
    return out;
  }

  private grow(bytes: number): void {
    this.size += bytes;
    this.onGrow(bytes);
  }
}

interface Entry {
  readonly key: string;
  readonly template: DocumentTemplate;
  readonly group: string;
  bytes: number;
  /** Asked for since the eviction sweep last passed it: a second chance, so hits need no reordering. */
  used: boolean;
}

/**
 * Rendered JSON documents keyed by URL without its base URL (see DocumentTemplate), grouped by package id so a push or
 * unlist drops exactly what it changed. Bounded by bytes: everything each entry holds (template, gzip forms,
 * finished answers, bookkeeping) counts, and the entries least recently asked for go first. A document bigger than
 * the whole cache is answered but not kept.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly groups = new Map<string, Set<string>>();
  /** Groups being rendered (how many renderings each), and those of them invalidated meanwhile. */
  private readonly rendering = new Map<string, number>();
  private readonly changedWhileRendering = new Set<string>();
  private held = 0;

  constructor(
    private readonly maxBytes = 64 * 1024 * 1024,
    /** Told of every lookup (metrics). */
    private readonly onLookup: (hit: boolean) => void = () => {},
  ) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.held;
  }

  /** The cached document as linked from `base`, without rendering on a miss (the fast path falls back to the routes then). */
  peek(key: string, base = ''): CachedDocument | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.onLookup(true);
    hit.used = true;
    return hit.template.forBase(base);
  }

  /**
   * The document as linked from `base`, rendered on a miss. `render` builds every absolute URL on the base it is
   * given (a stand-in, cut out afterwards), so the rendering serves every base.
   */
  async get(key: string, group: string, render: (renderBase: string) => Promise<unknown | null>, base = ''): Promise<CachedDocument | null> {
    const hit = this.entries.get(key);
    this.onLookup(hit !== undefined);
    if (hit) {
      hit.used = true;
      return hit.template.forBase(base);
    }
    this.rendering.set(group, (this.rendering.get(group) ?? 0) + 1);
    let value: unknown;
    let changed: boolean;
    try {
      value = await render(BASE_MARK);
    } finally {
      changed = this.changedWhileRendering.has(group);
      const left = this.rendering.get(group)! - 1;
      if (left === 0) {
        this.rendering.delete(group);
        this.changedWhileRendering.delete(group);
      } else {
        this.rendering.set(group, left);
      }
    }
    if (value === null) return null;
    const template = DocumentTemplate.of(value);
    // Rendered from rows the change may have replaced: answered, not kept.
    if (!changed) this.add(key, group, template);
    return template.forBase(base);
  }

  invalidate(group: string): void {
    if (this.rendering.has(group)) this.changedWhileRendering.add(group);
    for (const key of this.groups.get(group) ?? []) this.remove(this.entries.get(key)!);
    this.groups.delete(group);
  }

  private add(key: string, group: string, template: DocumentTemplate): void {
    const bytes = template.size + ENTRY_BYTES + 2 * key.length;
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) this.remove(old);
    const entry: Entry = { key, template, group, bytes, used: false };
    template.maxSize = this.maxBytes / 4;
    template.onGrow = (n) => {
      entry.bytes += n;
      this.held += n;
      if (n > 0) this.evict();
    };
    this.entries.set(key, entry);
    let keys = this.groups.get(group);
    if (!keys) this.groups.set(group, (keys = new Set()));
    keys.add(key);
    this.held += bytes;
    this.evict();
  }

  /**
   * Drops entries, oldest first, until the cache is within its size; one asked for since the sweep last passed it is
   * moved to the young end instead (CLOCK, close to least recently used). Each step clears a mark or drops an entry,
   * so the sweep ends.
   */
  private evict(): void {
    while (this.held > this.maxBytes && this.entries.size > 0) {
      const entry: Entry = this.entries.values().next().value!;
      this.entries.delete(entry.key);
      if (entry.used) {
        entry.used = false;
        this.entries.set(entry.key, entry);
      } else {
        this.remove(entry);
      }
    }
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    entry.template.onGrow = () => {};
    this.held -= entry.bytes;
    const keys = this.groups.get(entry.group);
    keys?.delete(entry.key);
    if (keys?.size === 0) this.groups.delete(entry.group);
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
