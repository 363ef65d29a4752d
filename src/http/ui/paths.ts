import type { FastifyRequest } from 'fastify';
import { DEFAULT_FEED_ID } from '../../db/feed-migrations.js';
import type { FeedScope } from '../../feed/feed-scope.js';
import { feedPathOf } from '../feed-router.js';
import { routes } from '../routes.js';
import { ASSET_VERSION } from './assets.js';
import type { Viewer } from '../session.js';

/**
 * Where a page's links go. Each feed's pages live under its path prefix (`/f/{name}` as the request came in; `''` at
 * the default feed's unprefixed URLs), and so does every link in them, assets included (each feed's app serves them:
 * a private feed's pages then never send a browser to another feed's URLs). Made once per request and handed to the
 * page renderers (pages.ts).
 */
export class UiPaths {
  constructor(
    /** `''` or `/f/{name}`. */
    readonly prefix: string,
    /** The feed's name when it is not the default feed (the header shows it), else null. */
    readonly feedName: string | null,
    /** Who is signed in (the header shows them and their pages), or null. */
    readonly viewer: Viewer | null = null,
  ) {}

  static of(request: FastifyRequest, scope: FeedScope): UiPaths {
    return new UiPaths(feedPathOf(request.raw), scope.id === DEFAULT_FEED_ID ? null : scope.name, request.pawketViewer ?? null);
  }

  /** The sign-in page, coming back to `returnTo` (a path on this server) afterwards. */
  signIn(returnTo?: string): string {
    return `/signin${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`;
  }

  /** A signed-in person's keys (server-wide, as keys are). */
  get myKeys(): string {
    return '/account/keys';
  }

  /** Trusted publishing: the policies of the owners the signed-in person acts for (server-wide, as policies are). */
  get trustPolicies(): string {
    return '/account/trust';
  }

  /** The packages the signed-in person owns on this feed. */
  get myPackages(): string {
    return `${this.prefix}/account/packages`;
  }

  /** The staged packages the signed-in person (or their organisations) may promote on this feed. */
  get myStaging(): string {
    return `${this.prefix}/account/staging`;
  }

  /** Organisations (server-wide); one organisation's page with `name`. */
  orgs(name?: string): string {
    return name === undefined ? '/orgs' : `/orgs/${encodeURIComponent(name)}`;
  }

  /** The admin pages (server-wide): users, feeds, prefix reservations, the audit log. */
  admin(page: '' | 'users' | 'feeds' | 'prefixes' | 'audit' = ''): string {
    return page ? `/admin/${page}` : '/admin';
  }

  /** Where the sign-out form posts (server-wide: it ends the session on every feed's pages). */
  get signOut(): string {
    return '/signout';
  }

  /** The search page; `query` is an encoded query string without `?`. */
  home(query = ''): string {
    return `${this.prefix}/${query ? `?${query}` : ''}`;
  }

  package(id: string, version?: string): string {
    return `${this.prefix}/packages/${encodeURIComponent(id)}${version ? `/${encodeURIComponent(version)}` : ''}`;
  }

  icon(id: string, version: string): string {
    return `${this.package(id, version)}/icon`;
  }

  /** The folder of a package version's files as the file route serves them (readme images), ending with `/`. */
  files(id: string, version: string): string {
    return `${this.package(id, version)}/files/`;
  }

  /** A package file's download, from the flat container. */
  nupkg(lowerId: string, lowerVersion: string): string {
    return `${this.prefix}${routes.flatContainer}${lowerId}/${lowerVersion}/${lowerId}.${lowerVersion}.nupkg`;
  }

  get upload(): string {
    return `${this.prefix}/upload`;
  }

  /** The "Connect" page. */
  get connect(): string {
    return `${this.prefix}/feed`;
  }

  get serviceIndex(): string {
    return `${this.prefix}${routes.serviceIndex}`;
  }

  /** The stylesheet and script carry their content hash, so browsers may keep them for a year. */
  asset(name: 'app.css' | 'app.js' | 'package.svg'): string {
    return `${this.prefix}/ui/${name}${name === 'package.svg' ? '' : `?v=${ASSET_VERSION}`}`;
  }

  /** The name clients' configurations give this feed's source: `Pawket`, or `Pawket-{feed}`. */
  get sourceName(): string {
    return this.feedName === null ? 'Pawket' : `Pawket-${this.feedName}`;
  }
}
