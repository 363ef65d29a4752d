#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { PawketError } from '../errors.js';
import { accessCommands } from './access.js';
import { advisoryCommands } from './advisories.js';
import { feedCommands } from './feeds.js';
import { orgCommands } from './orgs.js';
import { serve } from './serve.js';
import { userCommands } from './users.js';
import { openStorage } from './storage.js';
import { trustCommands } from './trust.js';
import { webhookCommands } from './webhooks.js';
import { signerCommands } from './signers.js';

// Commands other than serve are loaded when run: their libraries (tar, progress bars) stay out of a server's memory.
const backup = () => import('./backup.js');
const operate = () => import('./operate.js');

const configOf = (flags: { dataDir?: string; config?: string }) => {
  const { config: file, ...settings } = flags;
  return loadConfig({ flags: settings, env: process.env, file: file ?? process.env.PAWKET_CONFIG });
};

const feedFlag = () => new Option('--feed <name>', 'the feed to act on (default: the default feed)');

const program = new Command('pawket').description('A self-hosted NuGet package server.').showHelpAfterError();

program
  .command('serve')
  .description('Run the feed (SQLite and packages on disk under the data dir by default).')
  .addOption(new Option('--host <host>', 'interface to listen on (default 0.0.0.0)'))
  .addOption(new Option('--port <port>', 'port to listen on, 0 for any free one (default 5000)'))
  .addOption(new Option('--data-dir <dir>', 'where the database and packages live (default ./data)'))
  .addOption(new Option('--base-url <url>', 'public URL of the feed when behind a proxy'))
  .addOption(new Option('--config <file>', 'JSON config file; environment PAWKET_* and flags override it'))
  .action((flags: { host?: string; port?: string; dataDir?: string; baseUrl?: string; config?: string }) => serve(configOf(flags)));

program
  .command('migrate')
  .description('Run database migrations and exit (serve also runs them at start-up).')
  .addOption(new Option('--data-dir <dir>', 'data dir of an embedded feed'))
  .addOption(new Option('--config <file>', 'JSON config file; environment PAWKET_* and flags override it'))
  .action(async (flags: { dataDir?: string; config?: string }) => {
    const storage = await openStorage(configOf(flags));
    await storage.close();
    process.stdout.write('The database schema is up to date.\n');
  });

program
  .command('copy')
  .description('Copy a whole server (every feed, keys, audit log) between backends (e.g. SQLite+disk to PostgreSQL+S3); resumable, verifies hashes.')
  .requiredOption('--from <config>', 'JSON config file of the source server')
  .requiredOption('--to <config>', 'JSON config file of the target server')
  .action(async (flags: { from: string; to: string }) => {
    process.exitCode = await (await import('./copy.js')).copyCommand(flags.from, flags.to);
  });

program
  .command('backup <file>')
  .description('Write a consistent backup (database snapshot + package files) of an embedded feed, while it runs.')
  .addOption(new Option('--data-dir <dir>', 'data dir of the feed (default ./data)'))
  .addOption(new Option('--config <file>', 'JSON config file'))
  .action((file: string, flags: { dataDir?: string; config?: string }) => backup().then((m) => m.backupCommand(configOf(flags), file)));

program
  .command('restore <file>')
  .description('Restore a backup into an empty data dir.')
  .addOption(new Option('--data-dir <dir>', 'empty data dir to restore into (default ./data)'))
  .addOption(new Option('--config <file>', 'JSON config file'))
  .action((file: string, flags: { dataDir?: string; config?: string }) => backup().then((m) => m.restoreCommand(configOf(flags), file)));

program
  .command('mirror')
  .description('Pre-fetch packages from the configured upstreams (docs/UPSTREAMS.md).')
  .command('add <packages...>')
  .description('Fetch ID[@RANGE]... into the feed: no range = latest listed version, a range = every listed version in it.')
  .addOption(new Option('--data-dir <dir>', 'data dir of the feed (default ./data)'))
  .addOption(new Option('--config <file>', 'JSON config file; environment PAWKET_* and flags override it'))
  .addOption(feedFlag())
  .action(async (packages: string[], flags: { dataDir?: string; config?: string; feed?: string }) => {
    const { feed, ...rest } = flags;
    process.exitCode = await (await import('./mirror.js')).mirrorAddCommand(configOf(rest), packages, feed);
  });

// keys, owners, prefix, audit: access control on the feed's database (docs/SECURITY.md).
accessCommands(program, configOf);
advisoryCommands(program, configOf);
feedCommands(program, configOf);
// orgs, and roles per feed under feeds (after feedCommands).
orgCommands(program, configOf);
userCommands(program, configOf);
webhookCommands(program, configOf);
trustCommands(program, configOf);
signerCommands(program, configOf);

