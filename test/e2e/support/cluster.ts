import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backend, freshBackendEnv } from '../../support/backend.js';
import { startLoadBalancer, type TempNginx } from '../../support/nginx.js';
import { startPawket, type PawketServer } from './server.js';

/** Several `pawket serve` nodes on one database and one storage, behind nginx round-robin. */
export interface PawketCluster {
  readonly nodes: readonly PawketServer[];
  /** The load balancer in front of every node. */
  readonly lb: TempNginx;
  /** Stops nginx and every node, and removes what the cluster created. */
  stop(): Promise<void>;
}

/**
 * Starts `count` nodes sharing one fresh database and storage of the suite's backend (PostgreSQL + S3: one database and
 * bucket prefix; SQLite: one data dir, so one database file and one package folder), then nginx in front of them.
 * `env` is added to every node's environment (keys, settings).
 */
export async function startCluster(count: number, env: Record<string, string> = {}): Promise<PawketCluster> {
  const shared = { ...(await freshBackendEnv()), ...env };
  const dataDir = backend === 'sqlite' ? await mkdtemp(join(tmpdir(), 'pawket-cluster-')) : undefined;
  const nodes: PawketServer[] = [];
  let lb: TempNginx | undefined;
  const stop = async () => {
    await lb?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // The first node creates the schema; the others open it as it is.
    const start = () => startPawket({ env: shared, ...(dataDir ? { dataDir } : {}) });
    nodes.push(await start());
    const others = await Promise.allSettled(Array.from({ length: count - 1 }, start));
    for (const o of others) if (o.status === 'fulfilled') nodes.push(o.value);
    for (const o of others) if (o.status === 'rejected') throw o.reason;
    lb = await startLoadBalancer(nodes.map((n) => new URL(n.baseUrl).host));
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, lb, stop };
}
