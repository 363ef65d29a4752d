import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres.js';

export const nginxBinary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? null;

export interface TempNginx {
  readonly url: string;
  stop(): Promise<void>;
}

export interface LoadBalancerOptions {
  /**
   * Requests whose path starts with `prefix` all go to `upstream` (host:port), e.g. sign-in callbacks to one node. (A
   * regular expression location: a plain `/signin/` would also redirect `/signin` to `/signin/`.)
   */
  readonly pin?: { readonly prefix: string; readonly upstream: string };
}

/**
 * Starts nginx on loopback as a round-robin load balancer over `upstreams` (host:port). GETs fail over to the next
 * node when one is down; pushes are not retried (nginx never repeats a non-idempotent request), as in production.
 * Each answer names the node that gave it in `X-Upstream`.
 */
export async function startLoadBalancer(upstreams: readonly string[], opts: LoadBalancerOptions = {}): Promise<TempNginx> {
  if (!nginxBinary) throw new Error('nginx not found: install Debian package nginx-light (scripts/install-test-deps.sh)');
  const dir = await mkdtemp(join(tmpdir(), 'pawket-nginx-'));
  await mkdir(join(dir, 'tmp'));
  const port = await freePort();
  const proxy = (to: string) => `
      proxy_pass http://${to};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
      proxy_request_buffering off;
      add_header X-Upstream $upstream_addr always;`;
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${userInfo().uid === 0 ? 'user root;' : ''}
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  upstream pawket { ${upstreams.map((u) => `server ${u} max_fails=1 fail_timeout=5s;`).join(' ')} }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    location / {${proxy('pawket')}
    }${opts.pin ? `
    location ~ ^${opts.pin.prefix.replace(/[^\w/-]/g, '\\$&')} {${proxy(opts.pin.upstream)}
    }` : ''}
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const child = spawn(nginxBinary, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      await fetch(`${url}/`);
      break;
    } catch {
      if (i > 100) throw new Error(`nginx did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    async stop() {
      child.kill('SIGQUIT');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
