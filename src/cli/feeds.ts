import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { badRequest } from '../errors.js';
import { FeedAdmin, type FeedSummary } from '../feed/feed-admin.js';
import { withHub } from './open-feed.js';
import { feedUrls } from '../http/feed-urls.js';
import { cliActor, out, storageConfig, storageOptions, table, type StorageFlags } from './access.js';
import { settingOptions, settingsOf, type SettingFlags } from './feed-setting-flags.js';

/** Runs one command on the server's feeds; PawketErrors print their message and exit 1. */
function withFeeds(config: Config, run: (feeds: FeedAdmin) => Promise<void>): Promise<void> {
  return withHub(config, (hub) => run(new FeedAdmin(hub)));
}

const names = (text: string) => text.split(',').map((t) => t.trim()).filter((t) => t.length > 0);

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes / 1024;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) (n /= 1024), unit++;
  return `${n.toFixed(1)} ${units[unit]}`;
}

function value(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.map((u) => (typeof u === 'string' ? u : typeof u === 'object' && u && 'url' in u ? String(u.url) : JSON.stringify(u))).join(', ') : '(none)';
  return String(v);
}

const ownSettings = (f: FeedSummary) => Object.entries(f.settings).map(([k, v]) => `${k}=${value(v)}`).join(' ');
const kind = (f: FeedSummary) => (f.members ? `virtual: ${f.members.join(',')}` : 'feed');

/** The feed's URLs from the configured public URL, or with `<server>` standing for it. */
const urlsOf = (config: Config, f: FeedSummary) => feedUrls(config.baseUrl?.replace(/\/+$/, '') ?? '<server>', f);

function show(config: Config, f: FeedSummary): string {
  const urls = urlsOf(config, f);
  const width = Math.max(...Object.keys(f.effective).map((k) => k.length));
  return [
    `Feed:          ${f.name}${f.description ? ` (${f.description})` : ''}`,
    `Kind:          ${f.members ? `virtual, members in order: ${f.members.join(', ')}` : 'feed'}`,
    `Created:       ${f.created.slice(0, 19).replace('T', ' ')} UTC`,
    ...(f.members ? [] : [`Packages:      ${f.packages} (${size(f.bytes)})`]),
    `Service index: ${urls.serviceIndex}`,
    `V2:            ${urls.v2}`,
    `Symbols:       ${urls.symbols}`,
    `Web:           ${urls.web}`,
    "Settings (* = the feed's own; the others are the configuration's):",
    ...Object.entries(f.effective).map(([k, v]) => `  ${k in f.settings ? '*' : ' '} ${k.padEnd(width)}  ${value(v)}`),
  ].join('\n');
}

/** Adds `feeds create|list|show|update|delete` to the command line (docs/FEEDS.md); running servers see changes at once. */
export function feedCommands(program: Command, loadConfigOf: (flags: StorageFlags) => Config): void {
  const configOf = storageConfig(loadConfigOf);
  const feeds = program.command('feeds').description('Manage the feeds of the server: each has its own packages, settings and URLs under /f/{name}/.');

  storageOptions(
    settingOptions(
      feeds
        .command('create <name>')
        .description('Create a feed (served at /f/{name}/v3/index.json), or with --virtual a read-only union of other feeds.')
        .option('--description <text>', 'what the feed is for')
        .option('--virtual <feeds>', 'comma-separated member feeds, in the order they are asked')
        .option('--json', 'print JSON'),
      { unset: false },
    ),
  ).action((name: string, flags: StorageFlags & SettingFlags & { description?: string; virtual?: string; json?: boolean }) => {
    const config = configOf(flags);
    return withFeeds(config, async (admin) => {
      const f = await admin.create(cliActor(), {
        name,
        description: flags.description,
        settings: settingsOf(flags),
        members: flags.virtual === undefined ? null : names(flags.virtual),
      });
      if (flags.json) {
        out(JSON.stringify({ ...f, urls: urlsOf(config, f) }, null, 2));
        return;
      }
      out(`Created ${f.members ? 'virtual ' : ''}feed '${f.name}'${ownSettings(f) ? ` with ${ownSettings(f)}` : ''}.`);
      out(`Service index: ${urlsOf(config, f).serviceIndex}`);
    });
  });

  storageOptions(feeds.command('list').description('List the feeds: kind, packages, size and their own settings.').option('--json', 'print JSON')).action(
    (flags: StorageFlags & { json?: boolean }) => {
      const config = configOf(flags);
      return withFeeds(config, async (admin) => {
        const list = await admin.list();
        if (flags.json) {
        out(JSON.stringify(list.map((f) => ({ ...f, urls: urlsOf(config, f) })), null, 2));
        return;
      }
        out(
          table(
            ['NAME', 'KIND', 'PACKAGES', 'SIZE', 'OWN SETTINGS'],
            list.map((f) => [f.name, kind(f), f.members ? '-' : String(f.packages), f.members ? '-' : size(f.bytes), ownSettings(f)]),
          ),
        );
      });
    },
  );

  storageOptions(feeds.command('show <name>').description("Show a feed's URLs and every setting it runs with.").option('--json', 'print JSON')).action(
    (name: string, flags: StorageFlags & { json?: boolean }) => {
      const config = configOf(flags);
      return withFeeds(config, async (admin) => {
        const f = await admin.show(name);
        out(flags.json ? JSON.stringify({ ...f, urls: urlsOf(config, f) }, null, 2) : show(config, f));
      });
    },
  );

  storageOptions(
    settingOptions(
      feeds
        .command('update <name>')
        .description("Change a feed's description, settings (the others stay) or a virtual feed's members.")
        .option('--description <text>', 'what the feed is for')
        .option('--members <feeds>', "a virtual feed's member feeds, comma-separated, in order"),
      { unset: true },
    ),
  ).action((name: string, flags: StorageFlags & SettingFlags & { description?: string; members?: string }) => {
    const config = configOf(flags);
    return withFeeds(config, async (admin) => {
      const settings = settingsOf(flags);
      if (flags.description === undefined && flags.members === undefined && Object.keys(settings).length === 0) {
        throw badRequest('Nothing to change: give --description, --members, --set key=value, --unset key or a setting flag.');
      }
      const f = await admin.update(cliActor(), name, {
        description: flags.description,
        settings: Object.keys(settings).length ? settings : undefined,
        members: flags.members === undefined ? undefined : names(flags.members),
      });
      out(`Updated feed '${f.name}'${f.members ? ` (members: ${f.members.join(', ')})` : ''}; its own settings: ${ownSettings(f) || 'none'}.`);
    });
  });

  storageOptions(
    feeds
      .command('delete <name>')
      .description('Delete a feed; one that holds packages only with --force, which deletes them and their files too.')
      .option('--force', 'delete the feed with its packages'),
  ).action((name: string, flags: StorageFlags & { force?: boolean }) =>
    withFeeds(configOf(flags), async (admin) => {
      const { feed, files, failedFiles } = await admin.delete(cliActor(), name, { force: flags.force === true });
      out(`Deleted feed '${feed.name}'${feed.packages ? ` with its ${feed.packages} packages (${files} files)` : ''}.`);
      if (failedFiles) out(`${failedFiles} files could not be removed now; \`pawket gc\` removes them.`);
    }),
  );
}
