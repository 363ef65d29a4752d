import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { badRequest } from '../errors.js';
import { runCommand } from './run-command.js';
import type { Feed } from '../feed/feed.js';
import { WEBHOOK_EVENTS } from '../feed/webhook-events.js';
import { deliveryJson, webhookJson } from '../http/admin-webhooks.js';
import { cliActor, feedStorageOptions, out, storageConfig, table, type FeedFlag, type StorageFlags } from './access.js';
import { openContentFeed } from './open-feed.js';

type Flags = StorageFlags & FeedFlag & { json?: boolean };

/** Runs one command on a feed's webhooks; PawketErrors print their message and exit 1. */
function withWebhooks(config: Config, name: string | undefined, run: (feed: Feed) => Promise<unknown>): Promise<void> {
  return runCommand(() => openContentFeed(config, name), run, (feed) => feed.close());
}

function idOf(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw badRequest(`"${text}" is not a webhook id: \`pawket webhooks list\` shows them.`);
  return Number(text);
}

const events = (e: readonly string[] | '*') => (e === '*' ? '*' : e.join(','));
const when = (iso: string | null) => (iso ? iso.slice(0, 19).replace('T', ' ') : '-');

/** Adds `webhooks create|list|show|update|delete|test|redeliver` to the command line (docs/WEBHOOKS.md). */
export function webhookCommands(program: Command, loadConfigOf: (flags: StorageFlags) => Config): void {
  const configOf = storageConfig(loadConfigOf);
  const webhooks = program
    .command('webhooks')
    .description("Manage a feed's webhooks: signed JSON POSTs when packages are pushed, unlisted, relisted, deleted or deprecated.");

  feedStorageOptions(
    webhooks
      .command('create')
      .description('Create a webhook and print its signing secret (once).')
      .requiredOption('--url <url>', 'the http(s) URL that receives the POSTs')
      .option('--events <events>', `comma-separated: ${WEBHOOK_EVENTS.join(', ')}; or '*' (default) for all`)
      .option('--description <text>', 'what the webhook is for')
      .option('--secret <secret>', 'the signing secret (default: a random one)')
      .option('--json', 'print JSON'),
  ).action((flags: Flags & { url: string; events?: string; description?: string; secret?: string }) =>
    withWebhooks(configOf(flags), flags.feed, async (feed) => {
      const { webhook, secret } = await feed.webhooks.create(cliActor(), {
        url: flags.url,
        events: flags.events === undefined ? '*' : flags.events.split(',').map((e) => e.trim()),
        description: flags.description,
        secret: flags.secret,
      });
      if (flags.json) return out(JSON.stringify({ ...webhookJson(webhook, feed.scope.name), secret }, null, 2));
      out(`Created webhook ${webhook.webhookId} on feed ${feed.scope.name}: ${webhook.url} (${events(webhook.events)}).`);
      out(`\n  ${secret}\n`);
      out('This is the only time the secret is shown: the receiver checks the x-pawket-signature-256 header with it.');
    }),
  );

  feedStorageOptions(webhooks.command('list').description("List the feed's webhooks (never their secrets).").option('--json', 'print JSON')).action((flags: Flags) =>
    withWebhooks(configOf(flags), flags.feed, async (feed) => {
      const list = await feed.webhooks.list();
      if (flags.json) return out(JSON.stringify(list.map((w) => webhookJson(w, feed.scope.name)), null, 2));
      if (!list.length) return out(`The feed ${feed.scope.name} has no webhooks yet (\`pawket webhooks create --url URL\`).`);
      out(table(['ID', 'URL', 'EVENTS', 'ACTIVE', 'DESCRIPTION'], list.map((w) => [String(w.webhookId), w.url, events(w.events), w.active ? 'yes' : 'no', w.description])));
    }),
  );

  feedStorageOptions(webhooks.command('show <id>').description('Show a webhook and its recent deliveries.').option('--json', 'print JSON')).action(
    (id: string, flags: Flags) =>
      withWebhooks(configOf(flags), flags.feed, async (feed) => {
        const { webhook, deliveries } = await feed.webhooks.show(idOf(id));
        if (flags.json) return out(JSON.stringify({ ...webhookJson(webhook, feed.scope.name), deliveries: deliveries.map((d) => deliveryJson(d)) }, null, 2));
        out(
          [
            `Webhook:     ${webhook.webhookId} on feed ${feed.scope.name}${webhook.active ? '' : ' (inactive)'}`,
            `URL:         ${webhook.url}`,
            `Events:      ${events(webhook.events)}`,
            ...(webhook.description ? [`Description: ${webhook.description}`] : []),
            `Created:     ${when(webhook.created)} UTC by ${webhook.createdBy}`,
            '',
          ].join('\n'),
        );
        out(
          deliveries.length
            ? table(
                ['DELIVERY', 'EVENT', 'PACKAGE', 'STATUS', 'ATTEMPTS', 'CODE', 'CREATED', 'LAST ERROR'],
                deliveries.map((d) => [d.deliveryId, d.event, d.lowerId ?? '-', d.status, String(d.attempts), d.lastStatusCode === null ? '-' : String(d.lastStatusCode), when(d.created), d.lastError ?? '']),
              )
            : 'No deliveries yet.',
        );
      }),
  );

  feedStorageOptions(
    webhooks
      .command('update <id>')
      .description("Change a webhook's URL, events, description, or turn it off and on.")
      .option('--url <url>', 'the new URL')
      .option('--events <events>', "comma-separated events, or '*'")
      .option('--description <text>', 'what the webhook is for')
      .option('--active <yes|no>', 'deliver to it (yes) or hold its deliveries (no)'),
  ).action((id: string, flags: Flags & { url?: string; events?: string; description?: string; active?: string }) =>
    withWebhooks(configOf(flags), flags.feed, async (feed) => {
      if (flags.active !== undefined && !['yes', 'no', 'true', 'false'].includes(flags.active)) throw badRequest('--active takes yes or no.');
      const w = await feed.webhooks.update(cliActor(), idOf(id), {
        url: flags.url,
        events: flags.events?.split(',').map((e) => e.trim()),
        description: flags.description,
        active: flags.active === undefined ? undefined : ['yes', 'true'].includes(flags.active),
      });
      out(`Webhook ${w.webhookId}: ${w.url} (${events(w.events)})${w.active ? '' : ', inactive'}.`);
    }),
  );

  feedStorageOptions(webhooks.command('delete <id>').description('Delete a webhook and its delivery log.')).action((id: string, flags: Flags) =>
    withWebhooks(configOf(flags), flags.feed, async (feed) => {
      const w = await feed.webhooks.delete(cliActor(), idOf(id));
      out(`Deleted webhook ${w.webhookId} (${w.url}).`);
    }),
  );

  feedStorageOptions(webhooks.command('test <id>').description('Queue a ping event to the webhook; a running server sends it.').option('--json', 'print JSON')).action(
    (id: string, flags: Flags) =>
      withWebhooks(configOf(flags), flags.feed, async (feed) => {
        const d = await feed.webhooks.ping(cliActor(), idOf(id));
        if (flags.json) return out(JSON.stringify(deliveryJson(d, true), null, 2));
        out(`Queued ping ${d.deliveryId}: a running server sends it within seconds (\`pawket webhooks show ${id}\` shows the outcome).`);
      }),
  );

  feedStorageOptions(webhooks.command('redeliver <id> <delivery>').description('Send a sent or failed delivery again (same id and body).')).action(
    (id: string, delivery: string, flags: Flags) =>
      withWebhooks(configOf(flags), flags.feed, async (feed) => {
        const d = await feed.webhooks.redeliver(idOf(id), delivery);
        out(`Queued ${d.event} ${d.deliveryId} again.`);
      }),
  );
}
