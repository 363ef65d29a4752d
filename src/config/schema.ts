import { z } from 'zod';

const MiB = 1024 * 1024;

const boolish = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((s) => ['true', '1', 'yes'].includes(s)),
]);

const keyList = z.union([
  z.array(z.string().min(1)),
  z.string().transform((s) => s.split(',').map((k) => k.trim()).filter((k) => k.length > 0)),
]);

/** One upstream V3 feed (docs/UPSTREAMS.md). */
export const upstreamSchema = z
  .object({
    /** The upstream's service index, e.g. https://api.nuget.org/v3/index.json. */
    url: z.url(),
    /** Id patterns (`*` any run of characters, case-insensitive) this upstream is asked for; empty: every id. */
    allow: z.array(z.string().min(1)).default([]),
    /** Id patterns never asked for (wins over allow). */
    deny: z.array(z.string().min(1)).default([]),
    /** Bound on connecting and on each pause of an answer, in ms. */
    timeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** How long what the upstream said about an id (its versions) is used before asking again, in seconds. */
    metadataTtlSeconds: z.coerce.number().int().min(0).max(7 * 86_400).default(600),
  })
  .strict();

/**
 * The one configuration schema. File, environment and flags are merged (flags win, then environment, then file)
 * and validated here once at start-up; a bad value stops start-up with a message naming the key.
 */
