import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { badRequest } from '../errors.js';

/** Addresses a webhook may not call unless `webhookAllowPrivateAddresses` (SSRF: the server's own network). */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  // IPv4-translated addresses reach IPv4 hosts: refused as a whole (IPv4-mapped ones in isPrivateAddress).
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules too, so mapped addresses are checked here.
  if (family === 6 && /^(0{0,4}:){0,5}:?ffff:/i.test(address)) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const MAX_URL_LENGTH = 2000;

/**
 * Checks a webhook URL when it is set: http(s) only, and no literal private address unless allowed. Names that resolve
 * to private addresses are refused when a delivery connects (the name may change meanwhile).
 */
export function checkWebhookUrl(text: string, allowPrivate: boolean): string {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw badRequest(`"${text.slice(0, 100)}" is not an http(s) URL: a webhook needs one, e.g. https://ci.example.com/hooks/pawket.`);
  }
  if (text.length > MAX_URL_LENGTH) throw badRequest(`The webhook URL is ${text.length} characters long; at most ${MAX_URL_LENGTH} are allowed.`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && (isPrivateAddress(host) || host === 'localhost' || host.endsWith('.localhost'))) {
    throw badRequest(
      `The webhook URL ${url.origin} points to a private or loopback address, which this server refuses (set webhookAllowPrivateAddresses to allow it).`,
    );
  }
  return url.href;
}

/** `sha256=` and the hex HMAC-SHA256 of the body with the secret: the `x-pawket-signature-256` header (GitHub's scheme). */
export function signatureOf(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/** Resolves as usual, but fails when any address the name resolves to is private. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused) {
      return callback(Object.assign(new Error(`${hostname} resolves to the private address ${refused.address}, which this server refuses`), { code: 'EPRIVATE' }), '', 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    callback(null, first.address, first.family);
  });
};

export interface SendOptions {
  readonly timeoutMs: number;
  readonly allowPrivateAddresses: boolean;
  readonly signal?: AbortSignal;
}

export interface SendResult {
  /** The receiver's status code; null when there was no answer. */
  readonly statusCode: number | null;
  /** Why it failed (a network error, a timeout, a non-2xx answer with the start of its body); null when it was sent. */
  readonly error: string | null;
}

/** Bytes of a receiver's answer read (and then dropped): an answer is read to its end only when small. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Characters of a failed answer kept in the delivery log. */
const KEPT_ANSWER_CHARS = 300;

/** POSTs a signed body to a webhook once, within a bounded time; never throws. */
export function sendWebhook(
  url: string,
  secret: string,
  headers: { readonly event: string; readonly deliveryId: string },
  body: string,
  options: SendOptions,
): Promise<SendResult> {
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let target: URL;
    try {
      target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      // Literal addresses never reach the lookup.
      if (!options.allowPrivateAddresses && isPrivateAddress(host)) {
        return done({ statusCode: null, error: `${host} is a private address, which this server refuses` });
      }
    } catch {
      return done({ statusCode: null, error: `not a URL: ${url}` });
    }
    const payload = Buffer.from(body, 'utf8');
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
      method: 'POST',
      agent: false,
      ...(options.allowPrivateAddresses ? {} : { lookup: guardedLookup }),
      ...(options.signal ? { signal: options.signal } : {}),
      headers: {
        'content-type': 'application/json',
        'content-length': String(payload.length),
        'user-agent': 'Pawket-Webhook/1',
        'x-pawket-event': headers.event,
        'x-pawket-delivery': headers.deliveryId,
        'x-pawket-signature-256': signatureOf(secret, body),
      },
    });
    timer = setTimeout(() => {
      request.destroy(new Error(`no complete answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    request.on('error', (err) => done({ statusCode: null, error: err.message }));
    request.on('response', (response: IncomingMessage) => {
      const code = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let read = 0;
      const finish = () => {
        const ok = code >= 200 && code < 300;
        const text = Buffer.concat(chunks).toString('utf8').slice(0, KEPT_ANSWER_CHARS).trim();
        done({ statusCode: code, error: ok ? null : `answered ${code}${text ? `: ${text}` : ''}` });
        response.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        if (read < KEPT_ANSWER_CHARS * 4) chunks.push(chunk);
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) finish();
      });
      response.on('end', finish);
      response.on('error', (err) => done({ statusCode: code, error: err.message }));
    });
    request.end(payload);
  });
}
