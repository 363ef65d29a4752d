/**
 * The nginx download log reader counts each `.nupkg` GET nginx answered 200, once: across polls, a restart (it resumes
 * where it stopped), log rotation (the renamed file is read to its end, then the new one) and truncation.
 */
import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadLogReader, parseDownloadLine, type LoggedDownload } from '../../../src/feed/download-log.js';

describe('parseDownloadLine', () => {
  it('reads downloads of the default feed and of other feeds, and nothing else', () => {
    expect(parseDownloadLine('200 GET /v3/flatcontainer/a.b/1.0.0/a.b.1.0.0.nupkg')).toEqual({ feed: null, lowerId: 'a.b', lowerVersion: '1.0.0' });
    expect(parseDownloadLine('200 GET /f/dev/v3/flatcontainer/x/2.0.0-beta.1/x.2.0.0-beta.1.nupkg')).toEqual({
      feed: 'dev',
      lowerId: 'x',
      lowerVersion: '2.0.0-beta.1',
    });
    for (const line of [
      '304 GET /v3/flatcontainer/a/1.0.0/a.1.0.0.nupkg',
      '401 GET /v3/flatcontainer/a/1.0.0/a.1.0.0.nupkg',
      '200 HEAD /v3/flatcontainer/a/1.0.0/a.1.0.0.nupkg',
      '200 GET /v3/flatcontainer/a/1.0.0/b.1.0.0.nupkg',
      '200 GET /v3/flatcontainer/a/index.json',
      '200 GET /v3/flatcontainer/a/1.0.0/a.nuspec',
    ]) {
      expect(parseDownloadLine(line), line).toBeNull();
    }
  });
});

describe('DownloadLogReader', () => {
  let dir: string;
  let log: string;
  let seen: LoggedDownload[];
  let readers: DownloadLogReader[];
  const line = (id: string, feed?: string) => `200 GET ${feed ? `/f/${feed}` : ''}/v3/flatcontainer/${id}/1.0.0/${id}.1.0.0.nupkg\n`;
  const reader = () => {
    const r = new DownloadLogReader(log, join(dir, 'position'), (d) => seen.push(d));
    readers.push(r);
    return r;
  };
  const ids = () => seen.map((d) => (d.feed ? `${d.feed}/${d.lowerId}` : d.lowerId));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pawket-download-log-'));
    log = join(dir, 'downloads.log');
    seen = [];
    readers = [];
  });
  afterEach(async () => {
    for (const r of readers) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('waits for the log to exist, counts complete lines once, and a line only when its end is written', async () => {
    const r = reader();
    await r.poll();
    expect(seen).toEqual([]);
    await writeFile(log, line('a') + '304 GET /v3/flatcontainer/a/1.0.0/a.1.0.0.nupkg\n' + line('b', 'dev') + '200 GET /v3/flat');
    await r.poll();
    await r.poll();
    expect(ids()).toEqual(['a', 'dev/b']);
    await appendFile(log, 'container/c/1.0.0/c.1.0.0.nupkg\n');
    await r.poll();
    expect(ids()).toEqual(['a', 'dev/b', 'c']);
  });

  it('resumes where it stopped after a restart, counting nothing twice', async () => {
    const first = reader();
    await writeFile(log, line('a') + line('b'));
    await first.poll();
    await first.stop();
    await appendFile(log, line('c'));
    const second = reader();
    await second.poll();
    expect(ids()).toEqual(['a', 'b', 'c']);
  });

  it('follows a rotation: the rest of the renamed file, then the new file from its start', async () => {
    const r = reader();
    await writeFile(log, line('a'));
    await r.poll();
    await rename(log, `${log}.1`);
    await writeFile(log, line('new'));
    // nginx writes its buffer to the old file when it reopens its logs, after the rename.
    await appendFile(`${log}.1`, line('late'));
    await r.poll();
    await r.poll();
    expect(ids().sort()).toEqual(['a', 'late', 'new']);
    await appendFile(log, line('more'));
    await r.poll();
    expect(ids().filter((i) => i === 'more')).toHaveLength(1);
  });

  it('starts again from the beginning of a file truncated in place (copytruncate)', async () => {
    const r = reader();
    await writeFile(log, line('a') + line('b'));
    await r.poll();
    await truncate(log, 0);
    await appendFile(log, line('c'));
    await r.poll();
    expect(ids()).toEqual(['a', 'b', 'c']);
  });

  it('skips a line too long to be one of its own, in bounded memory, and reads on after it', async () => {
    const r = reader();
    await writeFile(log, '200 GET /' + 'x'.repeat(200_000) + line('a') + line('b'));
    await r.poll();
    // The over-long line ends with a's text: it is skipped as a whole.
    expect(ids()).toEqual(['b']);
  });
});
