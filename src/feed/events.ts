import { EventEmitter } from 'node:events';

/**
 * Which versions of an id changed (lower-case normalized), when the writer knows: caches of an id with thousands of
 * versions update those alone. Absent means "anything may have changed" (another node's change, a bulk operation).
 */
export type ChangedVersions = readonly string[] | undefined;

/** Tells caches that an id's set of versions or their state changed. */
export class FeedEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  /**
   * `remote`: the change was made by another node or process (the change log told us), not through this feed here.
   * `versions`: the versions it changed, when the writer knows them.
   */
  packageChanged(lowerId: string, remote = false, versions?: ChangedVersions): void {
    this.emitter.emit('changed', lowerId, remote, versions);
  }

  /** Returns what stops the listening (for listeners that outlive their source: a virtual feed's on its members). */
  onPackageChanged(listener: (lowerId: string, remote: boolean, versions: ChangedVersions) => void): () => void {
    this.emitter.on('changed', listener);
    return () => this.emitter.off('changed', listener);
  }
}
