import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A reverse proxy on loopback that records every request it passes on: who asked what of the server behind it. */
export interface CountingProxy {
  /** `http://127.0.0.1:{port}`, no trailing slash. */
  readonly url: string;
  /** Method and path (with query) of each request, in arrival order. */
  readonly requests: string[];
  /** Where requests go (scheme, host and port); set it once the server behind is up. */
  target: string;
  stop(): Promise<void>;
}

/**
 * Starts a proxy in front of `target` (or of a target set later, so that a server can be given the proxy's URL as its
 * public one before it starts). Bodies stream both ways; the Host header is the proxy's, as a front proxy passes it.
 */
export async function startCountingProxy(target = ''): Promise<CountingProxy> {
  const requests: string[] = [];
  const proxy: { target: string } = { target };
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const to = new URL(req.url ?? '/', proxy.target);
    const upstream = httpRequest(to, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get target() {
      return proxy.target;
    },
    set target(value: string) {
      proxy.target = value;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
