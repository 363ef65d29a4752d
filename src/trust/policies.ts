import type { KeyScope } from '../db/access-database.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { KyselyTrustDatabase } from '../db/kysely-trust-database.js';
import type { TrustDatabase, TrustPolicyRecord, TrustProvider } from '../db/trust-database.js';
import { PawketError, badRequest, notFound } from '../errors.js';
import { AuditLog } from '../feed/audit.js';
import { ownersActedFor, type Principal } from '../feed/auth.js';
import type { FeedHub } from '../feed/hub.js';
import { keyFeedNames, parsePatterns, type FeedNames } from '../feed/keys.js';
import { ownerName } from '../feed/ownership.js';
import type { OwnerNames } from '../feed/package-owners.js';
import { isPrivateAddress } from '../feed/webhook-sender.js';
import { matchesIdPattern } from '../nuget/id-pattern.js';
import { roleOn, scopesOfRole } from '../people/roles.js';
import { GITHUB_ISSUER, GITLAB_ISSUER, WORKFLOW, missingClaims } from './policy.js';

/** What keys issued under a policy may do: publishing, never reading private feeds or administering. */
export const TRUST_SCOPES = ['push-new', 'push', 'stage', 'unlist'] as const satisfies readonly KeyScope[];
export const DEFAULT_TRUST_SCOPES: readonly KeyScope[] = ['push-new', 'push'];
export const TRUST_PROVIDERS: readonly TrustProvider[] = ['github', 'gitlab', 'generic'];
/** Policies one owner may have: each is read on every exchange of its issuer. */
export const MAX_POLICIES_PER_OWNER = 100;
/** Shortest lifetime of an issued key (seconds); the longest is the server's `trustedKeyLifetime`. */
export const MIN_KEY_LIFETIME = 60;

const MAX_CLAIMS = 20;
const MAX_CLAIM_VALUE = 500;
const MAX_URL = 500;
/** A claim a rule may name: JWT claim names as CI systems use them. */
const CLAIM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
/** Claims the exchange checks itself (signature, time, audience): a rule on them would mislead. */
const CHECKED_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti']);
/** `owner/repo` on GitHub. */
const GITHUB_REPOSITORY = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;
/** `group/subgroup/project` on GitLab: a namespace path and the project. */
const GITLAB_PROJECT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}(\/[A-Za-z0-9_][A-Za-z0-9._-]{0,254}){1,20}$/;
/** A workflow file in `.github/workflows/`. */
const WORKFLOW_FILE = /^[A-Za-z0-9._-]{1,200}\.ya?ml$/;

/** What an owner asks for when creating a policy (the CLI's flags, the API's JSON, the web form). */
export interface NewPolicyRequest {
  readonly name: string;
  readonly owner: string;
  readonly provider: string;
  /** GitHub: `owner/repo`. */
  readonly repository?: string | undefined;
  /** GitHub: the workflow file (`release.yml`). */
  readonly workflow?: string | undefined;
  /** GitLab: `group/sub/project`. */
  readonly project?: string | undefined;
  /** The deployment environment the job runs in (GitHub and GitLab). */
  readonly environment?: string | undefined;
  /** GitHub: `refs/heads/main`, `refs/tags/v1.0`; GitLab: the branch or tag name. */
  readonly ref?: string | undefined;
  /** Default: the preset's (GitHub, GitLab.com); required for generic policies. */
  readonly issuer?: string | undefined;
  /** More claim rules, name → required value (generic policies: at least one). */
  readonly claims?: Readonly<Record<string, string>> | undefined;
  /** The `aud` tokens must carry; none: the feed's public base URL. */
  readonly audience?: string | null | undefined;
  /** Default: push-new, push. */
  readonly scopes?: readonly string[] | undefined;
  readonly patterns?: readonly string[] | undefined;
  /** Feed names, or `*` (the default): every feed. */
  readonly feeds?: readonly string[] | string | null | undefined;
  /** Seconds an issued key lives; default: the server's `trustedKeyLifetime`. */
  readonly keyLifetime?: number | undefined;
}

/** The feeds of the server as policies see them (FeedHub). */
export interface PolicyFeeds {
  definitions(): ReadonlyArray<{ readonly id: number; readonly name: string; readonly virtual: boolean; readonly config: { readonly private: boolean } }>;
}

