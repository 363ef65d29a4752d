import type { AddressInfo } from 'node:net';
import { ConfigError } from '../config/load.js';
import { privateUnderReadBaseUrl, type Config } from '../config/schema.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { KyselyWebhookQueue } from '../db/kysely-webhook-database.js';
import { openFeed } from '../feed/feed.js';
import { WebhookWorker } from '../feed/webhook-worker.js';
import { staticReadAllowed, type FeedDefinition } from '../feed/feed-definitions.js';
import { buildApp } from '../http/app.js';
import { feedUrls } from '../http/feed-urls.js';
import { sweepStaging } from '../feed/staging-sweep.js';
import { routes } from '../http/routes.js';
import { DownloadLogReader } from '../feed/download-log.js';
import type { Feed } from '../feed/feed.js';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';

/** Longest a shutdown waits for requests in flight (a big push on a slow link) before giving up. */
const SHUTDOWN_GRACE_MS = 60_000;

/** How often the journal of writes is checked for orphans; an entry is looked at once it is 10 minutes old. */
const ORPHAN_SWEEP_INTERVAL_MS = 5 * 60_000;

/** Feeds beyond the default one listed at start-up; a server with many says how many more (`pawket feeds list`). */
const SHOWN_FEEDS = 10;

function otherFeedLines(base: string, feeds: readonly FeedDefinition[]): string[] {
  const others = feeds.filter((d) => d.id !== DEFAULT_FEED_ID);
  const lines = others.slice(0, SHOWN_FEEDS).map((d) => `Feed '${d.name}'${d.virtual ? ' (virtual)' : ''}: ${feedUrls(base, d).serviceIndex}`);
  if (others.length > SHOWN_FEEDS) lines.push(`and ${others.length - SHOWN_FEEDS} more feeds (\`pawket feeds list\`)`);
  return lines;
}

