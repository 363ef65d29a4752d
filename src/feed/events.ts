import { EventEmitter } from 'node:events';

/** Tells caches that an id's set of versions or their state changed. */
export class FeedEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  /** `remote`: the change was made by another node or process (the change log told us), not through this feed here. */
  packageChanged(lowerId: string, remote = false): void {
    this.emitter.emit('changed', lowerId, remote);
  }

  /** Returns what stops the listening (for listeners that outlive their source: a virtual feed's on its members). */
  onPackageChanged(listener: (lowerId: string, remote: boolean) => void): () => void {
    this.emitter.on('changed', listener);
    return () => this.emitter.off('changed', listener);
  }
}
