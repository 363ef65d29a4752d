import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { badRequest } from '../errors.js';
import { lowerId } from '../nuget/id.js';
import { parseAlternate, parseDeprecationReason, severityName, type DeprecationReason } from '../nuget/advisory.js';
import { feedStorageOptions, out, storageConfig, storageOptions, table, withAccess, type FeedFlag, type StorageFlags } from './access.js';

const split = (text: string) => text.split(',').map((t) => t.trim()).filter((t) => t.length > 0);

function reasonsOf(text: string): DeprecationReason[] {
  return split(text).map((t) => {
    const reason = parseDeprecationReason(t);
    if (!reason) throw badRequest(`"${t}" is not a deprecation reason: use legacy, critical-bugs or other.`);
    return reason;
  });
}

function alternateOf(text: string | undefined) {
  if (!text) return null;
  try {
    return parseAlternate(text);
  } catch (err) {
    throw badRequest(`--alternate: ${(err as Error).message}.`);
  }
}

/**
 * Adds `deprecate`, `undeprecate` and `advisory` to the command line: the same use cases as the JSON API, run on
 * the database as an operator. Running servers see the change through the change feed.
 */
export function advisoryCommands(program: Command, loadConfigOf: (flags: StorageFlags) => Config): void {
  const configOf = storageConfig(loadConfigOf);
  const onFeed = (flags: StorageFlags & FeedFlag, run: Parameters<typeof withAccess>[1]) =>
    withAccess(configOf(flags), run, { feed: flags.feed, content: true });
  const versionsHelp = 'versions: exact ones (1.2.0), ranges ("[1.0.0, 2.0.0)") or "*" for all';

  feedStorageOptions(
    program
      .command('deprecate <id> <versions...>')
      .description(`Deprecate versions of a package (${versionsHelp}); clients and the web UI show it.`)
      .requiredOption('--reason <reasons>', 'comma-separated: legacy, critical-bugs, other')
      .option('--message <text>', 'what users should know (needed with "other")')
      .option('--alternate <id[@range]>', 'the package to use instead, e.g. Contoso.Http or "Contoso.Http@[2.0.0, )"'),
  ).action((id: string, versions: string[], flags: StorageFlags & { reason: string; message?: string; alternate?: string }) =>
    onFeed(flags, async ({ advisories, operator }) => {
      const done = await advisories.deprecate(operator, id, versions, {
        reasons: reasonsOf(flags.reason),
        message: flags.message ?? null,
        alternate: alternateOf(flags.alternate),
      });
      out(`Deprecated ${id} ${done.join(', ')}.`);
    }),
  );

  feedStorageOptions(
    program.command('undeprecate <id> <versions...>').description(`Take back the deprecation of versions of a package (${versionsHelp}).`),
  ).action((id: string, versions: string[], flags: StorageFlags) =>
    onFeed(flags, async ({ advisories, operator }) => {
      out(`No longer deprecated: ${id} ${(await advisories.undeprecate(operator, id, versions)).join(', ')}.`);
    }),
  );

  const advisory = program
    .command('advisory')
    .description('Known vulnerabilities of packages: restore (NuGetAudit), `dotnet list package --vulnerable` and the web UI show them.');
  feedStorageOptions(
    advisory
      .command('add <id>')
      .description('File a vulnerability advisory for versions of a package (here or upstream); the same URL again replaces it.')
      .requiredOption('--versions <range>', 'the vulnerable versions, e.g. "[1.0.0, 1.4.2)"')
      .requiredOption('--severity <severity>', 'low, moderate, high or critical')
      .requiredOption('--url <url>', 'where users read about it'),
  ).action((id: string, flags: StorageFlags & { versions: string; severity: string; url: string }) =>
    onFeed(flags, async ({ advisories, operator }) => {
      const v = await advisories.fileVulnerability(operator, id, { url: flags.url, severity: flags.severity, versions: flags.versions });
      out(`Filed a ${severityName(v.severity)} severity advisory for ${id} ${v.versions}: ${v.url}`);
    }),
  );
  feedStorageOptions(advisory.command('withdraw <id> <url>').description('Withdraw an advisory (clients drop it at their next audit).')).action(
    (id: string, url: string, flags: StorageFlags) =>
      onFeed(flags, async ({ advisories, operator }) => {
        await advisories.withdrawVulnerability(operator, id, url);
        out(`Withdrew the advisory ${url} of ${id}.`);
      }),
  );
  feedStorageOptions(advisory.command('list [id]').description('List the advisories in force (of one id, or all).').option('--json', 'print JSON')).action(
    (id: string | undefined, flags: StorageFlags & { json?: boolean }) =>
      onFeed(flags, async ({ advisories }) => {
        const data = await advisories.vulnerabilityData();
        const rows = Object.entries(data.byId)
          .filter(([lid]) => id === undefined || lid === lowerId(id))
          .flatMap(([lid, list]) => list.map((v) => ({ id: lid, ...v, severityName: severityName(v.severity) })));
        if (flags.json) out(JSON.stringify(rows, null, 2));
        else if (rows.length === 0) out('No advisories in force.');
        else out(table(['ID', 'VERSIONS', 'SEVERITY', 'URL'], rows.map((r) => [r.id, r.versions, r.severityName, r.url])));
      }),
  );
}