export interface TrustPoliciesOptions {
  /** The server's `trustedKeyLifetime`: the longest key a policy may issue. */
  readonly maxKeyLifetime: number;
  readonly maxPerOwner?: number;
  readonly now?: () => Date;
}

/** A policy as the API, the command line's `--json` and the pages show it: feeds by name (or `*`). */
export function policyJson(p: TrustPolicyRecord, feeds: Pick<FeedNames, 'nameOf'>) {
  return {
    id: p.policyId,
    name: p.name,
    owner: p.owner,
    provider: p.provider,
    issuer: p.issuer,
    claims: p.claims,
    audience: p.audience,
    scopes: p.scopes,
    patterns: p.patterns,
    feeds: keyFeedNames(p.feeds, feeds),
    keyLifetime: p.keyLifetime,
    created: p.created,
    createdBy: p.createdBy,
    disabled: p.disabled,
  };
}

/** A server admin: the admin scope on every feed, no roles limiting it (admin people, configured keys, the CLI). */
const isServerAdmin = (p: Principal) => p.scopes.has('admin') && p.feeds === null && p.roles === undefined;

/**
 * Trusted publishing's policies (docs/TRUSTED-PUBLISHING.md), managed by their owners: which CI system's tokens are
 * traded for keys acting for an owner, and what those keys may do. A principal manages the policies of the owners it
 * acts for (itself, a person's organisations) when it may publish at all; admins manage every policy. A new policy
 * never grants more than its creator may do: its scopes, feeds and id patterns stay within the creator's own (a
 * person's role on each feed, a key's scopes, feeds and patterns). Every change is audited in the server's log.
 */
export class TrustPolicies {
  private readonly now: () => Date;
  private readonly maxPerOwner: number;

  constructor(
    private readonly db: TrustDatabase,
    private readonly owners: OwnerNames,
    private readonly audit: AuditLog,
    private readonly feeds: PolicyFeeds,
    private readonly options: TrustPoliciesOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.maxPerOwner = options.maxPerOwner ?? MAX_POLICIES_PER_OWNER;
  }

  /** The longest key a policy may issue (seconds). */
  get maxKeyLifetime(): number {
    return this.options.maxKeyLifetime;
  }

  /** The server's feeds, by id. */
  feedDefinitions(): ReturnType<PolicyFeeds['definitions']> {
    return this.feeds.definitions();
  }

  /** The server's feeds by name and id. */
  get feedNames(): FeedNames {
    return {
      idOf: (name) => this.feeds.definitions().find((d) => d.name.toLowerCase() === name.toLowerCase())?.id,
      nameOf: (id) => this.feeds.definitions().find((d) => d.id === id)?.name,
    };
  }

  /** The policies the principal may see: of the owners it acts for; every policy for admins. */
  async list(principal: Principal): Promise<TrustPolicyRecord[]> {
    const all = await this.db.listPolicies();
    if (isServerAdmin(principal)) return all;
    this.requirePublisher(principal);
    const owners = ownersActedFor(principal);
    return all.filter((p) => owners.includes(p.owner));
  }

  async show(principal: Principal, policyId: number): Promise<TrustPolicyRecord> {
    return this.managed(principal, policyId, 'see');
  }

