import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import type { Feed } from '../feed/feed.js';
import type { FeedHub } from '../feed/hub.js';
import { compositionStamp } from '../feed/virtual/members.js';

/** `/f/{name}` and what follows it; a name is a path segment (feed names never need escaping). */
const FEED_PATH = /^\/f\/([^/?#]*)(.*)$/s;

/** How long an app of a feed whose definition changed keeps running for requests already in it. */
const RETIRE_AFTER_MS = 60_000;

/** A request routed to a feed: the path prefix its documents' links carry. */
export interface FeedRoutedRequest extends IncomingMessage {
  pawketFeedPath?: string;
}

/** The `/f/{name}` prefix a request came through (`''` for the default feed's unprefixed URLs). */
export function feedPathOf(req: IncomingMessage): string {
  return (req as FeedRoutedRequest).pawketFeedPath ?? '';
}

/**
 * Hands `/f/{name}/...` requests to that feed's app, built when first asked for (one app per feed: its routes, response
 * cache and search index), with the prefix stripped and remembered for the links in its documents. The feed is
 * found in memory; an unknown name is a 404 without touching the database.
 */
export class FeedRouter {
  private readonly apps = new Map<number, Promise<FastifyInstance>>();
  private defaultHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  private defaultApp: FastifyInstance | undefined;
  private readonly retiring = new Set<NodeJS.Timeout>();

  constructor(
    private readonly hub: FeedHub,
    private readonly build: (feed: Feed) => Promise<FastifyInstance>,
  ) {
    hub.onDefinitionsChanged(() => this.retireChanged());
  }

  /** The default feed's handler (the root app's), for `/f/default/...`. */
  setDefaultHandler(handler: (req: IncomingMessage, res: ServerResponse) => void): void {
    this.defaultHandler = handler;
  }

  /** Routes a `/f/` request (true), or leaves the request to the default feed (false). */
  route(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    if (!url.startsWith('/f/')) return false;
    const [, name = '', rest = ''] = FEED_PATH.exec(url) ?? [];
    const definition = this.hub.definition(name);
    if (!definition) {
      const shown = name.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64);
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: `There is no feed '${shown}' on this server.` }));
      return true;
    }
    const routed = req as FeedRoutedRequest;
    routed.pawketFeedPath = `/f/${name}`;
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    if (definition.id === DEFAULT_FEED_ID && this.defaultHandler) {
      this.defaultHandler(req, res);
      return true;
    }
    this.appOf(definition.id).then(
      (app) => app.pawketHandle(req, res),
      () => {
        if (res.headersSent) return res.destroy();
        res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5' });
        res.end(JSON.stringify({ error: `The feed '${definition.name}' could not be opened; try again shortly.` }));
      },
    );
    return true;
  }

  /**
   * The app of a feed, built if not yet (the default feed's is the root app): a virtual feed searches and counts
   * downloads through its members' apps.
   */
  app(id: number): Promise<FastifyInstance> {
    if (id === DEFAULT_FEED_ID && this.defaultApp) return Promise.resolve(this.defaultApp);
    return this.appOf(id);
  }

  /** The root app, which serves the default feed. */
  setDefaultApp(app: FastifyInstance): void {
    this.defaultApp = app;
  }

  private appOf(id: number): Promise<FastifyInstance> {
    let app = this.apps.get(id);
    if (!app) {
      app = this.openApp(id);
      this.apps.set(id, app);
      app.catch(() => this.apps.delete(id));
    }
    return app;
  }

  private async openApp(id: number): Promise<FastifyInstance> {
    const definition = this.hub.definitionById(id);
    const feed = definition ? await this.hub.feed(definition.name) : null;
    if (!feed) throw new Error(`feed ${id} is gone`);
    const app = await this.build(feed);
    await app.ready();
    return app;
  }

  /** Apps of feeds whose definition (or, for a virtual feed, a member's) changed or went away are built again on their next request. */
  private retireChanged(): void {
    for (const [id, app] of this.apps) {
      void app.then(
        (built) => {
          const definition = this.hub.definitionById(id);
          if (definition && compositionStamp(this.hub, definition) === built.pawketDefinition) return;
          if (this.apps.get(id) === app) this.apps.delete(id);
          const timer = setTimeout(() => {
            this.retiring.delete(timer);
            void built.close();
          }, RETIRE_AFTER_MS);
          timer.unref();
          this.retiring.add(timer);
        },
        () => {},
      );
    }
  }

  async close(): Promise<void> {
    for (const timer of this.retiring) clearTimeout(timer);
    const apps = [...this.apps.values()];
    this.apps.clear();
    await Promise.all(apps.map((a) => a.then((app) => app.close(), () => {})));
  }
}
