import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { badRequest } from '../errors.js';
import type { FeedDefinition } from '../feed/feed-definitions.js';
import { REVALIDATE, IMMUTABLE } from '../http/response-cache.js';
import { withHub } from './open-feed.js';

/** What the generated configuration is made of (docs/DEPLOYMENT.md, nginx in front). */
export interface NginxConfigOptions {
  /** nginx's `listen` argument: a port, or address:port. */
  readonly listen: string;
  /** `server_name`; `_` for any. */
  readonly serverName: string;
  /** The Pawket nodes (host:port) requests that are not static files go to. */
  readonly nodes: readonly string[];
  /** `{dataDir}/blobs`: materialized documents of public feeds are under `static/`, of private feeds under `static-private/`. */
  readonly blobRoot: string;
  /** Where nginx logs the package downloads it answers itself, for Pawket to count (`nginxDownloadLog`). */
  readonly downloadLog: string;
  /** nginx's cache of the answers to "may this request read this private feed?". */
  readonly authCacheDir: string;
  /** How long such an answer is reused: a revoked key keeps reading for up to this long. */
  readonly authCacheSeconds: number;
  /** Open-file cache entries (each may hold a descriptor: keep well within the open-file limit). */
  readonly openFileCache: number;
  /**
   * Feeds whose package files never change under one URL (allowOverwrite off), by the path prefix of their URLs (`''`
   * for the default feed, `/f/{name}` for the others): their `.nupkg` and `.nuspec` are immutable, every other feed's
   * revalidate.
   */
  readonly immutablePrefixes: readonly string[];
  /** A whole nginx.conf (for trying it out, tests and benchmarks) instead of what goes inside `http {}`. */
  readonly full?: FullConfigOptions;
}

export interface FullConfigOptions {
  readonly workers: string;
  readonly workerConnections: number;
  /** The open-file limit asked for the workers. */
  readonly openFileLimit: number;
  /** `user` of the worker processes, when nginx is started as root. */
  readonly user?: string;
  /** The access log of every request, with the upstream that answered it (`-` when nginx answered itself); `off`: none. */
  readonly accessLog: string;
}

/** The restore documents the materialized read path writes: versions lists and registration hives (docs/ARCHITECTURE.md). */
const HIVES = 'flatcontainer|registration|registration-gz|registration-gz-semver2';
/** An optional `/f/{name}` prefix: materialized paths keep the feed's name as it was created, as its URLs do. */
const FEED_PREFIX = '(/f/[A-Za-z0-9][A-Za-z0-9._-]*)?';
const SEGMENT = '[a-z0-9._+-]+';
/** How long nginx reuses an open package file before checking it again: an overwrite or delete is seen within it. */
export const FILE_REVALIDATE_S = 10;

/** A value as one nginx token, quoted (nginx's double-quoted strings take `\\` and `\\"` escapes). */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** Regular-expression text matching `literal` exactly. */
function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const privateOf = (cacheControl: string) => cacheControl.replace(/^public\b/, 'private');

/**
 * The nginx configuration that serves restore from the materialized files and passes everything else to the nodes.
 * Without `full`, it is what goes inside nginx's `http {}` (a file in conf.d): the upstream, maps, the auth cache, the
 * download log's format and the server block.
 */