  /**
   * `defaultAudience`: what a policy that names no audience gets, the server's public URL as the creator reached it (or
   * its `baseUrl`); with neither, the policy must name one.
   */
  async create(principal: Principal, request: NewPolicyRequest, defaultAudience: string | null = null): Promise<TrustPolicyRecord> {
    const name = policyName(request.name);
    const owner = ownerName(request.owner);
    this.requireOwner(principal, owner, 'create');
    const provider = checkProvider(request.provider);
    const claims = presetClaims(provider, request);
    const missing = missingClaims(provider, claims);
    if (missing.length > 0) {
      throw badRequest(`A ${provider} policy must name ${missing.join(' and ')}: ${howToName(provider)}.`);
    }
    const issuer = checkIssuer(request.issuer ?? defaultIssuer(provider), isServerAdmin(principal));
    const named = request.audience === undefined || request.audience === null || request.audience.trim() === '' ? null : request.audience;
    const audience = named ?? defaultAudience;
    if (audience === null) {
      throw badRequest("Name the policy's audience: the URL given to the NuGet/login action as its audience input, usually the feed's URL (or set the server's baseUrl).");
    }
    checkAudience(audience);
    const scopes = trustScopes(request.scopes);
    let patterns = parsePatterns(request.patterns ?? []);
    const feeds = this.feedIds(request.feeds);
    const keyLifetime = this.lifetime(request.keyLifetime);
    if (!isServerAdmin(principal)) patterns = this.withinRights(principal, scopes, feeds, patterns);

    if (!(await this.owners.isOwnerNameTaken(owner))) throw notFound(`There is no user or organisation named ${owner}.`);
    const existing = (await this.db.listPolicies()).filter((p) => p.owner === owner);
    if (existing.length >= this.maxPerOwner) {
      throw new PawketError(409, `${owner} has ${existing.length} trust policies, the most an owner may have: delete one first.`);
    }
    if (existing.some((p) => p.name.toLowerCase() === name.toLowerCase())) {
      throw new PawketError(409, `${owner} has a trust policy named '${name}' already: choose another name.`);
    }
    const policy = await this.db.createPolicy({
      name,
      owner,
      provider,
      issuer,
      claims,
      audience,
      scopes,
      patterns,
      feeds,
      keyLifetime,
      created: this.now().toISOString(),
      createdBy: principal.name,
      disabled: false,
    });
    await this.audit.record(principal, 'trust.policy.create', String(policy.policyId), this.describe(policy));
    return policy;
  }

  /** Turns a policy off (no token is exchanged under it) or on again. */
  async setDisabled(principal: Principal, policyId: number, disabled: boolean): Promise<TrustPolicyRecord> {
    const policy = await this.managed(principal, policyId, disabled ? 'disable' : 'enable');
    if (policy.disabled !== disabled) {
      await this.db.updatePolicy(policyId, { disabled });
      await this.audit.record(principal, disabled ? 'trust.policy.disable' : 'trust.policy.enable', String(policyId), `${policy.name} of ${policy.owner}`);
    }
    return { ...policy, disabled };
  }

  /** Deletes a policy; keys issued under it live out their (short) lifetime. */
  async delete(principal: Principal, policyId: number): Promise<TrustPolicyRecord> {
    const policy = await this.managed(principal, policyId, 'delete');
    if (!(await this.db.deletePolicy(policyId))) throw notFound(`There is no trust policy ${policyId}.`);
    await this.audit.record(principal, 'trust.policy.delete', String(policyId), this.describe(policy));
    return policy;
  }

  /** One line of what a policy trusts, for the audit log. */
  describe(p: TrustPolicyRecord): string {
    const claims = Object.entries(p.claims).map(([k, v]) => `${k}=${v}`).join(' ');
    const feeds = keyFeedNames(p.feeds, this.feedNames);
    return `${p.name} for ${p.owner}: ${p.provider} ${p.issuer} ${claims}; ${p.scopes.join(', ')} on ${feeds === '*' ? 'every feed' : feeds.join(', ')}`.slice(0, 1000);
  }

  private async managed(principal: Principal, policyId: number, what: string): Promise<TrustPolicyRecord> {
    const policy = await this.db.getPolicy(policyId);
    if (!policy) throw notFound(`There is no trust policy ${policyId}.`);
    this.requireOwner(principal, policy.owner, what, policyId);
    return policy;
  }

  /** Whether the principal acts for the owner and may publish; 403 naming whom it acts for otherwise. */
  private requireOwner(principal: Principal, owner: string, what: string, policyId?: number): void {
    if (isServerAdmin(principal)) return;
    this.requirePublisher(principal);
    const owners = ownersActedFor(principal);
    if (!owners.includes(owner)) {
      const subject = policyId === undefined ? `a trust policy for ${owner}` : `trust policy ${policyId}: it belongs to ${owner}`;
      throw new PawketError(403, `${principal.name} may not ${what} ${subject}; it acts for ${owners.join(', ')} only.`);
    }
  }

