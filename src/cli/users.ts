import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { KyselyPeopleDatabase, type PeopleTables } from '../db/kysely-people-database.js';
import { openDatabase } from '../db/open.js';
import { badRequest } from '../errors.js';
import { runCommand } from './run-command.js';
import { AuditLog } from '../feed/audit.js';
import type { Actor } from '../feed/auth.js';
import { keyStatus } from '../feed/keys.js';
import { People } from '../people/people.js';
import { SessionStore } from '../people/sessions.js';
import { UserAdmin, type UserSummary } from '../people/user-admin.js';
import { cliActor, out, storageConfig, storageOptions, table, type StorageFlags } from './access.js';

/** Runs one command on the server's users; PawketErrors print their message and exit 1. */
function withUsers(config: Config, run: (users: UserAdmin, actor: Actor) => Promise<unknown>): Promise<void> {
  return runCommand(
    () => openDatabase(config.database, resolve(config.dataDir)),
    (db) => {
      const peopleDb = new KyselyPeopleDatabase(db.kysely as unknown as Kysely<PeopleTables>);
      const people = new People(peopleDb, config.signIn);
      const sessions = new SessionStore(peopleDb, { idleTimeoutMs: config.signIn.idleTimeout * 1000, maxAgeMs: config.signIn.maxAge * 1000 });
      const store = new KyselyAccessDatabase(db.kysely);
      return run(new UserAdmin(people, sessions, store, new AuditLog(store)), cliActor());
    },
    (db) => db.close(),
  );
}

const when = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '-');
const orgsOf = (s: UserSummary) => s.memberships.map((m) => `${m.org}${m.role === 'admin' ? '(admin)' : ''}`).join(',') || '-';
const adminOf = (s: UserSummary) => (s.adminByConfig ? 'yes (config)' : s.admin ? 'yes' : 'no');

/** A user as JSON: the record, whether an admin (and why), organisations. */
function userJson(s: UserSummary) {
  return { ...s.user, admin: s.admin, adminInDatabase: s.user.admin, adminByConfig: s.adminByConfig, organisations: s.memberships.map((m) => ({ name: m.org, role: m.role, source: m.source })) };
}

/**
 * Adds `users list|show|disable|enable|update` to the command line (docs/SIGN-IN.md). Users are made when they first
 * sign in; a running server sees changes within its 5 s caches (sessions of a disabled user end at once).
 */
export function userCommands(program: Command, loadConfigOf: (flags: StorageFlags) => Config): void {
  const configOf = storageConfig(loadConfigOf);
  const users = program.command('users').description('Manage the people who sign in: disable or enable them, make them admins.');

  storageOptions(users.command('list').description('List users.').option('--json', 'print JSON')).action((flags: StorageFlags & { json?: boolean }) =>
    withUsers(configOf(flags), async (admin) => {
      const list = await admin.list();
      if (flags.json) return out(JSON.stringify(list.map(userJson), null, 2));
      out(
        list.length
          ? table(
              ['NAME', 'DISPLAY NAME', 'E-MAIL', 'ISSUER', 'LAST SIGN-IN', 'ADMIN', 'DISABLED', 'ORGANISATIONS'],
              list.map((s) => [s.user.name, s.user.displayName, s.user.email ?? '-', s.user.issuer, when(s.user.lastSignIn), adminOf(s), when(s.user.disabled), orgsOf(s)]),
            )
          : 'No users yet: people are added when they first sign in.',
      );
    }),
  );

  storageOptions(users.command('show <name>').description('Show a user, their organisations and the keys they made.').option('--json', 'print JSON')).action(
    (name: string, flags: StorageFlags & { json?: boolean }) =>
      withUsers(configOf(flags), async (admin) => {
        const s = await admin.show(name);
        if (flags.json) return out(JSON.stringify({ ...userJson(s), keys: s.keys.map((k) => ({ ...k, status: keyStatus(k) })) }, null, 2));
        out(
          [
            `User:          ${s.user.name}${s.user.displayName && s.user.displayName !== s.user.name ? ` (${s.user.displayName})` : ''}`,
            `E-mail:        ${s.user.email ?? '-'}`,
            `Identity:      ${s.user.issuer} ${s.user.subject}`,
            `Created:       ${when(s.user.created)}`,
            `Last sign-in:  ${when(s.user.lastSignIn)}`,
            `Admin:         ${adminOf(s)}`,
            `Disabled:      ${s.user.disabled ? when(s.user.disabled) : 'no'}`,
            `Groups:        ${s.user.groups.join(', ') || '-'}`,
            `Organisations: ${orgsOf(s)}`,
            `Keys:          ${s.keys.length === 0 ? 'none' : ''}`,
            ...(s.keys.length
              ? [table(['ID', 'NAME', 'OWNER', 'SCOPES', 'STATUS', 'EXPIRES'], s.keys.map((k) => [k.keyId, k.name, k.owner, k.scopes.join(','), keyStatus(k), when(k.expires)]))]
              : []),
          ].join('\n'),
        );
      }),
  );

  storageOptions(users.command('disable <name>').description('Disable a user: their sessions end and the keys they made stop working.')).action(
    (name: string, flags: StorageFlags) =>
      withUsers(configOf(flags), async (admin, actor) => {
        const { user, changed, sessionsEnded } = await admin.setDisabled(actor, name, true);
        out(changed ? `Disabled ${user.name}: ${sessionsEnded} session(s) ended; the keys they made no longer work.` : `${user.name} was disabled already.`);
      }),
  );

  storageOptions(users.command('enable <name>').description('Enable a disabled user again (their keys work again unless revoked).')).action(
    (name: string, flags: StorageFlags) =>
      withUsers(configOf(flags), async (admin, actor) => {
        const { user, changed } = await admin.setDisabled(actor, name, false);
        out(changed ? `Enabled ${user.name}.` : `${user.name} is not disabled.`);
      }),
  );

  storageOptions(
    users
      .command('update <name>')
      .description('Change a user: --admin makes them a server admin, --no-admin takes it away.')
      .option('--admin', 'make the user a server admin')
      .option('--no-admin', 'the user is no longer a server admin (signIn.admins in the configuration still counts)')
      .option('--json', 'print JSON'),
  ).action((name: string, flags: StorageFlags & { admin?: boolean; json?: boolean }) =>
    withUsers(configOf(flags), async (admin, actor) => {
      if (flags.admin === undefined) throw badRequest('Say what to change: --admin or --no-admin.');
      const { changed, adminByConfig } = await admin.setAdmin(actor, name, flags.admin);
      const s = await admin.show(name);
      if (flags.json) return out(JSON.stringify(userJson(s), null, 2));
      const state = flags.admin ? 'is a server admin' : adminByConfig ? 'is no longer an admin in the database, but signIn.admins in the configuration still names them' : 'is no longer a server admin';
      out(`${s.user.name} ${state}${changed ? '' : ' (no change)'}.`);
    }),
  );
}