export function renderNginxConfig(o: NginxConfigOptions): string {
  const staticRoot = `${o.blobRoot.replace(/\/+$/, '')}/static`;
  const privateRoot = `${o.blobRoot.replace(/\/+$/, '')}/static-private`;
  const proxyHeaders = `
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;`;
  const accessLog = o.full && o.full.accessLog !== 'off' ? o.full.accessLog : null;
  const downloadLog = `access_log ${quote(o.downloadLog)} pawket_downloads buffer=64k flush=1s;${accessLog ? `
      access_log ${quote(accessLog)} pawket_upstream;` : ''}`;
  // Files of a private feed: served after Pawket said yes to the request's credentials. An absent file is Node's to
  // answer (a 404, or a document of a feed that is not materialized), with no question asked first.
  const privateLocation = (name: string, body: string) => `
    location @${name} {
      root ${quote(privateRoot)};
      if (!-f $request_filename) { return 418; }
      error_page 418 = @pawket;
      # Anything but yes (401) or no (403) from the auth endpoint (429 for too many bad keys, a node down) is Node's to answer.
      error_page 500 = @pawket;
      # nginx passes on the 401's WWW-Authenticate (Basic), so NuGet clients send their credentials.
      auth_request /-pawket-auth;${body}
      try_files $uri @pawket;
    }`;
  const jsonHeaders = (cacheControl: string) => `
      types { }
      default_type "application/json; charset=utf-8";
      gzip_static on;
      add_header Cache-Control ${quote(cacheControl)};
      add_header Vary Accept-Encoding;`;
  // A package file changes only when it is overwritten or deleted: checking its descriptor again every second would cost
  // a stat per file per second under load (measured: about a tenth of nginx's CPU for downloads).
  const fileHeaders = (type: string, cacheControl: string, disposition: boolean) => `
      open_file_cache_valid ${FILE_REVALIDATE_S}s;
      types { }
      default_type ${quote(type)};
      add_header Cache-Control ${cacheControl};${disposition ? `
      add_header Content-Disposition 'attachment; filename="$pawket_file"';` : ''}`;
  const immutable = o.immutablePrefixes.map((p) => `    "~^${escapeRegex(p)}/v3/flatcontainer/" ${quote(IMMUTABLE)};`);

  const http = `# Generated by \`pawket nginx-config\` (docs/NGINX.md). Restore documents (versions lists, registration, .nupkg,
# .nuspec) are answered from the files Pawket materializes under
#   ${o.blobRoot}
# and a file that is absent goes to the nodes, which answer every URL. Generate it again after adding or removing
# nodes, or after turning allowOverwrite on or off for a feed.

upstream pawket_nodes {
${o.nodes.map((n) => `  server ${n} max_fails=1 fail_timeout=5s;`).join('\n')}
  keepalive 32;
}

# Package files of feeds that allow overwriting change under one URL: they revalidate instead of being immutable.
map $uri $pawket_file_cache_control {
${[...immutable, `    default ${quote(REVALIDATE)};`].join('\n')}
}
map $pawket_file_cache_control $pawket_private_file_cache_control {
    "~^public(?<rest>.*)$" "private$rest";
}

# The feed's own endpoint that answers whether a request's credentials read it (204, 401 or 403).
map $request_uri $pawket_auth_path {
    "~^(?<feed>/f/[^/?]+)/" "$feed/-/auth/read";
    default "/-/auth/read";
}

# Its answers, reused for ${o.authCacheSeconds} s per feed and credentials: a revoked key reads for up to that long.
# The keys of this cache are the credentials: the directory must stay readable by nginx only.
proxy_cache_path ${quote(o.authCacheDir)} levels=1:2 keys_zone=pawket_auth:1m max_size=16m inactive=${Math.max(60, o.authCacheSeconds * 2)}s use_temp_path=off;

# Downloads nginx answered itself, which Pawket counts (setting nginxDownloadLog): "$status $request_method $uri".
log_format pawket_downloads '$status $request_method $uri';${accessLog ? `
log_format pawket_upstream '$remote_addr [$time_local] "$request" $status $body_bytes_sent "$upstream_addr"';
access_log ${quote(accessLog)} pawket_upstream;` : o.full ? `
access_log off;` : ''}

server {
    listen ${o.listen};
    server_name ${o.serverName};
    # Pawket bounds pushes itself (maxPackageSize, per feed), with a message that says so.
    client_max_body_size 0;
    sendfile on;
    tcp_nopush on;
    # Descriptors of materialized files, checked again every second (package files every ${FILE_REVALIDATE_S} s): a
    # replaced document is seen within a second, an overwritten or deleted package file within ${FILE_REVALIDATE_S} s.
    open_file_cache max=${o.openFileCache} inactive=60s;
    open_file_cache_valid 1s;
    open_file_cache_errors off;

    # Everything else: pushes, search, the service index, the web UI, feeds that are not materialized.
    location / {
      proxy_pass http://pawket_nodes;${proxyHeaders}
      proxy_request_buffering off;
      proxy_next_upstream error timeout http_502 http_503;
    }
    location @pawket {
      proxy_pass http://pawket_nodes;${proxyHeaders}
      proxy_next_upstream error timeout http_502 http_503;
    }

    # Versions lists and registration documents (with their .gz twins for clients that accept gzip).
    location ~ "^${FEED_PREFIX}/v3/(${HIVES})/[a-z0-9._/+-]+\\.json$" {
      root ${quote(staticRoot)};${jsonHeaders(REVALIDATE)}
      try_files $uri @pawket_private_json;
    }${privateLocation('pawket_private_json', jsonHeaders(privateOf(REVALIDATE)))}

    # Package files: downloads are logged for Pawket to count.
    location ~ "^${FEED_PREFIX}/v3/flatcontainer/${SEGMENT}/${SEGMENT}/(?<pawket_file>${SEGMENT}\\.nupkg)$" {
      root ${quote(staticRoot)};${fileHeaders('application/octet-stream', '$pawket_file_cache_control', true)}
      ${downloadLog}
      try_files $uri @pawket_private_nupkg;
    }${privateLocation('pawket_private_nupkg', `${fileHeaders('application/octet-stream', '$pawket_private_file_cache_control', true)}
      ${downloadLog}`)}
    location ~ "^${FEED_PREFIX}/v3/flatcontainer/${SEGMENT}/${SEGMENT}/${SEGMENT}\\.nuspec$" {
      root ${quote(staticRoot)};${fileHeaders('application/xml; charset=utf-8', '$pawket_file_cache_control', false)}
      try_files $uri @pawket_private_nuspec;
    }${privateLocation('pawket_private_nuspec', fileHeaders('application/xml; charset=utf-8', '$pawket_private_file_cache_control', false))}

    location = /-pawket-auth {
      internal;
      proxy_pass http://pawket_nodes$pawket_auth_path;${proxyHeaders}
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_cache pawket_auth;
      proxy_cache_key "$pawket_auth_path $http_authorization $http_x_nuget_apikey $cookie_pawket_session";
      proxy_cache_valid 200 204 ${o.authCacheSeconds}s;
      proxy_cache_valid 401 403 ${Math.min(5, o.authCacheSeconds)}s;
      proxy_cache_lock on;
      proxy_ignore_headers Cache-Control Expires Set-Cookie Vary;
    }
}
`;
  if (!o.full) return http;
  const f = o.full;
  return `# A whole nginx.conf: run it with nginx -p DIR -c DIR/nginx.conf (relative paths are under DIR).
daemon off;
worker_processes ${f.workers};
worker_rlimit_nofile ${f.openFileLimit};
${f.user ? `user ${f.user};\n` : ''}pid nginx.pid;
error_log error.log warn;
events { worker_connections ${f.workerConnections}; }
http {
  client_body_temp_path body_temp;
  proxy_temp_path proxy_temp;
  fastcgi_temp_path fastcgi_temp;
  uwsgi_temp_path uwsgi_temp;
  scgi_temp_path scgi_temp;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 100000000;

${http.replace(/^(?=.)/gm, '  ')}}
`;
}

