/**
 * A data dir holding a feed of `count` packages (ids x 10 versions), made directly: rows inserted in large transactions
 * and one small file written per package, without pushing (100,000 pushes would take longer than the benchmark). The
 * rows are what a push writes (metadata and nuspec of a real package, its id and version changed); the files all hold
 * that package's bytes, which a start never reads.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Insertable } from 'kysely';
import { openDatabase } from '../../src/db/open.js';
import type { PackagesTable } from '../../src/db/schema.js';
import { DEFAULT_FEED_SCOPE, packageBlobKey } from '../../src/feed/feed-scope.js';
import { parseVersion } from '../../src/nuget/version.js';
import { readPackageFile } from '../../src/package/read.js';
import { toStoredMetadata } from '../../src/feed/stored-metadata.js';
import { buildNupkg } from '../../test/support/nupkg.js';
import { forEachLimit } from '../restore/common.js';

const VERSIONS_PER_ID = 10;
const ROWS_PER_INSERT = 500;

export async function buildStore(dataDir: string, count: number, onProgress: (what: string) => void): Promise<void> {
  const started = performance.now();
  const template = await buildNupkg({
    id: 'Startup.Template',
    version: '1.0.0',
    description: 'A package of the start-up benchmark feed.',
    dependencies: { 'net8.0': [['Microsoft.Extensions.Logging.Abstractions', '8.0.0']] },
    files: [{ name: 'lib/net8.0/Startup.Template.dll', data: Buffer.alloc(1024, 7) }],
  });
  await mkdir(dataDir, { recursive: true });
  const templateFile = join(dataDir, 'template.nupkg');
  await writeFile(templateFile, template);
  const { metadata, nuspec } = await readPackageFile(templateFile);
  const sha512 = createHash('sha512').update(template).digest('base64');

  const db = await openDatabase('', dataDir);
  const keys: string[] = [];
  try {
    const rows: Array<Insertable<PackagesTable> & { feed_id: number }> = [];
    for (let n = 0; n < count; n++) {
      const id = `Startup.Package${Math.floor(n / VERSIONS_PER_ID)}`;
      const version = `1.${n % VERSIONS_PER_ID}.0`;
      const lowerId = id.toLowerCase();
      const blobKey = packageBlobKey(DEFAULT_FEED_SCOPE, lowerId, version, sha512);
      keys.push(blobKey);
      const stored = toStoredMetadata({ ...metadata, id, version: parseVersion(version)! });
      rows.push({
        feed_id: 1,
        id,
        lower_id: lowerId,
        version,
        lower_version: version,
        full_version: version,
        original_version: version,
        is_prerelease: 0,
        is_semver2: 0,
        listed: 1,
        published: new Date().toISOString(),
        size: template.length,
        sha512,
        blob_key: blobKey,
        metadata: stored,
        nuspec,
      });
    }
    await db.kysely.transaction().execute(async (tx) => {
      for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) {
        await tx.insertInto('packages').values(rows.slice(at, at + ROWS_PER_INSERT)).execute();
      }
    });
  } finally {
    await db.close();
  }
  onProgress(`${count} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const blobs = join(dataDir, 'blobs');
  await forEachLimit(keys, 32, async (key) => {
    const path = join(blobs, ...key.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, template);
  });
  onProgress(`${count} files in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
