import type { BlobStore } from '../blobs/blob-store.js';
import type { Config } from '../config/schema.js';
import type { PackageDatabase } from '../db/database.js';
import type { AccessDatabase } from '../db/access-database.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { KyselyAdvisoryDatabase } from '../db/kysely-advisory-database.js';
import { KyselySymbolDatabase } from '../db/kysely-symbol-database.js';
import { KyselyWebhookDatabase } from '../db/kysely-webhook-database.js';
import { notFound } from '../errors.js';
import { PackageAccess } from './access.js';
import { AdvisoryService } from './advisories.js';
import { AuditLog } from './audit.js';
import type { ApiKeyAuthenticator } from './auth.js';
import { FeedEvents } from './events.js';
import type { FeedDefinition } from './feed-definitions.js';
import { DEFAULT_FEED_SCOPE, feedScope, type FeedScope } from './feed-scope.js';
import type { FeedHub, HubShared, OpenHubOptions } from './hub.js';
import { KeyManager } from './keys.js';
import { TokenExchange } from '../trust/exchange.js';
import { KyselyTrustDatabase } from '../db/kysely-trust-database.js';
import type { FileBytesCache } from './file-bytes-cache.js';
import { ManageService } from './manage.js';
import { Ownership } from './ownership.js';
import { PackageReader } from './package-reader.js';
import { PublishService } from './publish.js';
import { SymbolService } from './symbols.js';
import { StagingService } from './staging.js';
import { StagingPreviews } from './staging-preview.js';
import { KyselyStagingDatabase } from '../db/kysely-staging-database.js';
import { MergedReader } from './upstream/merged-reader.js';
import { UpstreamService } from './upstream/service.js';
import { VirtualMembers } from './virtual/members.js';
import { VirtualAdvisories } from './virtual/virtual-advisories.js';
import { VirtualReader } from './virtual/virtual-reader.js';
import { VirtualSymbols } from './virtual/virtual-symbols.js';
import { WebhookService } from './webhooks.js';
import { KyselySignerPolicyDatabase } from '../db/kysely-signer-policy-database.js';
import { SignerPolicies } from './signer-policies.js';
import { PackageSignatureCheck } from '../signing/package-signatures.js';
import { trustedRoots, type TrustedRoots } from '../signing/trusted-roots.js';
import { RepositoryCertificates } from '../signing/repository-listing.js';
import { feedServiceIndexUrl, FeedRepositorySigning, RepositorySigner } from '../signing/repository-signer.js';

/** Everything the web layer needs for one feed, wired once: the composition root of a feed. */
export interface Feed {
  /** Which feed this is: its id, name and blob key prefix. */
  readonly scope: FeedScope;
  readonly definition: FeedDefinition;
  /** The configuration this feed runs with (the server's, with the feed's own settings applied). */
  readonly config: Config;
  /** The server's feeds, of which this is one. */
  readonly hub: FeedHub;
  /** This feed's rows. */
  readonly db: PackageDatabase;
  readonly blobs: BlobStore;
  readonly auth: ApiKeyAuthenticator;
  /** Who may change which id (scopes, ownership, prefix reservations); symbol pushes use it too. */
  readonly access: PackageAccess;
  /** Owners and prefix reservations; `ownership.isVerifiedId` for search results. */
  readonly ownership: Ownership;
  readonly keys: KeyManager;
  readonly audit: AuditLog;
  readonly accessDb: AccessDatabase;
  readonly events: FeedEvents;
  readonly reader: PackageReader;
  readonly publish: PublishService;
  readonly manage: ManageService;
  /** Symbols packages, the symbol server's lookups and .snupkg downloads. */
  readonly symbols: SymbolService;
  /** Deprecations and vulnerability advisories. */
  readonly advisories: AdvisoryService;
  /** Staged packages and groups, invisible to readers until promoted (docs/STAGING.md). */
  readonly staging: StagingService;
  /** Trusted publishing's token exchange (docs/TRUSTED-PUBLISHING.md). */
  readonly trust: TokenExchange;
  /** Repository signing of every package the feed takes in, when a repository certificate is configured (docs/SIGNING.md). */
  readonly repositorySigning: FeedRepositorySigning | null;
  /** The repository certificates the feed lists (RepositorySignatures), when it signs. */
  readonly repositoryCertificates: RepositoryCertificates | null;
  /** The feed's webhooks; the use cases above tell it what changed (docs/WEBHOOKS.md). */
  readonly webhooks: WebhookService;
  /** Trusted-signer policies: which ids must be signed, by whom (docs/SIGNING.md). */
  readonly signers: SignerPolicies;
  /** Read-through to upstream feeds, when configured (docs/UPSTREAMS.md). */
  readonly upstream: UpstreamService | null;
  /** The read side the protocol routes use: `reader`, merged with the upstreams when configured. */
  readonly mergedReader: PackageReader;
  /** Small package files in memory, shared by the readers and the feeds (null when turned off). */
  readonly fileBytes: FileBytesCache | null;
  /** For a virtual feed, the read side over its members (`reader` and `mergedReader` are its reader); else null. */
  readonly virtual: VirtualParts | null;
  /** Staging groups' preview feeds: the published packages and a group's staged ones, for the group's owner. */
  readonly stagingPreviews: StagingPreviews;
  /** The resolved data dir. */
  readonly dataDir: string;
  /** This process's own temporary folder (under `<dataDir>/tmp`), removed on close. */
  readonly tempDir: string;
  /** Removes files left by crashed pushes (in every feed); returns their keys. */
  sweepOrphans(dryRun?: boolean): Promise<string[]>;
  /** Closes the hub this feed was opened from (every feed of the process). */
  close(): Promise<void>;
}

