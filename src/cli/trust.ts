import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import type { TrustPolicyRecord } from '../db/trust-database.js';
import { badRequest } from '../errors.js';
import { operatorPrincipal } from '../feed/auth.js';
import { parseClaimRules, policyId, policyJson, TRUST_SCOPES, trustPoliciesOf, type TrustPolicies } from '../trust/policies.js';
import { cliActor, out, storageConfig, storageOptions, table, type StorageFlags } from './access.js';
import { withHub } from './open-feed.js';

type Json = { json?: boolean };

interface CreateFlags extends StorageFlags, Json {
  name: string;
  owner: string;
  github?: string;
  gitlab?: string;
  workflow?: string;
  environment?: string;
  ref?: string;
  issuer?: string;
  claim?: string[];
  audience?: string;
  scopes?: string;
  patterns?: string;
  feeds?: string;
  keyLifetime?: string;
}

/** Runs one command on the server's trust policies, as an operator (every right, audited as `cli (user)`). */
function withPolicies(config: Config, run: (policies: TrustPolicies) => Promise<void>): Promise<void> {
  return withHub(config, (hub) => run(trustPoliciesOf(hub)));
}

const operator = () => operatorPrincipal(cliActor().name);
const collect = (value: string, previous: string[] = []) => [...previous, value];
const when = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** What a policy trusts, in a few words: `github contoso/widgets workflow=release.yml`. */
function trusted(p: TrustPolicyRecord): string {
  const subject = p.claims.repository ?? p.claims.project_path;
  const rest = Object.entries(p.claims).filter(([k]) => !['repository', 'repository_owner', 'project_path', 'namespace_path'].includes(k));
  return [p.provider, subject, ...rest.map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(' ');
}

function showPolicy(policies: TrustPolicies, p: TrustPolicyRecord): void {
  const json = policyJson(p, policies.feedNames);
  out(
    [
      `Policy:       ${p.policyId} (${p.name})${p.disabled ? ', disabled' : ''}`,
      `Owner:        ${p.owner}`,
      `Issuer:       ${p.issuer} (${p.provider})`,
      `Claims:       ${Object.entries(p.claims).map(([k, v]) => `${k}=${v}`).join(', ')}`,
      `Audience:     ${p.audience ?? "the server's baseUrl"}`,
      `Scopes:       ${p.scopes.join(', ')}`,
      `Package ids:  ${p.patterns.join(', ') || 'any id'}`,
      `Feeds:        ${json.feeds === '*' ? 'every feed' : json.feeds.join(', ') || '(deleted feeds)'}`,
      `Key lifetime: ${p.keyLifetime} s`,
      `Created:      ${when(p.created)} UTC by ${p.createdBy}`,
    ].join('\n'),
  );
}

/**
 * Adds `trust create|list|show|disable|enable|delete` to the command line: trusted publishing's policies
 * (docs/TRUSTED-PUBLISHING.md). The command line acts as an admin; a running server uses a change at its next exchange.
 */
export function trustCommands(program: Command, loadConfigOf: (flags: StorageFlags) => Config): void {
  const configOf = storageConfig(loadConfigOf);
  const trust = program
    .command('trust')
    .description("Manage trusted publishing: policies that trade a CI system's OIDC token for a short-lived key (no stored secrets).");

  storageOptions(
    trust
      .command('create')
      .description('Create a trust policy: which CI jobs may publish for an owner, and what their keys may do.')
      .requiredOption('--name <name>', 'what the policy is for, e.g. "widgets release"')
      .requiredOption('--owner <owner>', 'the user or organisation the issued keys act for (NuGet/login sends it as user)')
      .option('--github <owner/repo>', 'GitHub Actions: the repository')
      .option('--workflow <file>', 'GitHub: only this workflow file, e.g. release.yml')
      .option('--gitlab <group/project>', 'GitLab CI: the project path')
      .option('--environment <name>', 'only jobs in this deployment environment')
      .option('--ref <ref>', 'only this ref (GitHub: refs/heads/main, refs/tags/v1.0; GitLab: main)')
      .option('--issuer <url>', 'the issuer (default: GitHub Actions or gitlab.com); required without --github or --gitlab')
      .option('--claim <name=value>', 'a claim the token must carry (repeatable)', collect)
      .option('--audience <url>', "the token's audience: the URL given to NuGet/login as its audience input (default: the server's baseUrl; required without one)")
      .option('--scopes <scopes>', `comma-separated: ${TRUST_SCOPES.join(', ')} (default push-new,push)`)
      .option('--patterns <globs>', 'comma-separated id globs the keys may publish, e.g. "Contoso.*" (default: any id)')
      .option('--feeds <names>', "comma-separated feed names, or '*' (default): every feed")
      .option('--key-lifetime <seconds>', 'how long an issued key lives (60 to trustedKeyLifetime; default trustedKeyLifetime)')
      .option('--json', 'print JSON'),
  ).action((flags: CreateFlags) => {
    const config = configOf(flags);
    return withPolicies(config, async (policies) => {
      if (flags.github && flags.gitlab) throw badRequest('A policy is for GitHub (--github) or GitLab (--gitlab), not both.');
      if (flags.keyLifetime !== undefined && !/^\d{1,9}$/.test(flags.keyLifetime)) throw badRequest(`--key-lifetime takes seconds, not '${flags.keyLifetime}'.`);
      const policy = await policies.create(operator(), {
        name: flags.name,
        owner: flags.owner,
        provider: flags.github ? 'github' : flags.gitlab ? 'gitlab' : 'generic',
        repository: flags.github,
        project: flags.gitlab,
        workflow: flags.workflow,
        environment: flags.environment,
        ref: flags.ref,
        issuer: flags.issuer,
        claims: parseClaimRules(flags.claim ?? []),
        audience: flags.audience,
        scopes: flags.scopes ? [flags.scopes] : undefined,
        patterns: flags.patterns ? [flags.patterns] : undefined,
        feeds: flags.feeds,
        keyLifetime: flags.keyLifetime === undefined ? undefined : Number(flags.keyLifetime),
      }, config.baseUrl ?? null);
      if (flags.json) return void out(JSON.stringify(policyJson(policy, policies.feedNames), null, 2));
      out(`Created trust policy ${policy.policyId} (${policy.name}) for ${policy.owner}: ${trusted(policy)}.`);
      out(`CI jobs it trusts exchange their OIDC token at <feed URL>/api/v2/token with user ${policy.owner} (docs/TRUSTED-PUBLISHING.md).`);
    });
  });

  storageOptions(trust.command('list').description('List every trust policy.').option('--json', 'print JSON')).action((flags: StorageFlags & Json) =>
    withPolicies(configOf(flags), async (policies) => {
      const list = await policies.list(operator());
      if (flags.json) return void out(JSON.stringify(list.map((p) => policyJson(p, policies.feedNames)), null, 2));
      if (!list.length) return void out('No trust policies yet (`pawket trust create --owner NAME --github OWNER/REPO --name NAME`).');
      out(
        table(
          ['ID', 'NAME', 'OWNER', 'TRUSTS', 'SCOPES', 'FEEDS', 'STATE'],
          list.map((p) => {
            const feeds = policyJson(p, policies.feedNames).feeds;
            return [String(p.policyId), p.name, p.owner, trusted(p), p.scopes.join(','), feeds === '*' ? '*' : feeds.join(',') || '-', p.disabled ? 'disabled' : 'enabled'];
          }),
        ),
      );
    }),
  );

  storageOptions(trust.command('show <id>').description('Show a trust policy.').option('--json', 'print JSON')).action((id: string, flags: StorageFlags & Json) =>
    withPolicies(configOf(flags), async (policies) => {
      const policy = await policies.show(operator(), policyId(id));
      if (flags.json) return void out(JSON.stringify(policyJson(policy, policies.feedNames), null, 2));
      showPolicy(policies, policy);
    }),
  );

  for (const [command, disabled] of [['disable', true], ['enable', false]] as const) {
    storageOptions(
      trust.command(`${command} <id>`).description(disabled ? 'Turn a policy off: no token is exchanged under it until it is enabled.' : 'Turn a disabled policy on again.'),
    ).action((id: string, flags: StorageFlags) =>
      withPolicies(configOf(flags), async (policies) => {
        const p = await policies.setDisabled(operator(), policyId(id), disabled);
        out(`Trust policy ${p.policyId} (${p.name}) is ${disabled ? 'disabled' : 'enabled'}.`);
      }),
    );
  }

  storageOptions(trust.command('delete <id>').description('Delete a trust policy (keys it issued expire within their lifetime).')).action((id: string, flags: StorageFlags) =>
    withPolicies(configOf(flags), async (policies) => {
      const p = await policies.delete(operator(), policyId(id));
      out(`Deleted trust policy ${p.policyId} (${p.name}) of ${p.owner}.`);
    }),
  );
}
