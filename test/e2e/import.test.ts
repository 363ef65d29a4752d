import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../support/backend.js';
import { buildNupkg, buildZip } from '../support/nupkg.js';
import { commandWorks, run } from './support/dotnet.js';
import { pawketMain } from './support/server.js';

async function put(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

const hasScript = commandWorks('script', ['-q', '-c', 'true', '/dev/null']);

describe.skipIf(backend !== 'sqlite')('pawket import, export and gc', () => {
  let work: string;
  let source: string;
  let dataDir: string;
  const cli = (args: string[]) => run(process.execPath, [pawketMain, ...args, '--data-dir', dataDir], { timeoutMs: 300_000 });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-import-'));
    source = join(work, 'source');
    dataDir = join(work, 'data');
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 500; i++) {
      const id = `Contoso.Import${i % 100}`;
      const version = `1.${Math.floor(i / 100)}.0`;
      const lower = id.toLowerCase();
      const pkg = buildNupkg({ id, version });
      if (i < 150) writes.push(pkg.then((b) => put(join(source, 'nugetserver', id, version, `${id}.${version}.nupkg`), b)));
      else if (i < 300) writes.push(pkg.then((b) => put(join(source, 'baget', 'packages', lower, version, `${lower}.${version}.nupkg`), b)));
      else {
        const folder = join(source, 'global', lower, version);
        writes.push(pkg.then((b) => put(join(folder, `${lower}.${version}.nupkg`), b)));
        writes.push(put(join(folder, `${lower}.${version}.nupkg.sha512`), 'not a package'));
        writes.push(put(join(folder, '.nupkg.metadata'), '{"version":2}'));
      }
    }
    // The same package in a second layout: a duplicate, skipped.
    writes.push(buildNupkg({ id: 'Contoso.Import0', version: '1.0.0' }).then((b) => put(join(source, 'zz-dup', 'contoso.import0.1.0.0.nupkg'), b)));
    writes.push(put(join(source, 'broken', 'not-a-zip.nupkg'), 'this is text, not a zip'));
    writes.push(buildZip([{ name: 'lib/a.dll', data: 'x' }]).then((b) => put(join(source, 'broken', 'no-nuspec.nupkg'), b)));
    writes.push(buildNupkg({ id: 'Contoso.BadVersion', version: '1.0.0.0.0' }).then((b) => put(join(source, 'broken', 'bad-version.nupkg'), b)));
    await Promise.all(writes);
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it.skipIf(!hasScript)('imports mixed layouts with a live progress bar on a terminal, naming each rejected file and why', async () => {
    // `script` runs the command in a pseudo-terminal, as a person at a terminal would.
    const command = `${process.execPath} ${pawketMain} import ${source} --data-dir ${dataDir}`;
    const result = await run('script', ['-q', '-e', '-c', command, '/dev/null'], { timeoutMs: 300_000 });
    expect(result.code, result.output).toBe(1); // some files were rejected
    expect(result.output).toMatch(/import \[[█░]+\] \d+\/504 files \| [\d.]+ files\/s \| ETA/);
    expect(result.output).toContain('Imported 500 files, skipped 1 already on the feed, rejected 3 (of 504).');
    expect(result.output).toMatch(/rejected broken\/bad-version\.nupkg: .*1\.0\.0\.0\.0/);
    expect(result.output).toMatch(/rejected broken\/no-nuspec\.nupkg: .*nuspec/i);
    expect(result.output).toMatch(/rejected broken\/not-a-zip\.nupkg: .*zip/i);
  });

  it('imports nothing twice when run again, with plain progress lines in a log', async () => {
    const again = await cli(['import', source]);
    expect(again.stdout).toContain('Imported 0 files, skipped 501 already on the feed, rejected 3 (of 504).');
    expect(again.stderr).toMatch(/^import: 504\/504 files/m);
    expect(again.stderr).not.toMatch(/\[[█░]+\]/);
  });

  it('exports every package byte for byte', async () => {
    const out = join(work, 'export');
    const result = await cli(['export', out]);
    expect(result.stdout).toContain('Exported 500 packages');
    expect(await readdir(join(out, 'contoso.import7'))).toEqual(['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0']);
  });

  it('applies retention with gc: --dry-run only prints, then it unlists all but the newest versions', async () => {
    const env = { PAWKET_RETENTION_KEEP_STABLE: '2' };
    const dry = await run(process.execPath, [pawketMain, 'gc', '--dry-run', '--data-dir', dataDir], { env });
    expect(dry.stdout).toContain('Retention: 300 versions would be unlisted.');
    expect(dry.stdout).toContain('would unlist Contoso.Import7 1.0.0');
    const real = await run(process.execPath, [pawketMain, 'gc', '--data-dir', dataDir], { env });
    expect(real.stdout).toContain('Retention: 300 versions were unlisted.');
    const after = await run(process.execPath, [pawketMain, 'gc', '--dry-run', '--data-dir', dataDir], { env });
    expect(after.stdout).toContain('Retention: 0 versions would be unlisted.');
  });
});