/** Starts the feed and prints how to use it; stops cleanly on SIGINT/SIGTERM. */
export async function serve(config: Config): Promise<void> {
  // Background failures (change polling, temporary-area sweeps, upstream refreshes) go to the server's log once it exists.
  let logBackground = (err: unknown): void => void process.stderr.write(`background task failed: ${String(err)}\n`);
  const feed = await openFeed(config, { onBackgroundError: (err) => logBackground(err) });
  // Feeds made private while readBaseUrl was not set yet: serving them would publish them.
  const exposed = feed.hub.definitions().find((d) => !staticReadAllowed(d.config, d));
  if (exposed) {
    await feed.close();
    throw new ConfigError(
      `Invalid configuration: setting "readBaseUrl": ${privateUnderReadBaseUrl(exposed.name)}; ` +
        `\`pawket feeds update ${exposed.name} --set private=false\` makes it public`,
    );
  }
  const app = await buildApp(feed, config);
  logBackground = (err) => app.log.error({ err }, 'background task failed');
  await app.listen({ host: config.host, port: config.port });

  const { port } = app.server.address() as AddressInfo;
  const shownHost = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const base = config.baseUrl?.replace(/\/+$/, '') ?? `http://${shownHost}:${port}`;
  const hasKeys = config.apiKeys.length > 0 || (await feed.accessDb.countUsableKeys(new Date().toISOString())) > 0;
  const lines = [
    `Pawket is serving the ${config.private ? 'private ' : ''}feed in ${feed.dataDir}`,
    `Feed URL: ${base}${routes.serviceIndex}`,
    // Behind a proxy the public URL is not where this process listens: say both.
    ...(config.baseUrl ? [`Listening: http://${shownHost}:${port}`] : []),
    ...otherFeedLines(base, feed.hub.definitions()),
    hasKeys
      ? `Push:     dotnet nuget push My.Package.1.0.0.nupkg --source ${base}${routes.serviceIndex} --api-key <your key>`
      : 'Push:     disabled until an API key is set (PAWKET_API_KEY=... or "apiKeys" in the config file; then `pawket keys create`)',
    `Symbols:  ${base}${routes.symbolServer} (the symbol server for Visual Studio; see docs/SYMBOLS.md)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');

  // Every node sends the queued webhook deliveries of every feed (docs/WEBHOOKS.md).
  const webhooks = new WebhookWorker(new KyselyWebhookQueue(feed.hub.shared.kysely), {
    pollIntervalMs: config.webhookPollInterval,
    timeoutMs: config.webhookTimeout,
    retryDelaysMs: config.webhookRetryDelays.map((s) => s * 1000),
    allowPrivateAddresses: config.webhookAllowPrivateAddresses,
    onError: (err) => logBackground(err),
  });
  webhooks.start();

  // Expired staged packages go with their files, at start and every `stagingSweepInterval` (an hour); the sweep also
  // announces those about to expire (docs/STAGING.md). A sweep still running when the next is due lets it pass.
  let sweeping = false;
  const stagingSweep = () => {
    if (sweeping) return;
    sweeping = true;
    void sweepStaging(feed)
      .then(
        (removed) => removed.length && app.log.info({ count: removed.length }, 'removed expired staged files'),
        (err: unknown) => app.log.warn({ err }, 'staging expiry sweep failed'),
      )
      .finally(() => (sweeping = false));
  };
  stagingSweep();
  const stagingTimer = setInterval(stagingSweep, config.stagingSweepInterval);
  stagingTimer.unref();

  // Restore documents written by other nodes and commands, and whole feeds whose folder changed (docs/DEPLOYMENT.md).
  const materializer = feed.hub.shared.materializer;
  let unwatchDefinitions = () => {};
  if (materializer) {
    const { KyselyMaterializeDatabase } = await import('../db/kysely-materialize-database.js');
    const { watchDefinitions } = await import('../materialize/feeds.js');
    await materializer.start();
    unwatchDefinitions = watchDefinitions(feed.hub, materializer, new KyselyMaterializeDatabase(feed.hub.shared.kysely), (err) => logBackground(err));
  }

  // Downloads nginx in front answered from the materialized files are counted from its log (docs/NGINX.md).
  const downloadLog = config.nginxDownloadLog ? countNginxDownloads(app, feed, config.nginxDownloadLog, logBackground) : null;

  // Files left by a crash between a file and its row go once their journal entry is old enough (feed/pending-blobs.ts):
  // at start and every few minutes, with work proportional to recent writes, never a listing of the store.
  let sweepingOrphans = false;
  const orphanSweep = () => {
    if (sweepingOrphans) return;
    sweepingOrphans = true;
    void feed.hub
      .sweepPendingBlobs()
      .then(
        (removed) => removed.length && app.log.info({ count: removed.length }, 'removed orphaned package files'),
        (err: unknown) => app.log.warn({ err }, 'orphan sweep failed'),
      )
      .finally(() => (sweepingOrphans = false));
  };
  orphanSweep();
  const orphanTimer = setInterval(orphanSweep, ORPHAN_SWEEP_INTERVAL_MS);
  orphanTimer.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => {
      app.log.error(`requests still running after ${SHUTDOWN_GRACE_MS / 1000} s; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // Stops accepting, lets pushes and downloads in flight finish, then closes the database.
    await downloadLog?.stop();
    await app.close();
    clearInterval(stagingTimer);
    clearInterval(orphanTimer);
    unwatchDefinitions();
    await webhooks.stop();
    await feed.close();
    clearTimeout(force);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/** Reads nginx's download log and adds each download to its feed's counts (feeds not materialized never appear in it). */
function countNginxDownloads(app: FastifyInstance, feed: Feed, path: string, onError: (err: unknown) => void): DownloadLogReader {
  const reader = new DownloadLogReader(
    path,
    join(feed.dataDir, 'nginx-download-log.position'),
    ({ feed: name, lowerId, lowerVersion }) => {
      const definition = name === null ? feed.hub.definitionById(DEFAULT_FEED_ID) : feed.hub.definition(name);
      if (!definition || definition.virtual) return;
      app.pawketFeedApp(definition.id).then(
        (feedApp) => feedApp.pawketSearch.downloads.record(lowerId, lowerVersion),
        () => {},
      );
    },
    { onError },
  );
  reader.start();
  return reader;
}
