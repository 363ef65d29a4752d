import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { badRequest } from '../errors.js';
import { withHub } from './open-feed.js';
import { operatorActing } from '../people/acting.js';
import { FeedRoles } from '../people/feed-roles.js';
import { Organisations } from '../people/organisations.js';
import { cliActor, out, storageConfig, storageOptions, table, type StorageFlags } from './access.js';

interface PeopleTools {
  readonly orgs: Organisations;
  readonly roles: FeedRoles;
}

/** Runs one command on the server's people; PawketErrors print their message and exit 1. */
function withPeople(config: Config, run: (tools: PeopleTools) => Promise<void>): Promise<void> {
  return withHub(config, (hub) => run({ orgs: new Organisations(hub.shared.people, hub), roles: new FeedRoles(hub.shared.people, hub) }));
}

type Json = { json?: boolean };
type GranteeFlags = { user?: string; org?: string; group?: string };

/** The one grantee `--user`, `--org` or `--group` names. */
function granteeOf(flags: GranteeFlags): { kind: string; grantee: string } {
  const given = (['user', 'org', 'group'] as const).filter((k) => flags[k] !== undefined);
  if (given.length !== 1) throw badRequest('Name whom the role is for with exactly one of --user NAME, --org NAME or --group VALUE.');
  return { kind: given[0]!, grantee: flags[given[0]!]! };
}

/**
 * Adds `orgs list|create|show|delete|add-member|remove-member` and `feeds roles|grant|revoke` to the command line
 * (docs/ORGANISATIONS.md). The command line acts as an admin; running servers see changes within 5 s.
 */
export function orgCommands(program: Command, loadConfigOf: (flags: StorageFlags) => Config): void {
  const configOf = storageConfig(loadConfigOf);
  const orgs = program.command('orgs').description('Manage organisations: owner names that people belong to, as member or admin.');
  const acting = () => operatorActing(cliActor());

  storageOptions(orgs.command('list').description('List every organisation.').option('--json', 'print JSON')).action((flags: StorageFlags & Json) =>
    withPeople(configOf(flags), async ({ orgs }) => {
      const list = (await orgs.list(acting())).map(({ yourRole: _r, ...o }) => o);
      if (flags.json) return void out(JSON.stringify(list, null, 2));
      out(list.length ? table(['NAME', 'CREATED', 'DESCRIPTION'], list.map((o) => [o.name, o.created.slice(0, 10), o.description])) : 'No organisations.');
    }),
  );

  storageOptions(
    orgs
      .command('create <name>')
      .description('Create an organisation (the name must not be a user or organisation already).')
      .option('--description <text>', 'what the organisation is')
      .option('--admin <user>', 'a user to make its first admin'),
  ).action((name: string, flags: StorageFlags & { description?: string; admin?: string }) =>
    withPeople(configOf(flags), async ({ orgs }) => {
      const created = await orgs.create(acting(), { name, description: flags.description, firstAdmin: flags.admin });
      out(`Created organisation ${created.org.name}${flags.admin ? ` with admin ${created.members[0]?.user}` : ''}.`);
    }),
  );

  storageOptions(orgs.command('show <name>').description('Show an organisation, its members and what it owns on each feed.').option('--json', 'print JSON')).action(
    (name: string, flags: StorageFlags & Json) =>
      withPeople(configOf(flags), async ({ orgs }) => {
        const { org, members } = await orgs.show(acting(), name);
        const holdings = await orgs.holdings(org.name);
        if (flags.json) return void out(JSON.stringify({ ...org, members, holdings }, null, 2));
        out(`Organisation: ${org.name}${org.description ? ` (${org.description})` : ''}`);
        out(`Created:      ${org.created.slice(0, 19).replace('T', ' ')} UTC`);
        out(members.length ? table(['MEMBER', 'ROLE', 'SOURCE'], members.map((m) => [m.user, m.role, m.source])) : 'No members.');
        for (const h of holdings) {
          if (h.ids.length) out(`Owns on feed ${h.feed}: ${h.ids.join(', ')}`);
          if (h.prefixes.length) out(`Prefixes on feed ${h.feed}: ${h.prefixes.join(', ')}`);
        }
      }),
  );

  storageOptions(orgs.command('delete <name>').description('Delete an organisation that owns no package ids and holds no prefixes.')).action(
    (name: string, flags: StorageFlags) =>
      withPeople(configOf(flags), async ({ orgs }) => {
        out(`Deleted organisation ${(await orgs.delete(acting(), name)).name}.`);
      }),
  );

  storageOptions(
    orgs
      .command('add-member <org> <user>')
      .description("Add a member to an organisation, or change a member's role.")
      .option('--role <role>', 'member or admin', 'member'),
  ).action((org: string, user: string, flags: StorageFlags & { role: string }) =>
    withPeople(configOf(flags), async ({ orgs }) => {
      const m = await orgs.putMember(acting(), org, user, flags.role);
      out(`${m.user} is ${m.role === 'admin' ? 'an admin' : 'a member'} of ${m.org}.`);
    }),
  );

  storageOptions(orgs.command('remove-member <org> <user>').description('Remove a member from an organisation (never its last admin).')).action(
    (org: string, user: string, flags: StorageFlags) =>
      withPeople(configOf(flags), async ({ orgs }) => {
        await orgs.removeMember(acting(), org, user);
        out(`Removed ${user.toLowerCase()} from ${org.toLowerCase()}.`);
      }),
  );

  // Roles per feed live under `feeds`, beside the feed's settings.
  const feeds = program.commands.find((c) => c.name() === 'feeds') ?? program.command('feeds');
  const granteeOptions = (c: Command) =>
    c.option('--user <name>', 'a user').option('--org <name>', "an organisation (its members)").option('--group <value>', "a value of the identity provider's group claim");

  storageOptions(feeds.command('roles <name>').description('List the roles granted on a feed.').option('--json', 'print JSON')).action(
    (name: string, flags: StorageFlags & Json) =>
      withPeople(configOf(flags), async ({ roles }) => {
        const list = await roles.list(acting(), name);
        if (flags.json) return void out(JSON.stringify(list, null, 2));
        out(list.length ? table(['KIND', 'NAME', 'ROLE', 'SINCE'], list.map((g) => [g.kind, g.grantee, g.role, g.created.slice(0, 10)])) : `No roles granted on ${name}.`);
      }),
  );

  storageOptions(
    granteeOptions(feeds.command('grant <name>').description('Grant a role on a feed (reader, contributor or owner) to a user, organisation or group.')).requiredOption(
      '--role <role>',
      'reader, contributor or owner',
    ),
  ).action((name: string, flags: StorageFlags & GranteeFlags & { role: string }) =>
    withPeople(configOf(flags), async ({ roles }) => {
      const { kind, grantee } = granteeOf(flags);
      const g = await roles.grant(acting(), name, kind, grantee, flags.role);
      out(`Granted ${g.role} on ${g.feed} to ${g.kind} ${g.grantee}.`);
    }),
  );

  storageOptions(granteeOptions(feeds.command('revoke <name>').description('Revoke the role of a user, organisation or group on a feed.'))).action(
    (name: string, flags: StorageFlags & GranteeFlags) =>
      withPeople(configOf(flags), async ({ roles }) => {
        const { kind, grantee } = granteeOf(flags);
        await roles.revoke(acting(), name, kind, grantee);
        out(`Revoked the role of ${kind} ${grantee} on ${name}.`);
      }),
  );
}
