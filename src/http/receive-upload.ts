import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import busboy from 'busboy';
import type { FastifyRequest } from 'fastify';
import { PawketError, badRequest, isOutOfSpace, outOfSpace } from '../errors.js';
import type { ReceivedUpload } from '../feed/publish.js';
import { spoolToTempFile, SpoolLimitError } from '../feed/spool.js';
import { BodyStalledError } from './body-timeout.js';

const MiB = 1024 * 1024;

/** What is being uploaded, for the messages: a package (the default) or a symbols package. */
export interface UploadKind {
  /** `package`, `symbols package` */
  readonly noun: string;
  /** `.nupkg`, `.snupkg` */
  readonly file: string;
}

const PACKAGE: UploadKind = { noun: 'package', file: '.nupkg' };

export const tooLarge = (max: number, kind: UploadKind = PACKAGE) =>
  new PawketError(413, `The ${kind.noun} is larger than this feed accepts (${Math.floor(max / MiB)} MiB); ask the administrator to raise maxPackageSize.`, {
    connection: 'close',
  });

/** The connection is closed already (body-timeout.ts): the status is for the log and the metrics. */
const stalled = (e: BodyStalledError) =>
  new PawketError(408, `The upload stalled: ${e.message}, so the connection was closed. Push again.`, { connection: 'close' });

/** Spools an upload to a temporary file; the feed-level spool's failures become answers the client can act on. */
async function toTempFile(source: Readable, tempDir: string, maxBytes: number, kind: UploadKind): Promise<ReceivedUpload> {
  let spooled;
  try {
    spooled = await spoolToTempFile(source, tempDir, maxBytes);
  } catch (e) {
    if (e instanceof SpoolLimitError) throw tooLarge(maxBytes, kind);
    if (e instanceof PawketError) throw e;
    if (e instanceof BodyStalledError) throw stalled(e);
    // The spool removed what it had written; a full disk is the server's failure, not the client's.
    if (isOutOfSpace(e)) throw outOfSpace(e, `the ${kind.noun}`);
    throw badRequest(`The upload was interrupted before the ${kind.noun} was complete: ${(e as Error).message}`);
  }
  if (spooled.size === 0) {
    await rm(spooled.file, { force: true });
    throw badRequest(`The request body is empty: send the ${kind.file} file as the body or as the first part of a multipart form.`);
  }
  return spooled;
}

/**
 * A check on the text fields sent before a form's file part (the web upload form's API key), run before a byte of
 * the file is stored; it throws to refuse the upload.
 */
export type FieldsCheck = (fields: ReadonlyMap<string, string>) => Promise<void>;

/**
 * The first file part of a multipart/form-data body; later parts are drained and ignored, as the protocol says.
 * With `check`, the fields before the file are checked first, and a refusal answers without waiting for the file.
 */
function fromMultipart(
  request: FastifyRequest,
  tempDir: string,
  maxBytes: number,
  kind: UploadKind,
  check?: FieldsCheck,
  /** Only the file part of this name is taken (others are drained); every text field is put in `allFields`. */
  named?: { readonly part: string; readonly allFields: Map<string, string> },
): Promise<ReceivedUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers, limits: { files: 1, fields: 20, parts: 50, fileSize: maxBytes + 1 } });
    } catch (e) {
      reject(badRequest(`The multipart request is malformed: ${(e as Error).message}`));
      return;
    }
    let received: Promise<ReceivedUpload> | undefined;
    const fields = new Map<string, string>();
    parser.on('field', (name, value) => {
      if (!received) fields.set(name, value);
      named?.allFields.set(name, value);
    });
    // A refused or failed file part is answered at once, and the parser stops reading the body (after a failed spool
    // busboy would wait forever on the destroyed file stream); the upload scope then drains the body or closes.
    const fail = (e: unknown) => {
      request.raw.unpipe(parser);
      reject(e);
    };
    parser.on('file', (name, stream) => {
      if (received || (named && name !== named.part)) {
        stream.resume();
        return;
      }
      // Until the check settles the file part is not read, so busboy holds the rest of the body back.
      const checked = check ? check(fields) : Promise.resolve();
      received = checked.then(() => toTempFile(stream, tempDir, maxBytes, kind));
      received.catch(fail);
    });
    // pipe() passes no errors on: a client that goes away, or stalls (body-timeout.ts), must still end the parser,
    // which fails the file part and so its spool.
    const gone = (err?: Error) => {
      if (!request.raw.complete) parser.destroy(err ?? new Error('the connection was closed'));
    };
    request.raw.once('error', gone);
    request.raw.once('close', () => gone());
    parser.on('error', (e) => {
      if (e instanceof BodyStalledError) reject(stalled(e));
      else reject(badRequest(`The multipart request is malformed: ${(e as Error).message}`));
    });
    parser.on('close', () => {
      if (received) received.then(resolve, reject);
      else if (named) reject(badRequest(`The multipart request has no part '${named.part}': send the ${kind.file} file in it.`));
      else reject(badRequest(`The multipart request has no file part: the first part must be the ${kind.file} file.`));
    });
    request.raw.pipe(parser);
  });
}

