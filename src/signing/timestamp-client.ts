import { createHash, randomBytes } from 'node:crypto';
import { algorithm, children, context, derTrue, integer, octetString, oidText, readTlv, sequence, TAG, valueOf } from './der.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const SIGNED_DATA = '1.2.840.113549.1.7.2';
const TST_INFO = '1.2.840.113549.1.9.16.1.4';
/** A timestamp authority's answer is a few kilobytes (its certificates); more is not one. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** An RFC 3161 timestamp token over some bytes, and the time it vouches for. */
export interface Timestamp {
  /** The TimeStampToken (a CMS ContentInfo), DER. */
  readonly token: Buffer;
  /** ISO. */
  readonly time: string;
}

export class TimestampError extends Error {
  override name = 'TimestampError';
}

/**
 * Asks the timestamp authority at `url` to timestamp `data` (a signature value) with SHA-256, and checks that the token
 * answers this request (hash and nonce) before it goes into a signature.
 */
export async function requestTimestamp(url: string, data: Uint8Array, timeoutMs = 15_000): Promise<Timestamp> {
  const digest = createHash('sha256').update(data).digest();
  const nonce = BigInt('0x' + randomBytes(8).toString('hex'));
  const request = sequence(integer(1), sequence(algorithm(SHA256), octetString(digest)), integer(nonce), derTrue());
  let body: Buffer;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: new Uint8Array(request),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    if (!response.ok) throw new TimestampError(`the timestamp authority ${url} answered ${response.status}`);
    body = await readBounded(response);
  } catch (e) {
    if (e instanceof TimestampError) throw e;
    throw new TimestampError(`the timestamp authority ${url} could not be reached (${(e as Error).message})`);
  }
  try {
    return parseResponse(body, digest, nonce);
  } catch (e) {
    throw new TimestampError(`the timestamp authority ${url} sent no usable timestamp (${(e as Error).message})`);
  }
}

async function readBounded(response: Response): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > MAX_RESPONSE_BYTES) throw new TimestampError(`the timestamp authority's answer is over ${MAX_RESPONSE_BYTES} bytes`);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

function parseResponse(body: Buffer, digest: Buffer, nonce: bigint): Timestamp {
  const [statusInfo, token] = children(body, readTlv(body));
  if (!statusInfo) throw new Error('empty answer');
  const status = Number(BigInt('0x' + (valueOf(body, children(body, statusInfo)[0]!).toString('hex') || '0')));
  if (status !== 0 && status !== 1) throw new Error(`status ${status}`);
  if (!token) throw new Error('no token');
  const [contentType, wrapped] = children(body, token);
  if (!contentType || oidText(valueOf(body, contentType)) !== SIGNED_DATA || wrapped?.tag !== context(0)) throw new Error('the token is not CMS SignedData');
  const signedData = children(body, wrapped)[0]!;
  const encap = children(body, signedData)[2]!;
  const [eType, eContent] = children(body, encap);
  if (!eType || oidText(valueOf(body, eType)) !== TST_INFO || !eContent) throw new Error('the token holds no TSTInfo');
  // [0] EXPLICIT OCTET STRING whose octets are the DER TSTInfo.
  const octets = children(body, eContent)[0]!;
  const info = children(body, readTlv(body, octets.valueStart, octets.end));
  const imprint = children(body, info[2]!);
  if (!valueOf(body, imprint[1]!).equals(digest)) throw new Error('it timestamps other data');
  const genTime = valueOf(body, info[4]!).toString('ascii');
  const tokenNonce = info.slice(5).find((t) => t.tag === TAG.integer);
  if (!tokenNonce || BigInt('0x' + valueOf(body, tokenNonce).toString('hex')) !== nonce) throw new Error('its nonce is not ours');
  return { token: Buffer.from(body.subarray(token.start, token.end)), time: generalizedTimeToIso(genTime) };
}

/** `20261202110038Z` or `20261202110038.123Z` → ISO. */
function generalizedTimeToIso(text: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(text);
  if (!m) throw new Error(`unreadable time ${text}`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}Z`).toISOString();
}
