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
  ) {
    super(message);
    this.name = 'PawketError';
  }
}

export const badRequest = (message: string): PawketError => new PawketError(400, message);
export const notFound = (message: string): PawketError => new PawketError(404, message);
