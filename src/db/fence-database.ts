/**
 * What read fences need of the database (feed/read-fence.ts): which nodes are alive, and which of them acknowledged a
 * fence. Fences themselves travel as change rows, so every node's change watcher sees them.
 */
export interface FenceDatabase {
  /** Records that this node is alive now. */
  heartbeat(nodeId: string, at: string): Promise<void>;
  /** Adds a change row carrying `marker`, seen by every node's change watcher. */
  announce(marker: string): Promise<void>;
  acknowledge(fence: string, nodeId: string, at: string): Promise<void>;
  /** Nodes seen alive since `since` that have not acknowledged the fence. */
  unacknowledged(fence: string, since: string): Promise<string[]>;
  /** Forgets a node that stops (a fence need not wait for it). */
  forget(nodeId: string): Promise<void>;
  /** Forgets acknowledgements and nodes older than `before`. */
  prune(before: string): Promise<void>;
}
