import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { ApiKeyRecord } from '../db/access-database.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { openDatabase } from '../db/open.js';
import type { FeedRecord } from '../db/feed-database.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { KyselyFeedDatabase } from '../db/kysely-feed-database.js';
import { badRequest, notFound, PawketError } from '../errors.js';
import { runCommand } from './run-command.js';
import { PackageAccess } from '../feed/access.js';
import { AdvisoryService } from '../feed/advisories.js';
import { AuditLog } from '../feed/audit.js';
import { FeedEvents } from '../feed/events.js';
import { KyselyAdvisoryDatabase } from '../db/kysely-advisory-database.js';
import { ApiKeyAuthenticator, operatorPrincipal, type Actor, type Principal } from '../feed/auth.js';
import { feedNamesOf, keyFeedNames, KeyManager, keyStatus, parseKeyFeeds, type FeedNames } from '../feed/keys.js';
import { Ownership } from '../feed/ownership.js';
import type { Kysely } from 'kysely';
import type { Tables } from '../db/schema.js';
import { KyselyWebhookDatabase } from '../db/kysely-webhook-database.js';
import { WebhookService } from '../feed/webhooks.js';

export interface StorageFlags {
  dataDir?: string;
  config?: string;
}

/** Commands on one feed's content take `--feed NAME` (default: the default feed). */
export interface FeedFlag {
  feed?: string;
}

/** What the access commands work with: the feed's own database, opened (and migrated) like `pawket migrate` does. */
interface AccessTools {
  readonly keys: KeyManager;
  readonly ownership: Ownership;
  readonly audit: AuditLog;
  readonly actor: Actor;
  /** The actor as a principal with every right, for use cases that check rights (advisories). */
  readonly operator: Principal;
  /** Deprecations and advisories, acting as an operator (every right, audited under the actor's name). */
  readonly advisories: AdvisoryService;
  /** The server's feeds by name and id (keys name the feeds they are valid on). */
  feedNames(): Promise<FeedNames>;
  /** The feed the command acts on (`--feed`), and every feed of the server. */
  readonly feed: FeedRecord;
  readonly feeds: readonly FeedRecord[];
}

export interface WithAccessOptions {
  /** The feed's name (`--feed`); default: the default feed. */
  readonly feed?: string | undefined;
  /** The command changes or reads packages' rows (owners, advisories): a virtual feed, which holds none, is refused. */
  readonly content?: boolean;
}

export function cliActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return { name: `cli (${user})`, keyId: null, owner: null, address: null };
}

/** The feed's webhooks hear of deprecations made here too; running servers send the deliveries. */
const cliWebhooks = (config: Config, kysely: Kysely<Tables>, feed: FeedRecord, audit: AuditLog) =>
  new WebhookService(new KyselyWebhookDatabase(kysely, feed.id), audit, {
    feedName: feed.name,
    maxPerFeed: config.webhookMaxPerFeed,
    maxPending: config.webhookMaxPending,
    allowPrivateAddresses: config.webhookAllowPrivateAddresses,
    onError: (err) => void process.stderr.write(`pawket: ${String(err)}\n`),
  });

/**
 * Runs one command against the database; PawketErrors (bad input, unknown key...) print their message and exit 1.
 * A running server sees the change at once for keys (revocation within its 5 s key cache) and, for owners and
 * prefixes, through the change feed.
 */
export function withAccess(config: Config, run: (tools: AccessTools) => Promise<void>, opts: WithAccessOptions = {}): Promise<void> {
  return runCommand(
    () => openDatabase(config.database, resolve(config.dataDir)),
    async (db) => {
      const feeds = await new KyselyFeedDatabase(db.kysely, db.sqlDialect).listFeeds();
      const feed = feedNamed(feeds, opts);
      const store = new KyselyAccessDatabase(db.kysely, feed.id);
      const audit = new AuditLog(store);
      const auth = new ApiKeyAuthenticator(store, []);
      const ownership = new Ownership(store, audit);
      const actor = cliActor();
      const access = new PackageAccess(auth, store, ownership, audit);
      const tools = {
        keys: new KeyManager(store, auth, audit),
        ownership,
        audit,
        actor,
        operator: operatorPrincipal(actor.name),
        advisories: new AdvisoryService(new KyselyAdvisoryDatabase(db.kysely, feed.id), feed.id === DEFAULT_FEED_ID ? db : db.forFeed(feed.id), access, new FeedEvents(), cliWebhooks(config, db.kysely, feed, audit)),
        feedNames: async () => feedNamesOf(feeds),
        feed,
        feeds,
      };
      await run(tools);
    },
    (db) => db.close(),
  );
}

