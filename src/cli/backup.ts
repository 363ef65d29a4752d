import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { sqliteFile } from '../db/open.js';
import { backupEmbeddedFeed, restoreEmbeddedFeed } from '../feed/backup.js';

const scaleOutAdvice =
  'Back up a PostgreSQL + S3 feed with pg_dump and the object store\'s versioning or replication (docs/DEPLOYMENT.md, "Backups").';

/** `pawket backup FILE`: a consistent snapshot of an embedded feed, taken while the server runs. */
export async function backupCommand(config: Config, outFile: string): Promise<void> {
  const dataDir = resolve(config.dataDir);
  const file = sqliteFile(config.database, dataDir);
  if (file === null || config.storage !== 'filesystem') throw new Error(`pawket backup works on embedded feeds. ${scaleOutAdvice}`);
  const result = await backupEmbeddedFeed(dataDir, file, outFile);
  process.stdout.write(`Backed up ${result.packages} packages (${result.files} files, ${Math.round(result.bytes / 1024)} KiB) to ${outFile}.\n`);
}

/** `pawket restore FILE`: unpacks a backup into an empty data dir. */
export async function restoreCommand(config: Config, backupFile: string): Promise<void> {
  const dataDir = resolve(config.dataDir);
  const result = await restoreEmbeddedFeed(backupFile, dataDir);
  process.stdout.write(`Restored ${result.files} files into ${dataDir}; start it with: pawket serve --data-dir ${dataDir}\n`);
}