program
  .command('promote <packages...>')
  .description('Promote package versions (ID VERSION pairs) from one feed to another, byte for byte, all or none.')
  .requiredOption('--from <feed>', 'the feed that has the versions')
  .requiredOption('--to <feed>', 'the feed to promote them into')
  .option('--move', 'delete them from the source feed afterwards')
  .option('--json', 'print JSON')
  .addOption(new Option('--data-dir <dir>', 'data dir of the server (default ./data)'))
  .addOption(new Option('--config <file>', 'JSON config file; environment PAWKET_* and flags override it'))
  .action(async (packages: string[], flags: { from: string; to: string; move?: boolean; json?: boolean; dataDir?: string; config?: string }) => {
    const { from, to, move, json, ...storage } = flags;
    process.exitCode = await (await import('./promote.js')).promoteCommand(configOf(storage), packages, { from, to, move, json });
  });

program
  .command('import <dir>')
  .description('Import every .nupkg/.snupkg under a folder (NuGet.Server, BaGet, global packages folder); resumable.')
  .addOption(new Option('--data-dir <dir>', 'data dir of the feed (default ./data)'))
  .addOption(new Option('--config <file>', 'JSON config file'))
  .addOption(new Option('--concurrency <n>', 'files imported at once').default('4'))
  .addOption(feedFlag())
  .action(async (dir: string, flags: { dataDir?: string; config?: string; concurrency: string; feed?: string }) => {
    const { concurrency, feed, ...rest } = flags;
    process.exitCode = await (await operate()).importCommand(configOf(rest), dir, Math.max(1, Number(concurrency) || 4), feed);
  });

program
  .command('export <dir>')
  .description('Write every package out as {id}/{version}/{id}.{version}.nupkg.')
  .addOption(new Option('--data-dir <dir>', 'data dir of the feed (default ./data)'))
  .addOption(new Option('--config <file>', 'JSON config file'))
  .addOption(feedFlag())
  .action((dir: string, flags: { dataDir?: string; config?: string; feed?: string }) => {
    const { feed, ...rest } = flags;
    return operate().then((m) => m.exportCommand(configOf(rest), dir, feed));
  });

program
  .command('materialize')
  .description('Write every feed\'s restore documents into the blob store again (resumable), or --verify them against what the routes serve and repair differences.')
  .addOption(new Option('--data-dir <dir>', 'data dir of the feed (default ./data)'))
  .addOption(new Option('--config <file>', 'JSON config file'))
  .addOption(new Option('--feed <name>', 'only this feed (default: every feed)'))
  .option('--verify', 'compare each document with what the routes serve; rewrite and report what differs (exit code 1)')
  .action(async (flags: { dataDir?: string; config?: string; verify?: boolean; feed?: string }) => {
    const { verify, feed, ...rest } = flags;
    const { materializeCommand } = await import('./materialize.js');
    process.exitCode = await materializeCommand(configOf(rest), { verify: verify === true, ...(feed === undefined ? {} : { feed }) });
  });

program
  .command('resign')
  .description('Repository-sign every package not signed with the current repository certificate (after a rotation); resumable.')
  .addOption(new Option('--data-dir <dir>', 'data dir of the feed (default ./data)'))
  .addOption(new Option('--config <file>', 'JSON config file'))
  .addOption(feedFlag())
  .action(async (flags: { dataDir?: string; config?: string; feed?: string }) => {
    const { feed, ...rest } = flags;
    process.exitCode = await (await import('./resign.js')).resignCommand(configOf(rest), feed);
  });

program
  .command('gc')
  .description("Apply each feed's retention policy and remove orphaned files; --dry-run only prints what it would do.")
  .addOption(new Option('--data-dir <dir>', 'data dir of the feed (default ./data)'))
  .addOption(new Option('--config <file>', 'JSON config file'))
  .addOption(new Option('--feed <name>', "apply only this feed's retention policy (default: every feed's)"))
  .option('--dry-run', 'print what would be done, change nothing')
  .action((flags: { dataDir?: string; config?: string; dryRun?: boolean; feed?: string }) => {
    const { dryRun, feed, ...rest } = flags;
    return operate().then((m) => m.gcCommand(configOf(rest), dryRun === true, feed));
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`pawket: ${error.message}\n`);
    process.exit(2);
  }
  // A refusal (unknown feed, bad input) is a message, not a stack trace.
  if (error instanceof PawketError) {
    process.stderr.write(`pawket: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`pawket: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
