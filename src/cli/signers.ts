import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { Feed } from '../feed/feed.js';
import { describePolicy } from '../feed/signer-policies.js';
import { signerPolicyJson } from '../http/admin-signers.js';
import { SIGNATURE_MODES } from '../signing/signer-policy.js';
import { cliActor, feedStorageOptions, out, storageConfig, table, type FeedFlag, type StorageFlags } from './access.js';
import { openContentFeed } from './open-feed.js';
import { runCommand } from './run-command.js';

type Flags = StorageFlags & FeedFlag & { json?: boolean };

function withSigners(config: Config, name: string | undefined, run: (feed: Feed) => Promise<unknown>): Promise<void> {
  return runCommand(() => openContentFeed(config, name), run, (feed) => feed.close());
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

/** Adds `signers list|add|remove` to the command line (docs/SIGNING.md). */
export function signerCommands(program: Command, loadConfigOf: (flags: StorageFlags) => Config): void {
  const configOf = storageConfig(loadConfigOf);
  const signers = program
    .command('signers')
    .description("Manage a feed's trusted-signer policies: which ids must be signed, and by which author certificates.");

  feedStorageOptions(signers.command('list').description("List the feed's signer policies and its default.").option('--json', 'print JSON')).action((flags: Flags) =>
    withSigners(configOf(flags), flags.feed, async (feed) => {
      const list = await feed.signers.list();
      const fallback = feed.signers.feedDefault;
      if (flags.json) {
        return out(JSON.stringify({ feed: feed.scope.name, default: { mode: fallback.mode, fingerprints: fallback.fingerprints }, policies: list.map((p) => signerPolicyJson(p, feed.scope.name)) }, null, 2));
      }
      out(`Ids no policy covers: ${fallback.mode}${fallback.fingerprints.length ? ` (${fallback.fingerprints.length} certificates)` : ''} (the feed's signatures setting).`);
      if (!list.length) return out(`The feed ${feed.scope.name} has no signer policies yet (\`pawket signers add --name NAME --pattern 'Contoso.*' --mode require\`).`);
      out(
        table(
          ['NAME', 'PATTERN', 'OWNER', 'MODE', 'CERTIFICATES (SHA-256)'],
          list.map((p) => [p.name, p.pattern ?? '*', p.owner ?? '-', p.mode, p.fingerprints.length ? p.fingerprints.join(' ') : 'any trusted']),
        ),
      );
    }),
  );

  feedStorageOptions(
    signers
      .command('add')
      .description('Add a policy for an id pattern, an owner, or both (the most specific policy decides).')
      .requiredOption('--name <name>', 'what refusals and the audit log call it')
      .option('--pattern <pattern>', "the ids it covers: 'Contoso.*', 'Contoso.Core'")
      .option('--owner <owner>', 'the user or organisation whose ids it covers')
      .requiredOption('--mode <mode>', `${SIGNATURE_MODES.join(' | ')}`)
      .option('--fingerprint <sha256>', 'an allowed author certificate (SHA-256; repeat or comma-separate)', collect)
      .option('--json', 'print JSON'),
  ).action((flags: Flags & { name: string; pattern?: string; owner?: string; mode: string; fingerprint?: string[] }) =>
    withSigners(configOf(flags), flags.feed, async (feed) => {
      const p = await feed.signers.add(cliActor(), { name: flags.name, pattern: flags.pattern, owner: flags.owner, mode: flags.mode, fingerprints: flags.fingerprint });
      if (flags.json) return out(JSON.stringify(signerPolicyJson(p, feed.scope.name), null, 2));
      out(`Added signer policy ${p.name} on feed ${feed.scope.name}: ${describePolicy(p)}.`);
    }),
  );

  feedStorageOptions(signers.command('remove <name>').description('Remove a policy: its ids fall to the next policy or the feed default.')).action(
    (name: string, flags: Flags) =>
      withSigners(configOf(flags), flags.feed, async (feed) => {
        const p = await feed.signers.remove(cliActor(), name);
        out(`Removed signer policy ${p.name} from feed ${feed.scope.name} (${describePolicy(p)}).`);
      }),
  );
}