function feedNamed(feeds: readonly FeedRecord[], opts: WithAccessOptions): FeedRecord {
  const name = opts.feed;
  const feed = name === undefined ? feeds.find((f) => f.id === DEFAULT_FEED_ID) : feeds.find((f) => f.name.toLowerCase() === name.toLowerCase());
  if (!feed) throw notFound(`There is no feed '${name}' on this server: \`pawket feeds list\` shows the feeds.`);
  if (opts.content && feed.members !== null) throw badRequest(`The feed '${feed.name}' is virtual: it holds no packages; act on its member feeds.`);
  return feed;
}

/** Adds `--feed NAME` to a command that acts on one feed's content. */
export const feedOption = (c: Command) => c.option('--feed <name>', 'the feed to act on (default: the default feed)');

export const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : text + '\n');

/** Left-aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const day = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '-');

/** A key's feeds in a table cell: `*` (every feed), the names, or `-` when every feed it named was deleted. */
function feedCell(k: ApiKeyRecord, names: FeedNames): string {
  const feeds = keyFeedNames(k.feeds, names);
  return feeds === '*' ? '*' : feeds.join(',') || '-';
}

function keyRows(keys: readonly ApiKeyRecord[], names: FeedNames): string {
  return table(
    ['ID', 'NAME', 'OWNER', 'SCOPES', 'PATTERNS', 'FEEDS', 'STATUS', 'EXPIRES', 'LAST USED', 'KEY ENDS'],
    keys.map((k) => [
      k.keyId,
      k.name,
      k.owner,
      k.scopes.join(','),
      k.patterns.join(',') || '*',
      feedCell(k, names),
      keyStatus(k),
      day(k.expires),
      day(k.lastUsed),
      `…${k.hint}`,
    ]),
  );
}

function showNewKey(key: string, record: ApiKeyRecord, names: FeedNames, json: boolean | undefined, what: string): void {
  const feeds = keyFeedNames(record.feeds, names);
  if (json) {
    out(JSON.stringify({ key, ...record, feeds, status: keyStatus(record) }, null, 2));
    return;
  }
  out(`${what} ${record.keyId} (${record.name}) for ${record.owner}: ${record.scopes.join(', ')}` +
    `${record.patterns.length ? ` on ${record.patterns.join(', ')}` : ''}` +
    `, valid on ${feeds === '*' ? 'every feed' : `feed${feeds.length === 1 ? '' : 's'} ${feeds.join(', ')}`}` +
    `${record.expires ? `, expires ${record.expires}` : ''}.`);
  out(`\n  ${key}\n`);
  out('This is the only time the key is shown: only its hash is stored. Put it where it will be used now.');
}

/** The settings of a command: only the storage flags are settings; the others belong to the command. */
export const storageConfig = (loadConfigOf: (flags: StorageFlags) => Config) => (flags: StorageFlags) =>
  loadConfigOf({ dataDir: flags.dataDir, config: flags.config });

export const storageOptions = (c: Command) =>
  c
    .addOption(new Option('--data-dir <dir>', 'data dir of an embedded feed (default ./data)'))
    .addOption(new Option('--config <file>', 'JSON config file; environment PAWKET_* and flags override it'));

/** The storage flags and `--feed NAME`, for commands on one feed's content. */
export const feedStorageOptions = (c: Command) => feedOption(storageOptions(c));