const configObject = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    port: z.coerce.number().int().min(0).max(65535).default(5000),
    dataDir: z.string().min(1).default('./data'),
    /** Public URL of the feed when behind a proxy (e.g. https://nuget.example.com); derived from requests otherwise. */
    baseUrl: z.url().optional(),
    /** Bootstrap admin keys (not stored in the database); several allowed. Other keys: `pawket keys create`. */
    apiKeys: keyList.default([]),
    /** Refused keys (invalid, revoked, expired) an address may send per minute before it gets 429s; 0: no limit. */
    badKeyLimit: z.coerce.number().int().min(0).max(100_000).default(10),
    /** Reads need a key too (HTTP Basic auth with the key as password, or X-NuGet-ApiKey); see docs/SECURITY.md. */
    private: boolish.default(false),
    /** Retention: keep the newest N stable versions of each id (0 keeps all); applied by `pawket gc` (run it on a timer). */
    retentionKeepStable: z.coerce.number().int().min(0).default(0),
    /** Retention: keep the newest N prerelease versions of each id (0 keeps all). */
    retentionKeepPrerelease: z.coerce.number().int().min(0).default(0),
    /** What retention does to older versions: unlist them (restores that pin them keep working) or delete them. */
    retentionAction: z.enum(['unlist', 'delete']).default('unlist'),
    /**
     * Trust X-Forwarded-For/-Proto from a proxy in front: `true` (any), or comma-separated proxy addresses/CIDRs.
     * Decides the client address that bad-key limits and the audit log see.
     */
    trustProxy: z
      .union([
        boolish,
        z.string().transform((s) => s.split(',').map((a) => a.trim()).filter((a) => a.length > 0)),
      ])
      .default(false),
    /** Let a push replace an existing id+version (NuGet.Server's allowOverwrite). */
    allowOverwrite: boolish.default(false),
    /** What `dotnet nuget delete` does: hide the version (nuget.org) or remove it for good. */
    deleteMode: z.enum(['unlist', 'delete']).default('unlist'),
    maxPackageSize: z.coerce.number().int().positive().default(250 * MiB),
    maxPackageEntries: z.coerce.number().int().positive().default(20_000),
    /**
     * A request body (a push, the upload form, any other) that sends nothing for this long (ms) is aborted and its
     * connection closed, so a stalled push holds no socket, file or spool; a slow upload that keeps sending is not
     * limited in total (maxPackageSize bounds it).
     */
    uploadIdleTimeout: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
    /** A client must send a request's headers within this long (ms), or its connection is closed (slowloris). */
    headersTimeout: z.coerce.number().int().min(100).max(600_000).default(30_000),
    /** An idle keep-alive connection is closed after this long (ms); raise it above a proxy's idle timeout. */
    keepAliveTimeout: z.coerce.number().int().min(100).max(600_000).default(5_000),
    /** Bytes of small package files (up to 256 KiB each) kept in memory to answer downloads; 0 turns it off. */
    packageBytesCacheSize: z.coerce.number().int().min(0).default(64 * MiB),
    /**
     * Bytes of rendered JSON documents (versions lists, registration) kept in memory with their gzip forms; every
     * host name clients use shares one rendering, so no client can make it grow past this.
     */
    responseCacheSize: z.coerce.number().int().min(MiB).default(64 * MiB),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `sqlite` (a file under the data dir), `sqlite:PATH`, or a `postgres://` URL for scale-out. */
    database: z
      .string()
      .regex(/^(sqlite(:.+)?|postgres(ql)?:\/\/.+)$/, 'expected "sqlite", "sqlite:PATH" or a postgres:// URL')
      .default('sqlite'),
    /** Where package files live: a folder under the data dir, or an S3-compatible bucket. */
    storage: z.enum(['filesystem', 's3']).default('filesystem'),
    s3Bucket: z.string().min(3).optional(),
    s3Prefix: z.string().default(''),
    s3Endpoint: z.url().optional(),
    s3Region: z.string().default('us-east-1'),
    s3ForcePathStyle: boolish.default(false),
    s3AccessKeyId: z.string().optional(),
    s3SecretAccessKey: z.string().optional(),
    /** Answer downloads with a redirect to a presigned URL instead of streaming through the node. */
    s3RedirectDownloads: boolish.default(false),
    /** How often a node looks for changes made by other nodes (ms). */
    changePollInterval: z.coerce.number().int().min(50).max(60_000).default(250),
    /** Upstream V3 feeds asked, in order, for ids and versions this feed lacks; a comma list of URLs in the environment. */
    upstreams: z
      .union([
        z.array(upstreamSchema),
        z.string().transform((s) =>
          s.split(',').map((u) => u.trim()).filter((u) => u.length > 0).map((url) => ({ url })),
        ).pipe(z.array(upstreamSchema)),
      ])
      .default([]),
    /** Search answers from local (and mirrored) packages only, or merges the upstreams' results in. */
    upstreamSearch: z.enum(['merged', 'local']).default('local'),
    /** Never serve an upstream's versions of an id this feed has pushed packages of (dependency confusion). */
    blockShadowing: boolish.default(false),
    /** Most bytes of packages a feed may hold (0: no limit); a push beyond it is refused with nothing stored. */
    quotaBytes: z.coerce.number().int().min(0).default(0),
    /** Most package versions a feed may hold (0: no limit). */
    quotaPackages: z.coerce.number().int().min(0).default(0),
  })
  .strict();

export const configSchema = configObject.refine((c) => c.storage !== 's3' || c.s3Bucket, {
  path: ['s3Bucket'],
  message: 'required when storage is "s3"',
});

/** What each feed may set for itself (docs/FEEDS.md); a feed's effective value is its own, else the configuration's. */
export const FEED_SETTINGS = [
  'private',
  'allowOverwrite',
  'deleteMode',
  'maxPackageSize',
  'retentionKeepStable',
  'retentionKeepPrerelease',
  'retentionAction',
  'upstreams',
  'upstreamSearch',
  'blockShadowing',
  'quotaBytes',
  'quotaPackages',
] as const;

export type FeedSettingName = (typeof FEED_SETTINGS)[number];

/** One feed's own settings, as stored in its row and accepted by `pawket feeds create|update` and the admin API. */
export const feedSettingsSchema = z
  .object(
    Object.fromEntries(FEED_SETTINGS.map((name) => [name, configObject.shape[name].unwrap().optional()])) as {
      [K in FeedSettingName]: z.ZodOptional<ReturnType<(typeof configObject.shape)[K]['unwrap']>>;
    },
  )
  .strict();

export type FeedSettings = z.output<typeof feedSettingsSchema>;

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
