import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempArea, TEMP_ABANDONED_AFTER_MS } from '../../../src/feed/temp-area.js';

let root: string;
beforeEach(async () => {
  root = join(await mkdtemp(join(tmpdir(), 'pawket-temp-area-')), 'tmp');
});
afterEach(() => rm(join(root, '..'), { recursive: true, force: true }));

/** Makes `path` look untouched for `ms`. */
async function age(path: string, ms: number): Promise<void> {
  const then = new Date(Date.now() - ms);
  await utimes(path, then, then);
}

describe('temporary areas', () => {
  it("gives each process its own folder and leaves other processes' live folders and files alone", async () => {
    const other = await openTempArea(root);
    await writeFile(join(other.dir, 'push.spool'), 'in flight');
    await writeFile(join(root, 'loose.spool'), 'written by an older version, just now');
    const mine = await openTempArea(root);
    expect(mine.dir).not.toBe(other.dir);
    expect(await readdir(other.dir)).toEqual(['push.spool']);
    expect(await readdir(root)).toContain('loose.spool');
    await mine.close();
    await other.close();
  });

  it('removes what a gone process left once it is older than the rule, and its own folder on close', async () => {
    const dead = join(root, '4242-deadbeef');
    await mkdir(dead, { recursive: true });
    await writeFile(join(dead, 'push.spool'), 'left by a crash');
    await age(dead, TEMP_ABANDONED_AFTER_MS + 1000);
    await writeFile(join(root, 'old.spool'), 'left by an older version');
    await age(join(root, 'old.spool'), TEMP_ABANDONED_AFTER_MS + 1000);
    const area = await openTempArea(root);
    expect(await readdir(root)).toEqual([area.dir.slice(root.length + 1)]);
    await area.close();
    expect(await readdir(root)).toEqual([]);
  });
});
