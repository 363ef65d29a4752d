import type { Config } from '../config/schema.js';
import { KyselyMaterializeDatabase } from '../db/kysely-materialize-database.js';
import { openFeed } from '../feed/feed.js';
import { materializeFeeds } from '../materialize/feeds.js';
import { PawketError } from '../errors.js';
import { Progress } from './progress.js';

/**
 * `pawket materialize [--verify] [--feed NAME]`: writes every materialized document again (resuming where an
 * interrupted run stopped), or checks each against what the routes serve and repairs what differs. Exit code 1 when
 * verification found differences.
 */
export async function materializeCommand(config: Config, options: { verify: boolean; feed?: string }): Promise<number> {
  if (!config.materialize && !config.readBaseUrl) {
    throw new PawketError(400, 'Materialization is off: set "materialize": true (and "baseUrl") in the configuration first (docs/DEPLOYMENT.md).');
  }
  const opened = await openFeed(config);
  const materializer = opened.hub.shared.materializer!;
  const progress = new Progress(options.verify ? 'verify' : 'materialize', 'versions');
  let total = 0;
  let done = 0;
  let feedName = '';
  try {
    const summary = await materializeFeeds(opened.hub, materializer, new KyselyMaterializeDatabase(opened.hub.shared.kysely), {
      mode: options.verify ? 'verify' : 'rebuild',
      ...(options.feed === undefined ? {} : { feed: options.feed }),
      progress: {
        feed: (name, versions) => {
          feedName = name;
          total = versions;
          done = 0;
          progress.update(done, total, name);
        },
        id: (versions) => {
          done = Math.min(total, done + versions);
          progress.update(done, total, feedName);
        },
      },
    });
    progress.stop();
    if (options.feed !== undefined && summary.feeds === 0) {
      process.stdout.write(`Feed '${options.feed}' is not materialized (it does not exist, is virtual, or has upstreams).\n`);
      return 1;
    }
    for (const path of summary.mismatched.slice(0, 100)) process.stdout.write(`differed (rewritten): ${path}\n`);
    if (summary.mismatched.length > 100) process.stdout.write(`... and ${summary.mismatched.length - 100} more\n`);
    process.stdout.write(
      options.verify
        ? `Verified ${summary.ids} ids in ${summary.feeds} feeds: ${summary.mismatched.length} documents differed and were rewritten, ${summary.removed} stray files removed.\n`
        : `Materialized ${summary.ids} ids in ${summary.feeds} feeds (${summary.removed} stale files removed).\n`,
    );
    return options.verify && (summary.mismatched.length > 0 || summary.removed > 0) ? 1 : 0;
  } finally {
    progress.stop();
    await opened.close();
  }
}
