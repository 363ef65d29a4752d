import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StagedKind } from '../db/staging-database.js';
import { PawketError } from '../errors.js';
import type { Principal } from '../feed/auth.js';
import { StagingError, type PageRequest, type StagingService } from '../feed/staging.js';
import type { RequestAuthenticator } from './access-control.js';
import { reasonPhrase, withOutOfSpace } from './errors.js';
import { receiveNamedPart } from './receive-upload.js';
import { routes } from './routes.js';
import { prepareUploadScope } from './upload-scope.js';

export interface StagingRouteDeps {
  readonly staging: StagingService;
  readonly requestAuth: RequestAuthenticator;
  readonly tempDir: string;
  readonly maxPackageSize: number;
  /** Whether keys may promote through these routes (the feed's `stagingApiPromotion`). */
  readonly apiPromotion: boolean;
}

/** Codes for failures that carry none of their own, by status. */
const CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  408: 'RequestTimeout',
  409: 'Conflict',
  413: 'TooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  507: 'InsufficientStorage',
};

/** The staging contract's failure body: `{"error":{"code","message"}}`, the message also in the reason phrase. */
function sendJsonError(reply: FastifyReply, status: number, code: string, message: string, headers: Record<string, string> = {}) {
  reply.raw.statusMessage = reasonPhrase(message);
  return reply.code(status).headers(headers).type('application/json; charset=utf-8').send({ error: { code, message } });
}

const MAX_PAGE_SIZE = 100;

/** `page` (>= 1, default 1) and `pageSize` (1..100, default 100) of a list; 400 with a code for anything else. */
function pageOf(query: unknown): PageRequest {
  const q = (query ?? {}) as Record<string, unknown>;
  const number = (name: string, fallback: number, max: number) => {
    const raw = q[name];
    if (raw === undefined) return fallback;
    const text = Array.isArray(raw) ? raw[0] : raw;
    const n = typeof text === 'string' && /^\d{1,9}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new StagingError(400, 'InvalidPaging', `'${name}' must be a whole number from 1 to ${max}.`);
    }
    return n;
  };
  return { page: number('page', 1, 1_000_000), pageSize: number('pageSize', MAX_PAGE_SIZE, MAX_PAGE_SIZE) };
}

/** These routes check keys themselves, private feed or not. */
const keyChecked = { config: { access: 'key' as const } };

type IdVersion = { Params: { id: string; version: string } };
type GroupParams = { Params: { groupId: string } };
type GroupItem = { Params: { groupId: string; id: string; version: string } };

/**
 * PackageStaging/1.0.0 (NuGet's package staging API contract): stage packages and symbols, list, view and delete them,
 * and manage groups, under `{feed}/v3/staging`. Every failure is JSON `{"error":{"code","message"}}`.
 */
