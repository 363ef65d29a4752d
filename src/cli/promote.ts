import type { Config } from '../config/schema.js';
import { PawketError } from '../errors.js';
import { operatorPrincipal } from '../feed/auth.js';
import { promote, type PromotionItem, type PromotionResult } from '../feed/promote.js';

export interface PromoteFlags {
  readonly from: string;
  readonly to: string;
  readonly move?: boolean;
  readonly json?: boolean;
}

/**
 * `pawket promote ID VERSION [ID VERSION...] --from A --to B [--move]`: promotes package versions between feeds of the
 * data dir (or database) the config names, all or none (feed/promote.ts). A running server sees them through the change
 * feed. Prints what was promoted; a refusal prints its reason. Returns the exit code (2: bad arguments).
 */
export async function promoteCommand(config: Config, args: readonly string[], flags: PromoteFlags): Promise<number> {
  if (args.length === 0 || args.length % 2 !== 0) {
    process.stderr.write('pawket promote: give package versions as pairs: ID VERSION [ID VERSION...], e.g. `pawket promote Contoso.Core 1.2.0 --from dev --to release`\n');
    return 2;
  }
  const packages: PromotionItem[] = [];
  for (let i = 0; i < args.length; i += 2) packages.push({ id: args[i]!, version: args[i + 1]! });
  const { FeedHub } = await import('../feed/hub.js');
  const hub = await FeedHub.open(config);
  try {
    const result = await promote(hub, { from: flags.from, to: flags.to, packages, move: flags.move === true }, operatorPrincipal('pawket promote (command line)'));
    process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
    return 0;
  } catch (error) {
    if (!(error instanceof PawketError)) throw error;
    process.stderr.write(`pawket: ${error.message}\n`);
    return 1;
  } finally {
    await hub.close();
  }
}

function describe(result: PromotionResult): string {
  const n = result.packages.length;
  const lines = [`${result.moved ? 'Moved' : 'Promoted'} ${n} package version${n === 1 ? '' : 's'} from ${result.from} to ${result.to}:`];
  for (const p of result.packages) lines.push(`  ${p.id} ${p.version}${p.symbols ? ' (with symbols)' : ''}  sha512 ${p.sha512}`);
  return `${lines.join('\n')}\n`;
}
