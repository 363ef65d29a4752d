/**
 * The one error type of Pawket: an HTTP status and a message a human can act on.
 * NuGet clients print the message (reason phrase and body), so it must say what is wrong and how to fix it.
 *
 * @example throw new PawketError(409, `Package ${id} ${version} already exists.`)
 */
export class PawketError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers, e.g. WWW-Authenticate on 401. */
    readonly headers: Readonly<Record<string, string>> = {},
    /** The failure behind a server-side error, for the log. */
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PawketError';
  }
}

export const badRequest = (message: string): PawketError => new PawketError(400, message);
export const notFound = (message: string): PawketError => new PawketError(404, message);

/**
 * Codes that mean "no space left": the filesystem's (ENOSPC, EDQUOT), SQLite's (SQLITE_FULL: "database or disk is
 * full") and PostgreSQL's (53100 disk_full).
 */
const OUT_OF_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);

/** Whether `err`, or an error it was caused by, says the disk is full. */
export function isOutOfSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (OUT_OF_SPACE_CODES.has(String((e as { code?: unknown }).code))) return true;
  }
  return false;
}

/**
 * The server ran out of disk space: its fault, not the client's, so a 507 (Insufficient Storage) that says so.
 * @example if (isOutOfSpace(err)) throw outOfSpace(err, 'the package')
 */
export const outOfSpace = (cause: unknown, what = 'the change'): PawketError =>
  new PawketError(
    507,
    `The server is out of disk space, so ${what} could not be stored; nothing was kept. Ask the administrator to free space, then try again.`,
    {},
    cause,
  );