  private requirePublisher(principal: Principal): void {
    if (![...principal.scopes].some((s) => s !== 'read')) {
      throw new PawketError(403, `${principal.name} may only read: managing trust policies needs a scope that publishes (push-new, push, stage or unlist).`);
    }
  }

  /** A policy grants at most what its creator may do; the patterns it gets (the creator's when it names none). */
  private withinRights(principal: Principal, scopes: readonly KeyScope[], feeds: readonly number[] | null, patterns: string[]): string[] {
    const problems: string[] = [];
    if (!principal.scopes.has('admin')) {
      const beyond = scopes.filter((s) => !principal.scopes.has(s));
      if (beyond.length > 0) problems.push(`${principal.name} does not have the scope${beyond.length > 1 ? 's' : ''} ${beyond.join(', ')}`);
    }
    if (feeds === null && (principal.feeds !== null || principal.roles !== undefined)) {
      problems.push('every feed (*) is for admins: name the feeds the policy is for');
    }
    if (feeds !== null && principal.feeds !== null) {
      const outside = feeds.filter((id) => !principal.feeds!.includes(id));
      if (outside.length > 0) problems.push(`${principal.name} is not valid on ${this.names(outside)}`);
    }
    if (feeds !== null && principal.roles !== undefined) {
      for (const id of feeds) {
        const d = this.feeds.definitions().find((f) => f.id === id)!;
        const role = roleOn(principal.roles, id, d.config.private);
        const beyond = scopes.filter((s) => !role || !scopesOfRole(role).includes(s));
        if (!role) problems.push(`you have no role on the feed ${d.name}`);
        else if (beyond.length > 0) problems.push(`on the feed ${d.name} you are a ${role}, which does not allow ${beyond.join(', ')}`);
      }
    }
    let within = patterns;
    if (principal.patterns.length > 0 && !principal.scopes.has('admin')) {
      if (within.length === 0) within = [...principal.patterns];
      const wider = within.filter((p) => !principal.patterns.some((mine) => mine.toLowerCase() === p.toLowerCase() || (!p.includes('*') && matchesIdPattern(mine, p))));
      if (wider.length > 0) problems.push(`${principal.name} is limited to ids matching ${principal.patterns.join(', ')}, not ${wider.join(', ')}`);
    }
    if (problems.length > 0) throw new PawketError(403, `This policy would grant more than you may do, so it was not created: ${problems.join('; ')}.`);
    return within;
  }

  private names(ids: readonly number[]): string {
    return ids.map((id) => this.feedNames.nameOf(id) ?? `#${id}`).join(', ');
  }

  /** Feed names (a list, or comma-separated) to ids; `*`, empty or none: every feed (null). Virtual feeds issue no keys. */
  private feedIds(input: NewPolicyRequest['feeds']): number[] | null {
    if (input === null || input === undefined) return null;
    const list = [...new Set((typeof input === 'string' ? [input] : input).flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean))];
    if (list.length === 0 || (list.length === 1 && list[0] === '*')) return null;
    if (list.includes('*')) throw badRequest("A policy is for '*' (every feed) or for feeds named one by one, not both.");
    const ids = list.map((name) => {
      const d = this.feeds.definitions().find((f) => f.name.toLowerCase() === name.toLowerCase());
      if (!d) throw badRequest(`There is no feed '${name.slice(0, 64)}': \`pawket feeds list\` shows the feeds.`);
      if (d.virtual) throw badRequest(`The feed '${d.name}' is virtual: it holds no packages, so nothing is published to it; name its member feeds.`);
      return d.id;
    });
    return [...new Set(ids)].sort((a, b) => a - b);
  }

  private lifetime(seconds: number | undefined): number {
    const max = this.options.maxKeyLifetime;
    if (seconds === undefined) return max;
    if (!Number.isInteger(seconds) || seconds < MIN_KEY_LIFETIME || seconds > max) {
      throw badRequest(`The key lifetime is ${MIN_KEY_LIFETIME} to ${max} seconds (trustedKeyLifetime), not ${String(seconds).slice(0, 20)}.`);
    }
    return seconds;
  }
}