export function stagingRoutes(app: FastifyInstance, deps: StagingRouteDeps): void {
  const base = routes.staging;
  const principal = (request: FastifyRequest): Promise<Principal> => deps.requestAuth.authenticate(request, { denied: { action: 'stage.denied', target: '(staging)' } });

  app.register(async (scope) => {
    scope.setErrorHandler((thrown: FastifyError | PawketError, request, reply) => {
      const error = withOutOfSpace(thrown);
      if (error instanceof PawketError) {
        if (error.status >= 500) request.log.error({ err: error }, 'request failed');
        const code = error instanceof StagingError ? error.code : (CODES[error.status] ?? 'Error');
        return sendJsonError(reply, error.status, code, error.message, { ...error.headers });
      }
      const status = (error as FastifyError).statusCode;
      if (status !== undefined && status >= 400 && status < 500) return sendJsonError(reply, status, CODES[status] ?? 'BadRequest', error.message);
      request.log.error({ err: error }, 'request failed');
      return sendJsonError(reply, 500, 'InternalError', 'The server failed to handle this request; the error is in its log.');
    });

    // Uploads: streamed to a temporary file with the push's size bound, never buffered by the framework.
    scope.register(async (uploads) => {
      prepareUploadScope(uploads, deps.maxPackageSize);
      const stage = (kind: StagedKind) => async (request: FastifyRequest, reply: FastifyReply) => {
        const who = await principal(request);
        // A key that may not stage at all is refused before its body is read.
        await deps.staging.authorizeAny(who);
        const part = kind === 'package' ? 'package' : 'symbols';
        const { upload, fields } = await receiveNamedPart(request, deps.tempDir, deps.maxPackageSize, part, kind === 'package' ? undefined : { noun: 'symbols package', file: '.snupkg' });
        const groupId = fields.get('groupId');
        const artifact =
          kind === 'package' ? await deps.staging.stagePackage(upload, who, groupId) : await deps.staging.stageSymbols(upload, who, groupId);
        return reply.code(201).send(artifact);
      };
      uploads.put(`${base}/package`, keyChecked, stage('package'));
      uploads.put(`${base}/symbols`, keyChecked, stage('symbols'));
    });

    // JSON bodies of the group routes: small.
    scope.register(async (json) => {
      json.removeAllContentTypeParsers();
      json.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
        try {
          done(null, body === '' ? {} : JSON.parse(body as string));
        } catch {
          done(new StagingError(400, 'InvalidJson', 'The request body is not JSON.'), undefined);
        }
      });
      // PUT and DELETE of members carry no body; a small one is ignored, a big one refused (413).
      json.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (_request, _body, done) => done(null, undefined));

      for (const kind of ['package', 'symbols'] as const) {
        json.get(`${base}/${kind}`, keyChecked, async (request) => deps.staging.listArtifacts(await principal(request), kind, pageOf(request.query)));
        json.get<IdVersion>(`${base}/${kind}/:id/:version`, keyChecked, async (request) =>
          deps.staging.getArtifact(await principal(request), kind, request.params.id, request.params.version),
        );
        json.delete<IdVersion>(`${base}/${kind}/:id/:version`, keyChecked, async (request, reply) => {
          await deps.staging.deleteArtifact(await principal(request), kind, request.params.id, request.params.version);
          return reply.code(204).send();
        });
      }

      json.post(`${base}/groups`, keyChecked, async (request, reply) => {
        const body = bodyObject(request.body);
        return reply.code(201).send(await deps.staging.createGroup(await principal(request), body.id, body.name));
      });
      json.get(`${base}/groups`, keyChecked, async (request) => deps.staging.listGroups(await principal(request), pageOf(request.query)));
      json.get<GroupParams>(`${base}/groups/:groupId`, keyChecked, async (request) =>
        deps.staging.getGroup(await principal(request), request.params.groupId, pageOf(request.query)),
      );
      json.patch<GroupParams>(`${base}/groups/:groupId`, keyChecked, async (request, reply) => {
        await deps.staging.renameGroup(await principal(request), request.params.groupId, bodyObject(request.body).name);
        return reply.code(204).send();
      });
      json.delete<GroupParams>(`${base}/groups/:groupId`, keyChecked, async (request, reply) => {
        await deps.staging.deleteGroup(await principal(request), request.params.groupId);
        return reply.code(204).send();
      });
      // Promotion is not in NuGet's contract: Pawket's own routes, off unless the feed enables them.
      const promotionAllowed = async (request: FastifyRequest) => {
        const who = await principal(request);
        if (!deps.apiPromotion) {
          throw new StagingError(
            403,
            'PromotionByApiDisabled',
            "This feed promotes staged packages in its web UI only: a person signs in and promotes them (an admin can allow promotion by API with the feed setting stagingApiPromotion).",
          );
        }
        return who;
      };
      json.post<GroupParams>(`${base}/groups/:groupId/promote`, keyChecked, async (request) =>
        deps.staging.promoteGroup(await promotionAllowed(request), request.params.groupId),
      );
      json.post<IdVersion>(`${base}/package/:id/:version/promote`, keyChecked, async (request) =>
        deps.staging.promotePackage(await promotionAllowed(request), request.params.id, request.params.version),
      );
      json.put<GroupItem>(`${base}/groups/:groupId/items/:id/:version`, keyChecked, async (request, reply) => {
        const { groupId, id, version } = request.params;
        await deps.staging.addToGroup(await principal(request), groupId, id, version);
        return reply.code(204).send();
      });
      json.delete<GroupItem>(`${base}/groups/:groupId/items/:id/:version`, keyChecked, async (request, reply) => {
        const { groupId, id, version } = request.params;
        await deps.staging.removeFromGroup(await principal(request), groupId, id, version);
        return reply.code(204).send();
      });
    });
  });
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new StagingError(400, 'InvalidJson', 'Send a JSON object (Content-Type: application/json).');
  }
  return body as Record<string, unknown>;
}