/**
 * Receives a pushed package from a raw or multipart body without ever holding it in memory.
 * @example const upload = await receiveUpload(request, '/data/tmp', 250 * 1024 * 1024)
 */
export async function receiveUpload(
  request: FastifyRequest,
  tempDir: string,
  maxBytes: number,
  kind: UploadKind = PACKAGE,
): Promise<ReceivedUpload> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) throw tooLarge(maxBytes, kind);
  const type = request.headers['content-type'] ?? '';
  if (/^multipart\/form-data/i.test(type)) return fromMultipart(request, tempDir, maxBytes, kind);
  return toTempFile(detachedBody(request.raw), tempDir, maxBytes, kind);
}

/**
 * The request body through a stream of its own, which a failed spool (a full disk) may destroy without destroying the
 * request: the rest of the body is then drained and the answer read as for a push refused before its body
 * (upload-scope.ts), on a connection that stays usable. (The multipart path unpipes its parser the same way.)
 */
function detachedBody(req: IncomingMessage): Readable {
  const body = new PassThrough();
  req.pipe(body);
  // pipe() passes no errors on: a client that goes away, or stalls (body-timeout.ts), must still fail the spool.
  const fail = (err?: Error) => {
    if (!req.complete) body.destroy(err ?? new Error('the connection was closed'));
  };
  req.once('error', fail);
  req.once('close', () => fail());
  return body;
}

/**
 * Receives a package from an HTML form (`multipart/form-data`), as {@link receiveUpload} does, after `check` has
 * accepted the text fields sent before the file part (browsers send parts in the form's order).
 * @example await receiveFormUpload(request, tempDir, max, async (fields) => authorize(fields.get('apikey')))
 */
export async function receiveFormUpload(request: FastifyRequest, tempDir: string, maxBytes: number, check: FieldsCheck): Promise<ReceivedUpload> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) throw tooLarge(maxBytes);
  if (!/^multipart\/form-data/i.test(request.headers['content-type'] ?? '')) {
    throw badRequest('The upload form must be sent as multipart/form-data.');
  }
  return fromMultipart(request, tempDir, maxBytes, PACKAGE, check);
}

/**
 * Receives the file part called `part` of a `multipart/form-data` body, as {@link receiveUpload} does, with every text
 * field of the form, whatever their order (the staging routes' `groupId`).
 * @example const { upload, fields } = await receiveNamedPart(request, tempDir, max, 'package')
 */
export async function receiveNamedPart(
  request: FastifyRequest,
  tempDir: string,
  maxBytes: number,
  part: string,
  kind: UploadKind = PACKAGE,
): Promise<{ upload: ReceivedUpload; fields: ReadonlyMap<string, string> }> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) throw tooLarge(maxBytes, kind);
  if (!/^multipart\/form-data/i.test(request.headers['content-type'] ?? '')) {
    throw badRequest(`Send the ${kind.file} file as the part '${part}' of a multipart/form-data body.`);
  }
  const allFields = new Map<string, string>();
  const upload = await fromMultipart(request, tempDir, maxBytes, kind, undefined, { part, allFields });
  return { upload, fields: allFields };
}