/** The policies of the server a hub serves, audited in the server's log (the default feed's, as keys are). */
export function trustPoliciesOf(hub: FeedHub, options: Partial<TrustPoliciesOptions> = {}): TrustPolicies {
  const { kysely, people, config } = hub.shared;
  return new TrustPolicies(new KyselyTrustDatabase(kysely), people.db, new AuditLog(new KyselyAccessDatabase(kysely, DEFAULT_FEED_ID)), hub, {
    maxKeyLifetime: config.trustedKeyLifetime,
    ...options,
  });
}

/** A policy id as people type it. */
export function policyId(text: string): number {
  if (!/^\d{1,9}$/.test(text.trim())) throw badRequest(`'${text.slice(0, 40)}' is not a trust policy id (a number: \`pawket trust list\` shows them).`);
  return Number(text.trim());
}

function policyName(name: string): string {
  const n = (name ?? '').trim();
  if (n.length === 0 || n.length > 100 || /[\u0000-\u001f\u007f]/.test(n)) throw badRequest('A policy name is 1-100 printable characters (e.g. "widgets release").');
  return n;
}

function checkProvider(provider: string): TrustProvider {
  const p = (provider ?? '').trim().toLowerCase();
  if (!(TRUST_PROVIDERS as readonly string[]).includes(p)) throw badRequest(`'${String(provider).slice(0, 40)}' is not a provider: use ${TRUST_PROVIDERS.join(', ')}.`);
  return p as TrustProvider;
}

function defaultIssuer(provider: TrustProvider): string {
  if (provider === 'github') return GITHUB_ISSUER;
  if (provider === 'gitlab') return GITLAB_ISSUER;
  throw badRequest('A generic policy needs the issuer URL of the CI system (the iss of its tokens, e.g. https://ci.example.com).');
}

function howToName(provider: TrustProvider): string {
  if (provider === 'github') return 'give the repository as owner/repo (--github contoso/widgets)';
  if (provider === 'gitlab') return 'give the project path as group/project (--gitlab contoso/widgets)';
  return 'give at least one claim rule (--claim sub=repo:contoso/widgets)';
}

/** A printable claim value of bounded length. */
function claimValue(what: string, value: string): string {
  const v = value.trim();
  if (v.length === 0 || v.length > MAX_CLAIM_VALUE || /[\u0000-\u001f\u007f]/.test(v)) throw badRequest(`${what} is 1-${MAX_CLAIM_VALUE} printable characters.`);
  return v;
}