/** What a virtual feed reads through: its members, in order (src/feed/virtual/). */
export interface VirtualParts {
  readonly members: VirtualMembers;
  readonly reader: VirtualReader;
  readonly advisories: VirtualAdvisories;
  readonly symbols: VirtualSymbols;
}

/** A feed's parts that need stopping when the hub closes. */
export interface OpenedFeed {
  readonly feed: Feed;
  stop(): void;
}

/** Wires one feed's use cases over the server's shared database, storage and keys. */
export async function composeFeed(hub: FeedHub, shared: HubShared, definition: FeedDefinition): Promise<OpenedFeed> {
  const config = definition.config;
  const scope = feedScope(definition.id, definition.name);
  const { kysely, onError, blobs, auth, fileBytes, tempDir } = shared;
  const db = definition.id === shared.db.feedId ? shared.db : shared.db.forFeed(definition.id);
  const accessDb = new KyselyAccessDatabase(kysely, definition.id);
  const events = new FeedEvents();
  const audit = new AuditLog(accessDb);
  const ownership = new Ownership(accessDb, audit, onError);
  await ownership.start(events);
  const access = new PackageAccess(auth, accessDb, ownership, audit, onError, {
    scope,
    nameOf: (id) => hub.definitionById(id)?.name,
    isPrivate: config.private,
  });
  const symbolDb = new KyselySymbolDatabase(kysely, definition.id);
  const symbols = new SymbolService(db, symbolDb, blobs, access, {
    allowOverwrite: config.allowOverwrite,
    // A PDB or assembly bigger than a whole package may be is not worth inflating to check.
    limits: { maxEntries: config.maxPackageEntries, maxFileBytes: config.maxPackageSize },
    tempDir,
    scope,
  });
  // A virtual feed holds no packages: it reads its members, and has no upstreams of its own (theirs count).
  const members = definition.virtual ? new VirtualMembers(hub, definition, events) : null;
  const virtualReader = members ? new VirtualReader(db, blobs, events, members, fileBytes) : null;
  const virtual: VirtualParts | null =
    members && virtualReader
      ? { members, reader: virtualReader, advisories: new VirtualAdvisories(virtualReader, members), symbols: new VirtualSymbols(virtualReader, members, blobs) }
      : null;
  const reader = virtualReader ?? new PackageReader(db, blobs, events, fileBytes);
  // Trusted-signer policies decide per id; the feed's `signatures` setting is their default (docs/SIGNING.md).
  const signers = new SignerPolicies(new KyselySignerPolicyDatabase(kysely, definition.id), audit, events, {
    feedName: scope.name,
    feedSetting: config.signatures,
    virtual: definition.virtual,
    onError,
  });
  const signatures = await signatureCheck(config, signers, onError);
  // A virtual feed takes nothing in; its members sign what they hold.
  const repositorySigning =
    shared.repositorySigning && config.baseUrl && !virtual
      ? new FeedRepositorySigning(
          new RepositorySigner(shared.repositorySigning),
          feedServiceIndexUrl(config.baseUrl, { isDefault: definition.id === DEFAULT_FEED_SCOPE.id, name: scope.name }),
          (id) => ownership.owners(id),
        )
      : null;
  const upstream =
    !virtual && config.upstreams.length
      ? new UpstreamService(db, kysely as never, blobs, events, config, tempDir, scope, (m) => onError(new Error(m)), signatures, repositorySigning)
      : null;
  const webhooks = new WebhookService(new KyselyWebhookDatabase(kysely, definition.id), audit, {
    feedName: scope.name,
    maxPerFeed: config.webhookMaxPerFeed,
    maxPending: config.webhookMaxPending,
    allowPrivateAddresses: config.webhookAllowPrivateAddresses,
    onError,
  });
  const keys = new KeyManager(accessDb, auth, audit);
  const repositoryCertificates = repositorySigning && shared.repositorySigning ? new RepositoryCertificates(shared.repositorySigning, db) : null;
  const stopCounting = repositoryCertificates ? events.onPackageChanged(() => repositoryCertificates.invalidate()) : () => {};
  const feed: Feed = {
    scope,
    definition,
    config,
    hub,
    db,
    blobs,
    auth,
    access,
    ownership,
    keys,
    audit,
    accessDb,
    events,
    dataDir: shared.dataDir,
    tempDir,
    reader,
    upstream,
    mergedReader: upstream ? new MergedReader(db, blobs, events, upstream, fileBytes) : reader,
    fileBytes,
    virtual,
    stagingPreviews: new StagingPreviews(reader, new KyselyStagingDatabase(kysely, definition.id), access),
    publish: new PublishService(db, blobs, access, events, {
      allowOverwrite: config.allowOverwrite,
      limits: { maxEntries: config.maxPackageEntries },
      scope,
      quota: { feedName: scope.name, quotaBytes: config.quotaBytes, quotaPackages: config.quotaPackages },
      notifier: webhooks,
      requireStaging: config.requireStaging,
      signatures,
      repositorySigning,
    }),
    manage: new ManageService(db, blobs, access, events, config.deleteMode, symbols, webhooks),
    symbols,
    staging: new StagingService(db, new KyselyStagingDatabase(kysely, definition.id), blobs, access, {
      scope,
      limits: { maxEntries: config.maxPackageEntries },
      symbolLimits: { maxEntries: config.maxPackageEntries, maxFileBytes: config.maxPackageSize },
      tempDir,
      ttlMs: config.stagingTtlDays * 86_400_000,
      maxGroups: config.stagingMaxGroups,
      maxGroupSize: config.stagingMaxGroupSize,
      maxPerOwner: config.stagingMaxPerOwner,
      quota: { feedName: scope.name, quotaBytes: config.quotaBytes, quotaPackages: config.quotaPackages },
      notifier: webhooks,
      signatures,
      promotion: { events, fence: hub.fence, deleteUnreferencedSymbols: (keys) => symbols.deleteUnreferenced(keys), onWarning: (m) => onError(new Error(m)) },
      repositorySigning,
    }),
    trust: new TokenExchange(new KyselyTrustDatabase(kysely), shared.issuerKeys, keys, audit, {
      maxKeyLifetime: config.trustedKeyLifetime,
      exchangesPerMinute: config.trustExchangesPerMinute,
    }),
    advisories: new AdvisoryService(new KyselyAdvisoryDatabase(kysely, definition.id), db, access, events, webhooks),
    webhooks,
    signers,
    repositorySigning,
    repositoryCertificates,
    sweepOrphans: (dryRun = false) => hub.sweepOrphans(dryRun),
    close: () => hub.close(),
  };
  const unwatch = shared.materializer?.watch(feed);
  return {
    feed,
    stop: () => {
      unwatch?.();
      upstream?.close();
      members?.stop();
      stopCounting();
    },
  };
}

