import type { Config } from '../config/schema.js';
import { resignPackages } from '../feed/repository-resign.js';
import { openContentFeed } from './open-feed.js';
import { Progress } from './progress.js';

/**
 * `pawket resign [--feed NAME]`: after a certificate rotation, signs every package not signed with the current
 * repository certificate; resumable. Returns the exit code (1 when some package could not be signed).
 */
export async function resignCommand(config: Config, feedName?: string): Promise<number> {
  const feed = await openContentFeed(config, feedName);
  const progress = new Progress('resign', 'packages');
  try {
    const result = await resignPackages(feed, (p) => progress.update(p.done, p.total, `${p.resigned} re-signed, ${p.current} already current, ${p.failed} failed`));
    progress.stop();
    for (const f of result.failures) process.stderr.write(`could not re-sign ${f.package}: ${f.reason}\n`);
    const where = feedName === undefined ? '' : ` of '${feed.definition.name}'`;
    process.stdout.write(
      `Re-signed ${result.resigned} packages${where} with the repository certificate ${feed.repositorySigning!.fingerprint}; ${result.current} were signed with it already, ${result.failed} failed (of ${result.total}).\n`,
    );
    if (result.failed === 0) process.stdout.write('Previous certificates stay listed until no package signed with them is left; remove them from repositorySigningPreviousCertificates then.\n');
    return result.failed === 0 ? 0 : 1;
  } finally {
    progress.stop();
    await feed.close();
  }
}