const given = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/** The claims a request names: its preset's fields, then its own rules (which may not contradict them). */
function presetClaims(provider: TrustProvider, request: NewPolicyRequest): Record<string, string> {
  const claims: Record<string, string> = {};
  const only = (field: keyof NewPolicyRequest, providers: readonly TrustProvider[]) => {
    if (given(request[field] as string | undefined) && !providers.includes(provider)) {
      throw badRequest(`'${field}' is for ${providers.join(' and ')} policies, not ${provider} ones.`);
    }
  };
  only('repository', ['github']);
  only('workflow', ['github']);
  only('project', ['gitlab']);
  only('environment', ['github', 'gitlab']);
  only('ref', ['github', 'gitlab']);
  if (provider === 'github' && given(request.repository)) {
    const m = GITHUB_REPOSITORY.exec(request.repository.trim());
    if (!m) throw badRequest(`'${request.repository.slice(0, 120)}' is not a GitHub repository: give owner/repo (contoso/widgets).`);
    claims.repository = `${m[1]}/${m[2]}`;
    claims.repository_owner = m[1]!;
  }
  if (provider === 'github' && given(request.workflow)) {
    const file = request.workflow.trim().replace(/^\.github\/workflows\//, '');
    if (!WORKFLOW_FILE.test(file)) throw badRequest(`'${request.workflow.slice(0, 120)}' is not a workflow file: give its name in .github/workflows (release.yml).`);
    claims[WORKFLOW] = file;
  }
  if (provider === 'gitlab' && given(request.project)) {
    const path = request.project.trim().replace(/\/+$/, '');
    if (!GITLAB_PROJECT.test(path)) throw badRequest(`'${request.project.slice(0, 120)}' is not a GitLab project path: give group/project or group/subgroup/project.`);
    claims.project_path = path;
    claims.namespace_path = path.slice(0, path.lastIndexOf('/'));
  }
  if (given(request.environment)) claims.environment = claimValue('The environment', request.environment);
  if (given(request.ref)) {
    const ref = claimValue('The ref', request.ref);
    if (provider === 'github' && !ref.startsWith('refs/')) throw badRequest(`GitHub's ref claim is a full ref: refs/heads/${ref.slice(0, 60)} or refs/tags/${ref.slice(0, 60)}.`);
    claims.ref = ref;
  }
  const extra = Object.entries(request.claims ?? {});
  if (extra.length > MAX_CLAIMS) throw badRequest(`A policy has at most ${MAX_CLAIMS} claim rules.`);
  for (const [name, value] of extra) {
    if (!CLAIM_NAME.test(name)) throw badRequest(`'${name.slice(0, 64)}' is not a claim name: letters, digits, '_', '.', ':' and '-'.`);
    if (CHECKED_CLAIMS.has(name)) throw badRequest(`The claim ${name} is checked by the exchange itself${name === 'aud' ? ' (set the audience instead)' : name === 'iss' ? ' (set the issuer instead)' : ''}: it cannot be a rule.`);
    if (typeof value !== 'string') throw badRequest(`The claim rule ${name} needs a text value.`);
    const v = claimValue(`The value of claim ${name}`, value);
    if (claims[name] !== undefined && claims[name]!.toLowerCase() !== v.toLowerCase()) {
      throw badRequest(`The claim rule ${name}=${v.slice(0, 100)} contradicts the preset's ${name}=${claims[name]}.`);
    }
    claims[name] ??= v;
  }
  return claims;
}

/**
 * Reads `name=value` claim rules (the command line's `--claim`, the form's lines).
 * @example parseClaimRules(['sub=repo:contoso/widgets']) // { sub: 'repo:contoso/widgets' }
 */
export function parseClaimRules(rules: readonly string[]): Record<string, string> {
  const claims: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const rule of rules.map((r) => r.trim()).filter(Boolean)) {
    const at = rule.indexOf('=');
    if (at <= 0) throw badRequest(`'${rule.slice(0, 100)}' is not a claim rule: write name=value (environment=production).`);
    const name = rule.slice(0, at).trim();
    if (claims[name] !== undefined) throw badRequest(`The claim ${name.slice(0, 64)} is named twice.`);
    claims[name] = rule.slice(at + 1).trim();
  }
  return claims;
}

/**
 * An issuer URL as tokens carry it in `iss` (kept as given: the exchange compares it exactly). https; http and
 * private or loopback addresses only for admins, since the server fetches the issuer's keys from it.
 */
function checkIssuer(text: string, admin: boolean): string {
  const issuer = text.trim();
  const url = URL.canParse(issuer) ? new URL(issuer) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || issuer.length > MAX_URL || url.username || url.password || url.search || url.hash) {
    throw badRequest(`'${issuer.slice(0, 120)}' is not an issuer URL: give the iss of the CI system's tokens, such as ${GITHUB_ISSUER}.`);
  }
  if (admin) return issuer;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol !== 'https:') throw new PawketError(403, `The issuer ${issuer.slice(0, 120)} is not https: only admins may trust an http issuer.`);
  if (isPrivateAddress(host) || host === 'localhost' || host.endsWith('.localhost')) {
    throw new PawketError(403, `The issuer ${issuer.slice(0, 120)} is a private or loopback address: only admins may trust one.`);
  }
  return issuer;
}

function checkAudience(text: string): string {
  const audience = text.trim();
  const url = URL.canParse(audience) ? new URL(audience) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || audience.length > MAX_URL) {
    throw badRequest(`'${audience.slice(0, 120)}' is not an audience: give a URL (the NuGet/login action's audience input), or none for the feed's own URL.`);
  }
  return audience;
}

function trustScopes(input: readonly string[] | undefined): KeyScope[] {
  const list = [...new Set((input ?? []).flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean))];
  if (list.length === 0) return [...DEFAULT_TRUST_SCOPES];
  for (const s of list) {
    if (!(TRUST_SCOPES as readonly string[]).includes(s)) throw badRequest(`'${s.slice(0, 40)}' is not a scope of a trust policy: use ${TRUST_SCOPES.join(', ')}.`);
  }
  return list as KeyScope[];
}
