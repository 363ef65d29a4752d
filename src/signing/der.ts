/**
 * The little DER that repository signing needs: read a TLV (with its offsets, so unchanged parts of an existing
 * signature are copied byte for byte) and write new ones. Signatures are DER; anything else (indefinite lengths) is
 * refused, because re-encoding another signer's bytes would break its signature.
 */

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Context-specific tag `[n]`, constructed. */
export const context = (n: number): number => 0xa0 | n;

/** One TLV inside a buffer: where it starts, where its value starts and where it ends. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

export class DerError extends Error {
  override name = 'DerError';
}

/** The TLV at `offset` of `buf` (never past `limit`). */
export function readTlv(buf: Uint8Array, offset = 0, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated DER');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not used here');
  let length = buf[offset + 1]!;
  let valueStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new DerError('indefinite length (BER) where DER is required');
    if (count > 4 || valueStart + count > limit) throw new DerError('bad DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[valueStart + i]!;
    valueStart += count;
  }
  const end = valueStart + length;
  if (end > limit) throw new DerError('DER value runs past its container');
  return { tag, start: offset, valueStart, end };
}

/** The TLVs inside a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.valueStart; at < parent.end; ) {
    const tlv = readTlv(buf, at, parent.end);
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

export const bytesOf = (buf: Uint8Array, tlv: Tlv): Buffer => Buffer.from(buf.subarray(tlv.start, tlv.end));
export const valueOf = (buf: Uint8Array, tlv: Tlv): Buffer => Buffer.from(buf.subarray(tlv.valueStart, tlv.end));

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV from a tag and its (already encoded) contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const value = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(value.length), value]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.sequence, ...items);

/** A DER SET OF: its elements in the order of their encodings. */
export const setOf = (...items: Uint8Array[]): Buffer => tlv(TAG.set, ...[...items].sort((a, b) => Buffer.compare(a, b)));

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const group: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) group.unshift((v & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

/** The dotted form of an OID TLV's value. */
export function oidText(value: Uint8Array): string {
  const parts: number[] = [];
  let v = 0;
  for (const byte of value) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0) parts.push(Math.min(2, Math.floor(v / 40)), v - Math.min(2, Math.floor(v / 40)) * 40);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

export const octetString = (value: Uint8Array): Buffer => tlv(TAG.octetString, value);
export const ia5String = (text: string): Buffer => tlv(TAG.ia5String, Buffer.from(text, 'ascii'));
export const utf8String = (text: string): Buffer => tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
export const derNull = (): Buffer => Buffer.from([TAG.null, 0]);
export const derTrue = (): Buffer => Buffer.from([TAG.boolean, 1, 0xff]);

export function integer(n: number | bigint): Buffer {
  let hex = BigInt(n).toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.integer, bytes);
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280's rule for signing times too). */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-02T11:00:38.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  return date.getUTCFullYear() < 2050 ? tlv(TAG.utcTime, Buffer.from(digits.slice(2), 'ascii')) : tlv(TAG.generalizedTime, Buffer.from(digits, 'ascii'));
}

/** An AlgorithmIdentifier; `withNull` for the algorithms whose parameters are NULL (sha256, rsaEncryption). */
export const algorithm = (dotted: string, withNull = true): Buffer => sequence(oid(dotted), ...(withNull ? [derNull()] : []));
