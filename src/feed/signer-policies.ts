import { SIGNERS_CHANGE_MARKER, type SignerPolicyDatabase, type SignerPolicyRecord } from '../db/signer-policy-database.js';
import { PawketError, badRequest, notFound } from '../errors.js';
import type { SignaturePolicies, SignaturePolicy } from '../signing/signature-info.js';
import { MAX_POLICIES_PER_FEED, SIGNATURE_MODES, asSignaturePolicy, checkSignerPolicy, policyCovering, type SignerPolicyRequest } from '../signing/signer-policy.js';
import type { AuditLog } from './audit.js';
import type { Actor } from './auth.js';
import type { FeedEvents } from './events.js';

export interface SignerPolicySettings {
  readonly feedName: string;
  /** The feed's `signatures` setting: what decides for ids no policy covers. */
  readonly feedSetting: unknown;
  readonly maxPerFeed?: number;
  /** A virtual feed holds no packages: policies belong on its members. */
  readonly virtual?: boolean;
  readonly onError: (err: unknown) => void;
  readonly now?: () => Date;
}

/**
 * The policy for ids no stored policy covers, from the feed's `signatures` setting: a mode (`verify`), or an object with
 * `mode` and `fingerprints`. Anything else (the setting absent) accepts, as a feed did before signatures were checked.
 */
export function feedDefaultPolicy(setting: unknown): SignaturePolicy {
  const s = typeof setting === 'string' ? { mode: setting } : setting && typeof setting === 'object' ? (setting as { mode?: unknown; fingerprints?: unknown }) : {};
  const mode = (SIGNATURE_MODES as readonly unknown[]).includes(s.mode) ? (s.mode as SignaturePolicy['mode']) : 'accept';
  const fingerprints = Array.isArray((s as { fingerprints?: unknown }).fingerprints) ? ((s as { fingerprints: unknown[] }).fingerprints.filter((f) => typeof f === 'string') as string[]) : [];
  // The setting's own schema checks its fingerprints; here a bad one is left out rather than failing the feed.
  const valid = fingerprints.map((f) => f.replace(/[\s:]/g, '').toUpperCase()).filter((f) => /^[0-9A-F]{64}$/.test(f));
  return { name: 'feed default', mode, fingerprints: valid };
}

/**
 * A feed's trusted-signer policies (docs/SIGNING.md): managed by the feed's admins, read on every push, stage, import
 * and mirror through `policyFor`. The list is kept in memory and dropped when any node changes it (a `#signers`
 * change row, like owners' `#access`). Changes are audited.
 */
export class SignerPolicies implements SignaturePolicies {
  private cached: Promise<SignerPolicyRecord[]> | undefined;
  /** Bumped by every change: a load that started before one is not kept. */
  private generation = 0;
  private readonly now: () => Date;
  private readonly fallback: SignaturePolicy;

  constructor(
    private readonly db: SignerPolicyDatabase,
    private readonly audit: AuditLog,
    private readonly events: FeedEvents,
    private readonly settings: SignerPolicySettings,
  ) {
    this.now = settings.now ?? (() => new Date());
    this.fallback = feedDefaultPolicy(settings.feedSetting);
    events.onPackageChanged((lowerId) => {
      if (lowerId === SIGNERS_CHANGE_MARKER) this.drop();
    });
  }

  /** The policy that decides for an id of `owner` (null: nobody owns it yet), else the feed's setting. */
  async policyFor(lowerId: string, owner: string | null): Promise<SignaturePolicy> {
    const found = policyCovering(await this.load(), lowerId, owner);
    return found ? asSignaturePolicy(found) : this.fallback;
  }

  /** The feed's default, for pages that explain what applies where no policy does. */
  get feedDefault(): SignaturePolicy {
    return this.fallback;
  }

  list(): Promise<SignerPolicyRecord[]> {
    return this.load();
  }

  async add(actor: Actor, request: SignerPolicyRequest): Promise<SignerPolicyRecord> {
    if (this.settings.virtual) throw badRequest(`The feed ${this.settings.feedName} is virtual: it takes no packages; add signer policies on its member feeds.`);
    const p = checkSignerPolicy(request);
    const max = this.settings.maxPerFeed ?? MAX_POLICIES_PER_FEED;
    if ((await this.db.countPolicies()) >= max) {
      throw new PawketError(409, `The feed ${this.settings.feedName} has ${max} signer policies, the most allowed: remove one first.`);
    }
    const created = await this.db.createPolicy({ ...p, created: this.now().toISOString(), createdBy: actor.name });
    if (!created) throw new PawketError(409, `name: the feed ${this.settings.feedName} already has a signer policy named ${p.name}: remove it first, or pick another name.`);
    this.changed();
    await this.audit.record(actor, 'signers.add', `signer policy ${created.name}`, describePolicy(created)).catch(this.settings.onError);
    return created;
  }

  async remove(actor: Actor, name: string): Promise<SignerPolicyRecord> {
    const removed = await this.db.deletePolicy(name.trim().slice(0, 64));
    if (!removed) throw notFound(`The feed ${this.settings.feedName} has no signer policy named ${name.slice(0, 64)}.`);
    this.changed();
    await this.audit.record(actor, 'signers.remove', `signer policy ${removed.name}`, describePolicy(removed)).catch(this.settings.onError);
    return removed;
  }

  private load(): Promise<SignerPolicyRecord[]> {
    if (this.cached) return this.cached;
    const generation = this.generation;
    const loading = this.db.listPolicies();
    this.cached = loading;
    loading.then(
      () => {
        // Changed while loading: the next caller reads again.
        if (generation !== this.generation && this.cached === loading) this.cached = undefined;
      },
      () => {
        if (this.cached === loading) this.cached = undefined;
      },
    );
    return loading;
  }

  private drop(): void {
    this.generation++;
    this.cached = undefined;
  }

  /** A change here: drop now (the change row reaches this node's cache too, and the other nodes'). */
  private changed(): void {
    this.drop();
    this.events.packageChanged(SIGNERS_CHANGE_MARKER);
  }
}

/** One line for the audit log and the command line: what a policy covers and asks. */
export function describePolicy(p: Pick<SignerPolicyRecord, 'pattern' | 'owner' | 'mode' | 'fingerprints'>): string {
  const covers = [p.pattern !== null ? `ids ${p.pattern}` : null, p.owner !== null ? `owner ${p.owner}` : null].filter(Boolean).join(' of ');
  const certs = p.fingerprints.length ? `, ${p.fingerprints.length} certificate${p.fingerprints.length === 1 ? '' : 's'}` : '';
  return `${covers}: ${p.mode}${certs}`;
}
