import { badRequest, type PawketError } from '../errors.js';

/**
 * A bounds-checked little-endian view of an untrusted binary file (PE images, portable PDBs). Every read checks its
 * range first, so a truncated or lying file is a 400 naming the file and what was cut short, never a crash or a read
 * past the end.
 *
 * @example
 * const view = new BinaryView(bytes, "'lib/net8.0/Foo.dll' is not a valid PE file");
 * const peOffset = view.u32(0x3c, 'the DOS header');
 */
export class BinaryView {
  constructor(
    readonly bytes: Buffer,
    /** Start of every error message, e.g. `'lib/net8.0/Foo.dll' is not a valid PE file`. */
    private readonly problem: string,
  ) {}

  get length(): number {
    return this.bytes.length;
  }

  /** A 400: `{problem}: {reason}.` */
  fail(reason: string): PawketError {
    return badRequest(`${this.problem}: ${reason}.`);
  }

  /** Throws unless `size` bytes from `offset` lie inside the file. */
  check(offset: number, size: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw this.fail(`${what} (${size} bytes at offset ${offset}) lies outside the file of ${this.bytes.length} bytes`);
    }
  }

  u16(offset: number, what: string): number {
    this.check(offset, 2, what);
    return this.bytes.readUInt16LE(offset);
  }

  u32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.bytes.readUInt32LE(offset);
  }

  slice(offset: number, size: number, what: string): Buffer {
    this.check(offset, size, what);
    return this.bytes.subarray(offset, offset + size);
  }
}

/**
 * A GUID stored in .NET's byte layout (a little-endian 32-bit and two 16-bit integers, then 8 bytes) as .NET's
 * `Guid.ToString("N")` prints it: 32 lower-case hex digits.
 *
 * @example guidToString(Buffer.from('4c03a142ec453e21dd271ba42da0e456', 'hex')) // '42a1034c45ec413e9d271ba42da0e456'
 */
export function guidToString(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error(`a GUID is 16 bytes, not ${bytes.length}`);
  const hex = (from: number, to: number) => bytes.subarray(from, to).toString('hex');
  const reversed = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).reverse().toString('hex');
  return reversed(0, 4) + reversed(4, 6) + reversed(6, 8) + hex(8, 16);
}

/** A NUL-terminated UTF-8 string inside `data`, from `offset`; null when no NUL ends it within `data`. */
export function nulTerminatedUtf8(data: Buffer, offset: number): { text: string; end: number } | null {
  const nul = data.indexOf(0, offset);
  if (nul < 0) return null;
  return { text: data.toString('utf8', offset, nul), end: nul + 1 };
}
