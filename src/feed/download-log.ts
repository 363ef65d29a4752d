import { open, rename, stat, writeFile, readFile, type FileHandle } from 'node:fs/promises';

/** One download nginx answered itself: the feed's name as in its URL (null: the default feed), the id and version. */
export interface LoggedDownload {
  readonly feed: string | null;
  readonly lowerId: string;
  readonly lowerVersion: string;
}

/**
 * A line of the `pawket_downloads` log format (`$status $request_method $uri`, written by `pawket nginx-config`'s
 * configuration): a download is a GET answered 200 with a `.nupkg` of the flat container.
 */
const LINE = /^200 GET (?:\/f\/([^/\s]+))?\/v3\/flatcontainer\/([^/\s]+)\/([^/\s]+)\/([^/\s]+)\.nupkg$/;

export function parseDownloadLine(line: string): LoggedDownload | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const [, feed, lowerId, lowerVersion, file] = m;
  if (file !== `${lowerId}.${lowerVersion}`) return null;
  return { feed: feed ?? null, lowerId: lowerId!, lowerVersion: lowerVersion! };
}

/** Longest line kept: longer ones are no line of ours and are skipped. */
const MAX_LINE = 4096;
/** Bytes read per file per poll: a huge backlog is read over several polls, never in one go. */
const MAX_READ_PER_POLL = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;
/** A rotated file is still read this many polls (nginx may flush its buffer into it after the rename). */
const ROTATED_POLLS = 5;

interface Tailed {
  readonly handle: FileHandle;
  readonly dev: number;
  readonly ino: number;
  position: number;
  /** The start of a line whose end is not written yet (or, past MAX_LINE, null: skip to the next newline). */
  partial: string | null;
}

interface SavedPosition {
  readonly dev: number;
  readonly ino: number;
  readonly position: number;
}

/**
 * Follows nginx's download log and hands each download to `record`: bounded memory (one chunk, one partial line),
 * bounded work per poll, across log rotation (a renamed file is read to its end, then the new one from its start; a
 * truncated file from its start again). Where it got to is saved beside the data (`positionFile`), so a restart
 * neither counts a line twice nor skips one, unless the log was rotated meanwhile (then the new file is read from its
 * start and the rest of the old one is lost).
 */
export class DownloadLogReader {
  private current: Tailed | null = null;
  private rotated: Array<{ file: Tailed; polls: number }> = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private savedText = '';

  constructor(
    private readonly path: string,
    private readonly positionFile: string,
    private readonly record: (download: LoggedDownload) => void,
    private readonly options: { pollMs?: number; onError?: (err: unknown) => void } = {},
  ) {}

  /** Reads what is there now, then again every `pollMs` (1 s). */
  start(): void {
    const next = () => {
      if (this.stopped) return;
      this.running = this.poll().catch((err: unknown) => this.options.onError?.(err));
      void this.running.then(() => {
        if (this.stopped) return;
        this.timer = setTimeout(next, this.options.pollMs ?? 1000);
        this.timer.unref();
      });
    };
    next();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.save();
    for (const f of [this.current, ...this.rotated.map((r) => r.file)]) await f?.handle.close().catch(() => {});
    this.current = null;
    this.rotated = [];
  }

  /** One pass: the rotated files still watched, the current file, then a look at whether the path changed. */
  async poll(): Promise<void> {
    for (const r of this.rotated) {
      if (await this.drain(r.file)) r.polls = 0;
      else r.polls++;
    }
    for (const r of this.rotated.filter((x) => x.polls >= ROTATED_POLLS)) await r.file.handle.close().catch(() => {});
    this.rotated = this.rotated.filter((r) => r.polls < ROTATED_POLLS);

    if (!this.current) this.current = await this.openCurrent(true);
    if (!this.current) return;
    await this.drain(this.current);
    const now = await stat(this.path).catch(() => null);
    if (now && (now.ino !== this.current.ino || now.dev !== this.current.dev)) {
      // Rotated: what nginx still writes to the old file is read for a few more polls; the new file from its start.
      this.rotated.push({ file: this.current, polls: 0 });
      this.current = await this.openCurrent(false);
      if (this.current) await this.drain(this.current);
    } else if (now && now.size < this.current.position) {
      // Truncated in place (copytruncate): start again.
      this.current.position = 0;
      this.current.partial = '';
      await this.drain(this.current);
    }
    await this.save();
  }

  private async openCurrent(resume: boolean): Promise<Tailed | null> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const s = await handle.stat();
    let position = 0;
    if (resume) {
      const saved = await this.loadPosition();
      if (saved && saved.dev === s.dev && saved.ino === s.ino && saved.position <= s.size) position = saved.position;
    }
    return { handle, dev: s.dev, ino: s.ino, position, partial: '' };
  }

  /** Reads complete lines from a file's position on; true when it read anything. */
  private async drain(file: Tailed): Promise<boolean> {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let total = 0;
    while (total < MAX_READ_PER_POLL) {
      const { bytesRead } = await file.handle.read(buffer, 0, CHUNK, file.position);
      if (bytesRead === 0) break;
      file.position += bytesRead;
      total += bytesRead;
      this.lines(file, buffer.toString('latin1', 0, bytesRead));
    }
    return total > 0;
  }

  private lines(file: Tailed, text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (file.partial === null) {
        file.partial = '';
        continue;
      }
      const line = file.partial + piece;
      file.partial = '';
      const download = parseDownloadLine(line.trimEnd());
      if (download) this.record(download);
    }
    const rest = text.slice(start);
    if (file.partial !== null) file.partial = file.partial.length + rest.length > MAX_LINE ? null : file.partial + rest;
  }

  private async loadPosition(): Promise<SavedPosition | null> {
    try {
      const saved = JSON.parse(await readFile(this.positionFile, 'utf8')) as SavedPosition;
      return Number.isInteger(saved.position) && saved.position >= 0 ? saved : null;
    } catch {
      return null;
    }
  }

  /** Where the current file was read to: the end of its last complete line (a partial one is read again). */
  private async save(): Promise<void> {
    const f = this.current;
    if (!f) return;
    const lineEnd = f.position - (f.partial === null ? 0 : Buffer.byteLength(f.partial, 'latin1'));
    const text = JSON.stringify({ dev: f.dev, ino: f.ino, position: lineEnd });
    if (text === this.savedText) return;
    const temporary = `${this.positionFile}.tmp`;
    await writeFile(temporary, text);
    await rename(temporary, this.positionFile);
    this.savedText = text;
  }
}
