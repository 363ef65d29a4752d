import type { FeedEvents } from '../events.js';
import type { FeedDefinition } from '../feed-definitions.js';
import type { Feed } from '../feed.js';
import type { FeedHub } from '../hub.js';

/**
 * The feeds whose content a virtual feed shows, in member order. The feeds commands only take members that hold
 * packages; a virtual member found anyway stands for its own members (the ordered union of ordered unions is the
 * flattened list, first one wins). Each feed counts once, a cycle is cut, and a member deleted meanwhile is left out.
 */
export function memberDefinitions(hub: Pick<FeedHub, 'definitionById'>, definition: FeedDefinition): FeedDefinition[] {
  const out: FeedDefinition[] = [];
  const seen = new Set<number>([definition.id]);
  const visit = (ids: readonly number[]) => {
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      const member = hub.definitionById(id);
      if (!member) continue;
      if (member.members) visit(member.members);
      else out.push(member);
    }
  };
  visit(definition.members ?? []);
  return out;
}

/**
 * What a feed's app is built from, to tell when it must be built again: its definition and, for a virtual feed, its
 * members' (a member given other upstreams changes what the virtual feed serves).
 */
export function compositionStamp(hub: Pick<FeedHub, 'definitionById'>, definition: FeedDefinition): string {
  return JSON.stringify(definition.virtual ? [definition, ...memberDefinitions(hub, definition)] : definition);
}

/**
 * The member feeds of one virtual feed, resolved from the hub when first needed and again after feed definitions
 * change (a member may be composed again, with other settings). A member's changes, whether from this process (pushes,
 * upstream refreshes, which only the member's events carry) or from the change feed, are passed on to the virtual
 * feed's events, so that its caches drop the id as the member's do.
 */
export class VirtualMembers {
  private resolving: Promise<readonly Feed[]> | undefined;
  private latest: readonly Feed[] = [];
  private readonly forwarded = new Map<Feed, () => void>();
  private readonly resetListeners: Array<() => void> = [];
  private readonly stopWatching: () => void;

  constructor(
    private readonly hub: FeedHub,
    readonly definition: FeedDefinition,
    private readonly events: FeedEvents,
  ) {
    this.stopWatching = hub.onDefinitionsChanged(() => {
      this.resolving = undefined;
      for (const listener of this.resetListeners) listener();
    });
  }

  /** The member feeds, in order (virtual members flattened). */
  feeds(): Promise<readonly Feed[]> {
    if (!this.resolving) {
      const resolving = this.resolve();
      this.resolving = resolving;
      resolving.catch(() => {
        if (this.resolving === resolving) this.resolving = undefined;
      });
    }
    return this.resolving;
  }

  /** The members as last resolved, without waiting (empty before the first {@link feeds}). */
  get current(): readonly Feed[] {
    return this.latest;
  }

  /** The names of the direct members, in order, as a message shows them. */
  names(): string[] {
    return (this.definition.members ?? []).flatMap((id) => this.hub.definitionById(id)?.name ?? []);
  }

  /** Called when the members may have changed: whatever was decided per member (which member serves an id) is stale. */
  onReset(listener: () => void): void {
    this.resetListeners.push(listener);
  }

  stop(): void {
    this.stopWatching();
    for (const stop of this.forwarded.values()) stop();
    this.forwarded.clear();
  }

  private async resolve(): Promise<readonly Feed[]> {
    const opened = await Promise.all(memberDefinitions(this.hub, this.definition).map((d) => this.hub.feed(d.name)));
    const feeds = opened.filter((f): f is Feed => f !== null);
    // A member composed again leaves its old composition serving the requests already in it for a while: what those
    // change is still passed on (the old composition, with our listener, goes away with it).
    for (const feed of this.forwarded.keys()) if (!feeds.includes(feed)) this.forwarded.delete(feed);
    for (const feed of feeds) {
      if (!this.forwarded.has(feed)) this.forwarded.set(feed, feed.events.onPackageChanged((lowerId) => this.events.packageChanged(lowerId)));
    }
    this.latest = feeds;
    return feeds;
  }
}