/** Adds `keys`, `owners`, `prefix` and `audit` to the command line. */
export function accessCommands(program: Command, loadConfigOf: (flags: StorageFlags) => Config): void {
  const configOf = storageConfig(loadConfigOf);
  const onFeed = (flags: StorageFlags & FeedFlag, run: (tools: AccessTools) => Promise<void>) =>
    withAccess(configOf(flags), run, { feed: flags.feed, content: true });

  const keys = program.command('keys').description('Manage API keys (stored as hashes; a key is shown once, at creation).');
  storageOptions(
    keys
      .command('create')
      .description('Create an API key and print it (once).')
      .requiredOption('--name <name>', 'what the key is for, e.g. "ci-main"')
      .requiredOption('--owner <owner>', 'the user or team the key acts for; it owns the ids it pushes first')
      .requiredOption('--scopes <scopes>', 'comma-separated: push-new, push, unlist, read, stage, admin')
      .option('--patterns <globs>', 'comma-separated id globs the key may write, e.g. "Contoso.*" (default: any id)')
      .option('--expires <when>', 'an ISO date (2026-12-31) or a duration (90d, 12h, 8w); default: never')
      .option('--feeds <names>', "comma-separated feed names the key is valid on, or '*' (default): every feed")
      .option('--json', 'print JSON'),
  ).action((flags: StorageFlags & { name: string; owner: string; scopes: string; patterns?: string; expires?: string; feeds?: string; json?: boolean }) =>
    withAccess(configOf(flags), async ({ keys: manager, actor, feedNames }) => {
      const names = await feedNames();
      const { key, record } = await manager.create(actor, {
        name: flags.name,
        owner: flags.owner,
        scopes: [flags.scopes],
        patterns: flags.patterns ? [flags.patterns] : [],
        expires: flags.expires ?? null,
        feeds: parseKeyFeeds(flags.feeds, names),
      });
      showNewKey(key, record, names, flags.json, 'Created API key');
    }),
  );
  storageOptions(keys.command('list').description('List API keys (never the keys themselves).').option('--json', 'print JSON')).action(
    (flags: StorageFlags & { json?: boolean }) =>
      withAccess(configOf(flags), async ({ keys: manager, feedNames }) => {
        const list = await manager.list();
        const names = await feedNames();
        if (flags.json) out(JSON.stringify(list.map((k) => ({ ...k, feeds: keyFeedNames(k.feeds, names), status: keyStatus(k) })), null, 2));
        else out(list.length ? keyRows(list, names) : 'No API keys yet (configured keys from PAWKET_API_KEY are not listed).');
      }),
  );
  storageOptions(keys.command('revoke <keyId>').description('Revoke an API key: it stops working at once.')).action(
    (keyId: string, flags: StorageFlags) =>
      withAccess(configOf(flags), async ({ keys: manager, actor }) => {
        const record = await manager.revoke(actor, keyId);
        out(`Revoked API key ${record.keyId} (${record.name}).`);
      }),
  );
  storageOptions(
    keys
      .command('rotate <keyId>')
      .description('Give a key a new secret (same id, owner, scopes and patterns); the old one stops working.')
      .option('--json', 'print JSON'),
  ).action((keyId: string, flags: StorageFlags & { json?: boolean }) =>
    withAccess(configOf(flags), async ({ keys: manager, actor, feedNames }) => {
      const { key, record } = await manager.rotate(actor, keyId);
      showNewKey(key, record, await feedNames(), flags.json, 'Rotated API key');
    }),
  );

  const owners = program.command('owners').description('Manage the owners of package ids.');
  feedStorageOptions(owners.command('add <id> <owner>').description('Make an owner (user or team) an owner of a package id.')).action(
    (id: string, owner: string, flags: StorageFlags) =>
      onFeed(flags, async ({ ownership, actor }) => {
        const added = await ownership.addOwner(actor, id, owner);
        out(`${added ? 'Added' : 'Already an owner:'} ${owner.toLowerCase()} ${added ? 'as an owner of' : 'of'} ${id}. Owners: ${(await ownership.owners(id)).join(', ')}.`);
      }),
  );
  feedStorageOptions(owners.command('remove <id> <owner>').description('Remove an owner of a package id (not the last one).')).action(
    (id: string, owner: string, flags: StorageFlags) =>
      onFeed(flags, async ({ ownership, actor }) => {
        await ownership.removeOwner(actor, id, owner);
        out(`Removed ${owner.toLowerCase()} from the owners of ${id}. Owners: ${(await ownership.owners(id)).join(', ')}.`);
      }),
  );
  feedStorageOptions(
    owners
      .command('list [id]')
      .description('The owners of a package id, or with --owner the ids an owner owns.')
      .option('--owner <owner>', 'list the ids this owner owns'),
  ).action((id: string | undefined, flags: StorageFlags & { owner?: string }) =>
    onFeed(flags, async ({ ownership }) => {
      if (flags.owner) {
        const ids = await ownership.idsOwnedBy(flags.owner);
        out(ids.length ? ids.join('\n') : `${flags.owner} owns no package ids.`);
      } else if (id) {
        const list = await ownership.owners(id);
        out(list.length ? list.join('\n') : `${id} has no owners.`);
      } else {
        throw new PawketError(400, 'Give a package id, or --owner NAME.');
      }
    }),
  );

  const prefix = program.command('prefix').description('Reserve id prefixes for owners (nobody else may create ids under them).');
  feedStorageOptions(prefix.command('reserve <pattern> <owner>').description('Reserve e.g. "Contoso.*" for an owner.')).action(
    (pattern: string, owner: string, flags: StorageFlags) =>
      onFeed(flags, async ({ ownership, actor }) => {
        const r = await ownership.reservePrefix(actor, pattern, owner);
        out(`Reserved ${r.pattern} for ${r.owner}: new ids under it can only be created by ${r.owner}; they show as verified.`);
      }),
  );
  feedStorageOptions(prefix.command('release <pattern>').description('Release a reserved prefix.')).action(
    (pattern: string, flags: StorageFlags) =>
      onFeed(flags, async ({ ownership, actor }) => {
        await ownership.releasePrefix(actor, pattern);
        out(`Released ${pattern.toLowerCase()}.`);
      }),
  );
  feedStorageOptions(prefix.command('list').description('List reserved prefixes.').option('--json', 'print JSON')).action(
    (flags: StorageFlags & { json?: boolean }) =>
      onFeed(flags, async ({ ownership }) => {
        const list = await ownership.listPrefixes();
        if (flags.json) out(JSON.stringify(list, null, 2));
        else out(list.length ? table(['PREFIX', 'OWNER', 'RESERVED'], list.map((r) => [r.pattern, r.owner, day(r.created)])) : 'No reserved prefixes.');
      }),
  );

  feedStorageOptions(
    program
      .command('audit')
      .description('Show the audit log, newest first: pushes, unlists, relists, deletes, refusals, key, owner and feed changes.')
      .option('--limit <n>', 'how many entries (default 50, at most 10000)', '50')
      .option('--action <action>', 'only this action, e.g. push, key.revoke, push.denied, feed.create')
      .option('--key <keyId>', 'only what this key did')
      .option('--id <id>', 'only entries about this package id (or key id, or prefix, or feed)')
      .option('--json', 'print JSON lines'),
  ).action((flags: StorageFlags & FeedFlag & { limit: string; action?: string; key?: string; id?: string; json?: boolean }) =>
    withAccess(
      configOf(flags),
      async ({ audit, feed, feeds }) => {
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new PawketError(400, `--limit must be a positive whole number, not '${flags.limit}'.`);
        const entries = await audit.list({
          ...(flags.feed !== undefined ? { feedId: feed.id } : {}),
          limit: Math.min(limit, 10_000),
          action: flags.action,
          keyId: flags.key,
          target: flags.id,
        });
        if (flags.json) {
          for (const e of entries) out(JSON.stringify(e));
          return;
        }
        // Without --feed the log is every feed's (a deleted feed's entries stay, under its number), with a FEED column
        // once there is more than the default feed.
        const feedName = (id: number) => feeds.find((f) => f.id === id)?.name ?? `#${id}`;
        const all = flags.feed === undefined && (feeds.length > 1 || entries.some((e) => e.feedId !== feed.id));
        out(
          entries.length
            ? table(
                ['WHEN (UTC)', ...(all ? ['FEED'] : []), 'WHO', 'OWNER', 'ACTION', 'TARGET', 'FROM', 'DETAIL'],
                entries.map((e) => [
                  e.at.slice(0, 19).replace('T', ' '),
                  ...(all ? [feedName(e.feedId)] : []),
                  e.actor,
                  e.owner ?? '-',
                  e.action,
                  e.target,
                  e.address ?? '-',
                  e.detail ?? '',
                ]),
              )
            : 'The audit log is empty.',
        );
      },
      { feed: flags.feed },
    ),
  );
}