/**
 * Signature verification for a feed under its `signatures` setting. The trusted roots are loaded once per process:
 * configured bundles at start-up (a bad file stops it), the machine's otherwise (in the background, with a warning
 * when there are none: chains are then checked only up to their own root).
 */
async function signatureCheck(config: Config, policies: SignerPolicies, onError: (err: Error) => void): Promise<PackageSignatureCheck> {
  const warn = (roots: TrustedRoots) => {
    if (!roots.enforced) onError(new Error('signatures: no trusted root bundle found (set signatureTrustedRoots): signature chains are checked up to their own root, which is not checked against any trust store.'));
  };
  const roots = () => trustedRoots(config.signatureTrustedRoots, warn);
  if (config.signatureTrustedRoots.length) await roots();
  else if (config.signatures !== 'accept') roots().catch((e: unknown) => onError(e as Error));
  return new PackageSignatureCheck(policies, roots);
}

export interface OpenFeedOptions extends OpenHubOptions {
  /** The feed to open by name (default: the default feed). */
  readonly feed?: string | undefined;
}

/**
 * Opens the server's feeds and returns one of them, for commands that act on one feed; closing it closes the rest.
 * A feed that does not exist is a 404 naming it.
 */
export async function openFeed(config: Config, options: OpenFeedOptions = {}): Promise<Feed> {
  const { FeedHub } = await import('./hub.js');
  const hub = await FeedHub.open(config, options);
  const feed = options.feed === undefined ? hub.defaultFeed : await hub.feed(options.feed);
  if (!feed) {
    await hub.close();
    throw notFound(`There is no feed '${options.feed}' on this server: \`pawket feeds list\` shows the feeds.`);
  }
  return feed;
}
