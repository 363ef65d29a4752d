import { z } from 'zod';
import { isIdPattern, notAnIdPattern } from '../nuget/id-pattern.js';

const MiB = 1024 * 1024;

const boolish = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((s) => ['true', '1', 'yes'].includes(s)),
]);

const keyList = z.union([
  z.array(z.string().min(1)),
  z.string().transform((s) => s.split(',').map((k) => k.trim()).filter((k) => k.length > 0)),
]);

/** Most id patterns a list setting holds: each push matches its id against them. */
const MAX_ID_PATTERNS = 1000;

/** Id patterns as API keys take them (`Contoso.*`, `Fabrikam.Core`); a comma list in the environment and on flags. */
const idPatternList = z
  .union([z.array(z.string()), z.string().transform((s) => s.split(','))], { error: 'expected a list of id patterns (Contoso.*), or one text of them separated by commas' })
  .transform((list) => [...new Set(list.map((p) => p.trim()).filter((p) => p.length > 0))])
  .superRefine((list, ctx) => {
    const bad = list.find((p) => !isIdPattern(p));
    if (bad !== undefined) ctx.addIssue({ code: 'custom', message: notAnIdPattern(bad) });
    if (list.length > MAX_ID_PATTERNS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_ID_PATTERNS} patterns` });
  });

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

const FEED_ROLE_NAMES = ['reader', 'contributor', 'owner'] as const;

/** One OpenID Connect provider people sign in with (docs/SIGN-IN.md). */
export const signInProviderSchema = z
  .object({
    /** Short name in URLs: the redirect URI is `{baseUrl}/signin/{name}/callback`. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'use 1-32 lower-case letters, digits or -'),
    /** What the sign-in page's button says. */
    label: z.string().min(1).max(80).optional(),
    /** The issuer URL: its `/.well-known/openid-configuration` is read at the first sign-in (and again when it failed). */
    issuer: z.url(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']),
    /** Claims that give the user name (the first present wins), the e-mail, the display name and the groups. */
    claims: z
      .object({
        name: z.array(z.string().min(1)).default(['preferred_username', 'email', 'sub']),
        email: z.string().min(1).default('email'),
        displayName: z.string().min(1).default('name'),
        groups: z.string().min(1).default('groups'),
      })
      .strict()
      .default({ name: ['preferred_username', 'email', 'sub'], email: 'email', displayName: 'name', groups: 'groups' }),
    /** Only people whose e-mail is in one of these domains may sign in (empty: any). */
    allowedDomains: z.array(z.string().min(1)).default([]),
    /** Only people in one of these groups may sign in (empty: any). */
    allowedGroups: z.array(z.string().min(1)).default([]),
    /** Group claim values that make a person a member of an organisation, refreshed at each sign-in. */
    groupMappings: z
      .array(z.object({ group: z.string().min(1), org: z.string().min(1), role: z.enum(['member', 'admin']).default('member') }).strict())
      .default([]),
    /** Group claim values whose members are server admins. */
    adminGroups: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** People signing in to the web UI (docs/SIGN-IN.md). */
export const signInSchema = z
  .object({
    providers: z.array(signInProviderSchema).default([]),
    /** A session ends after this long without a request (seconds). */
    idleTimeout: z.coerce.number().int().min(60).max(30 * 86_400).default(8 * 3600),
    /** A session ends this long after sign-in, whatever happens (seconds). */
    maxAge: z.coerce.number().int().min(300).max(90 * 86_400).default(7 * 86_400),
    /** Every signed-in person's role on feeds that are not private, unless granted more; `none`: only what is granted. */
    defaultRole: z.enum(['none', ...FEED_ROLE_NAMES]).default('reader'),
    /** User names (as they sign in) who are server admins. */
    admins: z.array(z.string().min(1)).default([]),
    /** People may sign in with an API key (the key's rights; what a server without providers offers). */
    keySignIn: boolish.default(true),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.providers.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['providers', i, 'name'], message: `provider name ${p.name} is used twice` });
      seen.add(p.name);
    });
  });

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
    /**
     * Keep every feed's restore documents as finished files in the blob store (under `static/`, private feeds under
     * `static-private/`), for nginx, an object store or a CDN to serve (docs/DEPLOYMENT.md). Needs `baseUrl`.
     */
    materialize: boolish.default(false),
    /**
     * Public URL of the materialized files (a CDN or the bucket in front of `static/`): the service index sends restore
     * there (docs/DEPLOYMENT.md). Implies `materialize`.
     */
    readBaseUrl: z.url().optional(),
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
    /** Let webhooks call private, loopback and link-local addresses (docs/WEBHOOKS.md, SSRF); off: they are refused. */
    webhookAllowPrivateAddresses: boolish.default(false),
    /** Seconds between a webhook delivery's attempts, in order; one attempt more than delays, then it fails. */
    webhookRetryDelays: z
      .union([z.array(z.coerce.number()), z.string().transform((s) => s.split(',').map((d) => Number(d.trim())))])
      .pipe(z.array(z.number().min(0.05).max(7 * 86_400)).min(0).max(20))
      .default([10, 60, 300, 1800, 7200, 7200, 7200]),
    /** Longest a webhook delivery may take, connecting to reading the answer (ms). */
    webhookTimeout: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** How often a node looks for webhook deliveries that are due (ms). */
    webhookPollInterval: z.coerce.number().int().min(50).max(60_000).default(1000),
    /** Most webhooks a feed may have. */
    webhookMaxPerFeed: z.coerce.number().int().min(0).max(1000).default(20),
    /** Most deliveries waiting per webhook; beyond it new ones are recorded as failed (redeliver them later). */
    webhookMaxPending: z.coerce.number().int().min(1).max(1_000_000).default(1000),
    /** Days a staged package (and a group) lives unpromoted; a group's days start again when a package joins it. */
    stagingTtlDays: z.coerce.number().min(0.0001).max(3650).default(30),
    /** Hours before its expiry a staged artifact is announced to webhooks (`staging.expiring`); 0: no warning. */
    stagingExpiryWarningHours: z.coerce.number().min(0).max(87_600).default(24),
    /** How often a node removes expired staged artifacts and announces those about to expire (ms). */
    stagingSweepInterval: z.coerce.number().int().min(100).max(86_400_000).default(3_600_000),
    /** Most staging groups an owner may have on a feed at once (empty ones too). */
    stagingMaxGroups: z.coerce.number().int().min(1).max(1_000_000).default(1000),
    /** Most packages one staging group may hold. */
    stagingMaxGroupSize: z.coerce.number().int().min(1).max(1_000_000).default(1000),
    /** Most packages an owner may have staged on a feed at once, in groups or not. */
    stagingMaxPerOwner: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
    /** Ids that must be staged (docs/STAGING.md): a plain push of an id matching one of these patterns is refused. */
    requireStaging: idPatternList.default([]),
    /**
     * What a feed checks of package signatures at push, stage, import and mirroring (docs/SIGNING.md): `accept`
     * nothing, `verify` that a signature present is valid, `require` a valid author signature.
     */
    signatures: z.enum(['accept', 'verify', 'require']).default('verify'),
    /**
     * PEM bundles of the roots signatures must chain to (comma-separated in the environment). Unset: the bundles NuGet
     * uses on this machine (the system's code signing bundle, else the .NET SDK's trustedroots).
     */
    signatureTrustedRoots: keyList.default([]),
    /** Longest a key issued by trusted publishing lives, in seconds (docs/TRUSTED-PUBLISHING.md). */
    trustedKeyLifetime: z.coerce.number().int().min(60).max(3600).default(3600),
    /** Most token exchanges per trust policy per minute, over every node. */
    trustExchangesPerMinute: z.coerce.number().int().min(1).max(10_000).default(30),
    /** Let keys promote staged packages through the staging API (a feed setting); otherwise only people, in the web UI. */
    stagingApiPromotion: boolish.default(false),
    /**
     * Repository signing (docs/SIGNING.md): the certificate Pawket signs every package it takes in with, a PEM file (the
     * certificate, then its issuers) with `repositorySigningKey`, or a PKCS#12 file (.pfx/.p12). Needs an https `baseUrl`.
     */
    repositorySigningCertificate: z.string().min(1).optional(),
    /** The PEM private key of a PEM repository certificate. */
    repositorySigningKey: z.string().min(1).optional(),
    /** The PKCS#12 (or encrypted key) password: set it in the environment, or name a file with repositorySigningPasswordFile. */
    repositorySigningPassword: z.string().min(1).optional(),
    repositorySigningPasswordFile: z.string().min(1).optional(),
    /** An RFC 3161 timestamp authority that timestamps every repository signature. */
    repositorySigningTimestampUrl: z.url().optional(),
    /** Certificates packages were signed with before a rotation (PEM or DER files): listed until `pawket resign` is done. */
    repositorySigningPreviousCertificates: z
      .union([z.array(z.string().min(1)), z.string().transform((s) => s.split(',').map((f) => f.trim()).filter((f) => f.length > 0))])
      .default([]),
    /** Sign-in of people (OpenID Connect providers, sessions); JSON text in the environment. */
    signIn: z
      .union([signInSchema, z.string().transform((s, ctx) => {
        try {
          return JSON.parse(s) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'is not JSON' });
          return z.NEVER;
        }
      }).pipe(signInSchema)])
      .default(signInSchema.parse({})),
  })
  .strict();

export const configSchema = configObject
  .refine((c) => c.storage !== 's3' || c.s3Bucket, {
    path: ['s3Bucket'],
    message: 'required when storage is "s3"',
  })
  // Materialized documents carry absolute URLs: they are rendered for one public URL, not per request.
  .refine((c) => !(c.materialize || c.readBaseUrl) || c.baseUrl, {
    path: ['baseUrl'],
    message: 'required when materialize or readBaseUrl is set (materialized documents link to the public URL)',
  })
  // The service index URL goes into every repository signature, and NuGet accepts only https ones.
  .refine((c) => !c.repositorySigningCertificate || c.baseUrl?.startsWith('https://'), {
    path: ['baseUrl'],
    message: 'an https URL is required when repositorySigningCertificate is set: repository signatures name the feed\'s service index, which NuGet accepts over https only',
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
  'requireStaging',
  'stagingApiPromotion',
  'signatures',
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
export type SignInConfig = z.output<typeof signInSchema>;
export type SignInProviderConfig = z.output<typeof signInProviderSchema>;
export type ConfigInput = z.input<typeof configSchema>;
