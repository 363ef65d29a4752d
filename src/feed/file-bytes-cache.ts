/**
 * The bytes of small package files, least recently used first, within a byte budget. Blob keys name immutable
 * content (a push over an existing version writes a new key), so an entry never goes stale; a deleted package is no
 * longer found, so its bytes are never asked for again and age out.
 */
export class FileBytesCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly budget: number) {}

  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.budget / 16 || this.entries.has(key)) return;
    this.entries.set(key, value);
    this.bytes += value.length;
    while (this.bytes > this.budget) {
      const [oldest, dropped] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.bytes -= dropped.length;
    }
  }

  get size(): number {
    return this.bytes;
  }
}
