import { close, fstat, open, read } from 'node:fs';

/**
 * Files up to this size are read whole into one buffer: most packages are a few KiB, where a stream would cost more
 * thread-pool round trips and a 64 KiB buffer for nothing.
 */
export const SMALL_FILE_BYTES = 256 * 1024;
/** Whole-file reads at once; more wait their turn. Bounds the memory they hold (this x SMALL_FILE_BYTES at most). */
const READS_IN_FLIGHT = 32;
/**
 * Small files kept open: the hot set of a busy feed, well below the limit of open files Node runs with (it raises its
 * soft limit to the hard one, commonly 20,000 or more). Should the limit be lower, running out closes them all.
 */
const KEPT_OPEN = 4096;
/** A file kept open and unused for one to two of these is closed (a deleted file's space is freed by then). */
const IDLE_MS = 30_000;

/** A small file's bytes, or the open descriptor and size of a larger one (for a stream), or null if it does not exist. */
export type Opened = { readonly bytes: Buffer } | { readonly fd: number; readonly size: number } | null;

interface OpenFile {
  readonly fd: number;
  readonly size: number;
  /** Reads in progress: a dropped file is closed when the last one ends. */
  reads: number;
  /** No longer kept: closed when no read uses it. */
  dropped: boolean;
  /** Read since the last sweep passed it (CLOCK: hits need no reordering). */
  used: boolean;
}

/**
 * Reads small files whole, on libuv's thread pool, never on the event loop (a file not in the page cache must not
 * stall every other request), keeping recently read ones open like nginx's `open_file_cache`: a hit costs one `pread`
 * instead of open, fstat, read and close. Only for files whose content never changes under a path (blob keys name
 * their content): an open descriptor keeps reading what the path held when it was opened.
 */
export class OpenFiles {
  private readonly files = new Map<string, OpenFile>();
  private reading = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly capacity = KEPT_OPEN,
    idleMs = IDLE_MS,
  ) {
    this.sweeper = setInterval(() => this.closeIdle(), idleMs);
    this.sweeper.unref();
  }

  /**
   * The file's bytes when it is small, else its descriptor (the caller's to close), or null when it does not exist.
   * `keep`: the path never holds other bytes (it names its content), so the file may stay open for the next read.
   */
  async read(path: string, keep: boolean): Promise<Opened> {
    if (this.reading < READS_IN_FLIGHT) this.reading++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      const kept = keep ? this.files.get(path) : undefined;
      if (kept) {
        kept.used = true;
        return { bytes: await this.readKept(kept) };
      }
      const opened = await openFile(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EMFILE' || this.files.size === 0) throw error;
        for (const [kept, file] of this.files) this.drop(kept, file);
        return openFile(path);
      });
      if (!opened || opened.size > SMALL_FILE_BYTES) return opened;
      const file: OpenFile = { fd: opened.fd, size: opened.size, reads: 0, dropped: false, used: false };
      // Two first reads of one file at once: the second one's descriptor is closed after its read.
      if (!keep || this.files.has(path)) file.dropped = true;
      else this.keep(path, file);
      return { bytes: await this.readKept(file) };
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.reading--;
    }
  }

  /** Closes every kept file (and stops the idle sweep); reads in progress finish first. */
  close(): void {
    clearInterval(this.sweeper);
    for (const [path, file] of this.files) this.drop(path, file);
  }

  get openCount(): number {
    return this.files.size;
  }

  private async readKept(file: OpenFile): Promise<Buffer> {
    file.reads++;
    try {
      return await readWhole(file.fd, file.size);
    } finally {
      if (--file.reads === 0 && file.dropped) close(file.fd, () => {});
    }
  }

  private keep(path: string, file: OpenFile): void {
    this.files.set(path, file);
    while (this.files.size > this.capacity) {
      const [oldest, entry] = this.files.entries().next().value!;
      this.files.delete(oldest);
      if (entry.used) {
        entry.used = false;
        this.files.set(oldest, entry);
      } else {
        this.drop(oldest, entry);
      }
    }
  }

  private drop(path: string, file: OpenFile): void {
    this.files.delete(path);
    file.dropped = true;
    if (file.reads === 0) close(file.fd, () => {});
  }

  private closeIdle(): void {
    for (const [path, file] of this.files) {
      if (file.used) file.used = false;
      else this.drop(path, file);
    }
  }
}

function openFile(path: string): Promise<{ fd: number; size: number } | null> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (openError, fd) => {
      if (openError) return openError.code === 'ENOENT' ? resolve(null) : reject(openError);
      fstat(fd, (statError, stats) => {
        if (!statError) return resolve({ fd, size: stats.size });
        close(fd, () => {});
        reject(statError);
      });
    });
  });
}

/** `size` bytes from the start of an open file, fewer if it is shorter. */
function readWhole(fd: number, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafeSlow(size);
  return new Promise((resolve, reject) => {
    const fill = (offset: number) => {
      if (offset === size) return resolve(bytes);
      read(fd, bytes, offset, size - offset, offset, (error, count) => {
        if (error) return reject(error);
        if (count === 0) return resolve(bytes.subarray(0, offset));
        fill(offset + count);
      });
    };
    fill(0);
  });
}
