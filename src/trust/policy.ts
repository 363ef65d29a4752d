import type { TrustPolicyRecord, TrustProvider } from '../db/trust-database.js';

/** GitHub Actions' token issuer. */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
/** GitLab.com's; self-managed GitLab instances issue tokens as their own URL. */
export const GITLAB_ISSUER = 'https://gitlab.com';

/** The claims of a verified token (strings, numbers and booleans are compared as text). */
export type TokenClaims = Readonly<Record<string, unknown>>;

/** What a preset knows about its CI system's claims. */
interface Preset {
  /** Claims compared without regard to case (names on GitHub are case-insensitive). */
  readonly caseInsensitive: ReadonlySet<string>;
  /**
   * Numeric ids bound at the first exchange when the policy does not name them, each after the name claim it stands
   * for: a repository deleted and created again under the same name has another id and is not trusted.
   */
  readonly boundIds: readonly (readonly [idClaim: string, nameClaim: string])[];
  /** Claims a policy must name, so that it cannot trust every project of the issuer by mistake. */
  readonly required: readonly string[];
}

const PRESETS: Record<TrustProvider, Preset> = {
  github: {
    caseInsensitive: new Set(['repository', 'repository_owner']),
    boundIds: [
      ['repository_id', 'repository'],
      ['repository_owner_id', 'repository_owner'],
    ],
    required: ['repository', 'repository_owner'],
  },
  gitlab: {
    caseInsensitive: new Set(['project_path', 'namespace_path']),
    boundIds: [
      ['project_id', 'project_path'],
      ['namespace_id', 'namespace_path'],
    ],
    required: ['project_path', 'namespace_path'],
  },
  generic: { caseInsensitive: new Set(), boundIds: [], required: [] },
};

/** Pseudo-claim of GitHub policies: the workflow file (`release.yml`), matched in `job_workflow_ref` or `workflow_ref`. */
export const WORKFLOW = 'workflow';

/** The claims a policy must name for its provider (generic policies: at least one). */
export function missingClaims(provider: TrustProvider, claims: Readonly<Record<string, string>>): string[] {
  const missing = PRESETS[provider].required.filter((c) => !claims[c]);
  if (provider === 'generic' && Object.keys(claims).length === 0) missing.push('(any claim)');
  return missing;
}

export type PolicyMatch =
  | { readonly matches: true; /** Ids to bind into the policy now (its first exchange). */ readonly bind: Readonly<Record<string, string>> | null }
  | { readonly matches: false; readonly reason: string };

/** Whether a verified token's claims satisfy a policy, and why not. */
export function matchPolicy(policy: Pick<TrustPolicyRecord, 'provider' | 'claims'>, claims: TokenClaims): PolicyMatch {
  const preset = PRESETS[policy.provider];
  for (const [name, wanted] of Object.entries(policy.claims)) {
    if (name === WORKFLOW && policy.provider === 'github') {
      if (!workflowMatches(wanted, claims)) return { matches: false, reason: `the workflow is not ${wanted}` };
      continue;
    }
    const actual = text(claims[name]);
    const same = actual !== null && (preset.caseInsensitive.has(name) ? actual.toLowerCase() === wanted.toLowerCase() : actual === wanted);
    if (!same) return { matches: false, reason: `claim ${name} is ${actual === null ? 'missing' : `'${actual.slice(0, 200)}'`}, not '${wanted}'` };
  }
  let bind: Record<string, string> | null = null;
  for (const [idClaim] of preset.boundIds) {
    if (policy.claims[idClaim] !== undefined) continue;
    const id = text(claims[idClaim]);
    if (id === null) return { matches: false, reason: `claim ${idClaim} is missing` };
    (bind ??= { ...policy.claims })[idClaim] = id;
  }
  return { matches: true, bind };
}

/** `owner/repo/.github/workflows/release.yml@refs/heads/main` names workflow file `release.yml`. */
function workflowMatches(wanted: string, claims: TokenClaims): boolean {
  const file = wanted.toLowerCase().replace(/^\.github\/workflows\//, '');
  for (const claim of ['job_workflow_ref', 'workflow_ref']) {
    const ref = text(claims[claim]);
    if (!ref) continue;
    const path = ref.split('@')[0]!.toLowerCase();
    if (path.endsWith(`/.github/workflows/${file}`)) return true;
  }
  return false;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** What the audit log records of a token: who ran what (issuer, repository or project, workflow, run). */
export function describeToken(claims: TokenClaims): string {
  const parts = [
    text(claims.iss),
    text(claims.repository) ?? text(claims.project_path),
    text(claims.job_workflow_ref) ?? text(claims.workflow_ref) ?? text(claims.ci_config_ref_uri),
    text(claims.run_id) ? `run ${text(claims.run_id)}` : text(claims.pipeline_id) ? `pipeline ${text(claims.pipeline_id)}` : null,
    text(claims.sub),
  ];
  return parts.filter((p): p is string => p !== null).join(' ').slice(0, 1000);
}