/** This process's soft limit of open files (Linux), or null where it cannot be read. */
export function openFileLimit(): number | null {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!line) return null;
    return line[1] === 'unlimited' ? 1_048_576 : Number(line[1]);
  } catch {
    return null;
  }
}

/**
 * Open-file cache entries for a worker allowed `limit` descriptors: what its connections (a client's and a node's each)
 * and its logs leave free, at most 100,000.
 */
export function openFileCacheSize(limit: number, workerConnections: number): number {
  return Math.max(100, Math.min(100_000, limit - 2 * workerConnections - 64));
}

export interface NginxConfigFlags {
  listen?: string;
  serverName?: string;
  node?: string[];
  downloadLog?: string;
  authCacheDir?: string;
  authCache?: string;
  openFiles?: string;
  full?: boolean;
  workers?: string;
  workerConnections?: string;
  user?: string;
  accessLog?: string;
}

const positive = (flag: string, value: string | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw badRequest(`${flag} must be a positive whole number, not '${value}'.`);
  return n;
};

/** The nodes' address as nginx reaches them when none is given: this server's own. */
function ownAddress(config: Config): string {
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${host}:${config.port}`;
}

export function nginxConfigOptions(config: Config, feeds: readonly FeedDefinition[], flags: NginxConfigFlags): NginxConfigOptions {
  if (config.storage !== 'filesystem') {
    throw badRequest('nginx serves the materialized files from the filesystem store; with S3 storage, serve them from the bucket with readBaseUrl (docs/DEPLOYMENT.md).');
  }
  const full = flags.full === true;
  const workerConnections = positive('--worker-connections', flags.workerConnections, 4096);
  const limit = positive('--open-files', flags.openFiles, openFileLimit() ?? 1024);
  const authCacheSeconds = positive('--auth-cache', flags.authCache, 30);
  // Restore goes to readBaseUrl when it is set (this nginx, or a CDN in front of it), the rest to baseUrl.
  const hosts = [...new Set([config.baseUrl, config.readBaseUrl].filter((u) => u !== undefined).map((u) => new URL(u).hostname))];
  const serverName = flags.serverName ?? (hosts.length ? hosts.join(' ') : '_');
  const listen = flags.listen ?? (full ? '127.0.0.1:8080' : '80');
  for (const [flag, value] of [['--listen', listen], ['--server-name', serverName], ...(flags.node ?? []).map((n) => ['--node', n])]) {
    if (!/^[A-Za-z0-9._:[\]* -]+$/.test(value!)) throw badRequest(`${flag} '${value}' is not an address nginx takes.`);
  }
  const immutablePrefixes = feeds
    .filter((d) => !d.virtual && !d.config.allowOverwrite)
    .map((d) => (d.id === DEFAULT_FEED_ID ? '' : `/f/${d.name}`));
  return {
    listen,
    serverName,
    nodes: flags.node?.length ? flags.node : [ownAddress(config)],
    blobRoot: resolve(config.dataDir, 'blobs'),
    downloadLog: flags.downloadLog ?? (full ? 'downloads.log' : '/var/log/nginx/pawket-downloads.log'),
    authCacheDir: flags.authCacheDir ?? (full ? 'auth_cache' : '/var/cache/nginx/pawket-auth'),
    authCacheSeconds,
    openFileCache: openFileCacheSize(limit, full ? workerConnections : 1024),
    immutablePrefixes,
    ...(full
      ? {
          full: {
            workers: flags.workers ?? 'auto',
            workerConnections,
            openFileLimit: limit,
            ...(flags.user ? { user: flags.user } : {}),
            accessLog: flags.accessLog ?? 'access.log',
          },
        }
      : {}),
  };
}

/** `pawket nginx-config`: prints the configuration for the server's current feeds and settings. */
export function nginxConfigCommand(config: Config, flags: NginxConfigFlags): Promise<void> {
  return withHub(config, async (hub) => {
    const feeds = hub.definitions();
    const options = nginxConfigOptions(config, feeds, flags);
    process.stdout.write(renderNginxConfig(options));
    const notes: string[] = [];
    if (!config.materialize && !config.readBaseUrl) {
      notes.push('materialize is off: there are no files to serve, so nginx passes every request to the nodes.');
    }
    const dynamic = feeds.filter((d) => d.virtual || d.config.upstreams.length > 0).map((d) => d.name);
    if (dynamic.length) notes.push(`feeds with upstreams and virtual feeds are always answered by the nodes: ${dynamic.join(', ')}.`);
    for (const note of notes) process.stderr.write(`pawket nginx-config: ${note}\n`);
  });
}
