import { EventEmitter } from 'node:events';

/** Tells caches that an id's set of versions or their state changed. */
export class FeedEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  packageChanged(lowerId: string): void {
    this.emitter.emit('changed', lowerId);
  }

  /** Returns what stops the listening (for listeners that outlive their source: a virtual feed's on its members). */
  onPackageChanged(listener: (lowerId: string) => void): () => void {
    this.emitter.on('changed', listener);
    return () => this.emitter.off('changed', listener);
  }
}
