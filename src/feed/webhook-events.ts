import type { Actor } from './auth.js';

/** Events a feed announces to its webhooks now. */
export const PACKAGE_EVENTS = ['package.pushed', 'package.unlisted', 'package.relisted', 'package.deleted', 'package.deprecated', 'package.staged'] as const;

/** Events of package staging about groups and expiry (docs/STAGING.md). */
export const STAGING_EVENTS = ['group.promoted', 'staging.expiring', 'staging.expired'] as const;

/** Every event a webhook may subscribe to (`*` subscribes to all, those to come included). */
export const WEBHOOK_EVENTS: readonly string[] = [...PACKAGE_EVENTS, ...STAGING_EVENTS];

/** Sent by the "test" action to one webhook, whatever it subscribes to. */
export const PING_EVENT = 'ping';

export type PackageEventName = (typeof PACKAGE_EVENTS)[number];

/** What an event says about a package: its id and version(s), and event-specific fields. */
export interface PackageEventBody {
  readonly id: string;
  readonly version?: string;
  readonly [field: string]: unknown;
}

/** A change that committed, as the feed's use cases report it. */
export interface PackageEvent {
  readonly event: PackageEventName;
  readonly package: PackageEventBody;
}

/** What a staging event says about its group (group.promoted; the expiry events of grouped artifacts). */
export interface GroupEventBody {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
}

/**
 * A staging group promoted: every package of it became visible at once. Each package also announces itself with a
 * `package.pushed` event carrying `promoted: true`, so receivers that act on new packages need not know of groups.
 */
export interface GroupPromotedEvent {
  readonly event: 'group.promoted';
  readonly group: GroupEventBody;
  readonly packages: readonly { readonly id: string; readonly version: string }[];
}

/** What the expiry events say of a staged artifact. */
export interface StagedArtifactEventBody extends PackageEventBody {
  readonly id: string;
  /** The full version, as staged. */
  readonly version: string;
  readonly kind: 'package' | 'symbols';
  readonly owner: string;
  readonly expires: string;
  /** The group's id, or null when ungrouped. */
  readonly group: string | null;
}

/**
 * A staged artifact about to expire (`staging.expiring`, once, within `stagingExpiryWarningHours` of its expiry), or
 * removed by the expiry sweep (`staging.expired`). Announced by the server, not by a caller: the actor is the sweep.
 */
export interface StagingExpiryEvent {
  readonly event: 'staging.expiring' | 'staging.expired';
  readonly package: StagedArtifactEventBody;
}

/** Everything a feed announces. */
export type FeedEvent = PackageEvent | StagingExpiryEvent | GroupPromotedEvent;

/**
 * Tells the feed's webhooks of a change that committed. Implementations never throw: a failure to queue is reported to
 * the server's log, and the change (a push) still succeeds.
 */
export interface FeedNotifier {
  notify(actor: Actor, event: FeedEvent): Promise<void>;
}

/** For feeds without webhooks wired (tools that compose use cases themselves). */
export const SILENT_NOTIFIER: FeedNotifier = { notify: async () => {} };

/** The JSON body of a delivery (docs/WEBHOOKS.md). */
export interface WebhookBody {
  /** The delivery id (also in `x-pawket-delivery`); a redelivery keeps it, so receivers can skip what they saw. */
  readonly id: string;
  readonly event: string;
  readonly feed: string;
  readonly timestamp: string;
  readonly package: PackageEventBody | null;
  /** Group events: the group, and the packages it held. */
  readonly group?: GroupEventBody;
  readonly packages?: readonly { readonly id: string; readonly version: string }[];
  readonly actor: { readonly name: string; readonly owner: string | null } | null;
}
