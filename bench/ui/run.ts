/**
 * Web UI benchmark: how long each page takes on a feed of 1,000 packages (10 versions each, with readmes), first
 * (cold: read from the package, rendered) and again (warm). Aim: every page under 50 ms.
 *
 *   npm run bench:ui [-- --packages 1000]
 *
 * Times are measured at the client on loopback, one request at a time, so they bound the server time from above.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNupkg } from '../../test/support/nupkg.js';

const packages = Number(process.argv[process.argv.indexOf('--packages') + 1]) || 1000;
const versions = 10;
const main = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

const readme = (i: number) =>
  `# Contoso.Ui${i}\n\n${'A package for the UI benchmark, with **Markdown**, `code` and [links](https://example.com). '.repeat(40)}\n\n` +
  '```csharp\nvar x = new Widget();\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n';

function exec(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pawket ${args[0]} exited with ${code}`))));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return performance.now() - started;
}

const work = await mkdtemp(join(tmpdir(), 'pawket-bench-ui-'));
try {
  const source = join(work, 'source');
  const seedStart = performance.now();
  for (let i = 0; i < packages; i++) {
    await Promise.all(
      Array.from({ length: versions }, async (_, v) => {
        const id = `Contoso.Ui${i}`;
        const version = `1.${v}.0`;
        const bytes = await buildNupkg({
          id,
          version,
          description: `UI benchmark package ${i}`,
          extraMetadata: '<readme>README.md</readme><tags>bench ui</tags>',
          dependencies: { 'net8.0': [['Contoso.Ui0', '1.0']] },
          files: [{ name: 'README.md', data: readme(i) }],
        });
        await mkdir(join(source, id, version), { recursive: true });
        await writeFile(join(source, id, version, `${id}.${version}.nupkg`), bytes);
      }),
    );
  }
  const dataDir = join(work, 'data');
  await exec(['import', source, '--data-dir', dataDir]);
  console.log(`Seeded ${packages * versions} packages in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  const server = spawn(process.execPath, [main, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/v3\/index\.json/.exec(out);
      if (m) resolve(m[1]!);
    });
  });
  try {
    const pick = Array.from({ length: Math.min(200, packages) }, (_, k) => Math.floor((k * packages) / Math.min(200, packages)));
    const pages: Record<string, string[]> = {
      home: [`${base}/`],
      'home search': pick.slice(0, 50).map((i) => `${base}/?q=ui${i}`),
      'package (latest)': pick.map((i) => `${base}/packages/Contoso.Ui${i}`),
      'package (version)': pick.map((i) => `${base}/packages/Contoso.Ui${i}/1.3.0`),
      icon: pick.slice(0, 50).map((i) => `${base}/packages/Contoso.Ui${i}/1.3.0/icon`),
      upload: [`${base}/upload`],
      feed: [`${base}/feed`],
    };
    await time(`${base}/`); // first request warms the process up
    console.log('\npage                 pass    requests   p50 ms   p99 ms   max ms   under 50 ms');
    let worst = 0;
    for (const [name, urls] of Object.entries(pages)) {
      for (const pass of ['cold', 'warm']) {
        const times: number[] = [];
        for (const url of urls) times.push(await time(url));
        times.sort((a, b) => a - b);
        const max = times.at(-1)!;
        worst = Math.max(worst, max);
        console.log(
          `${name.padEnd(20)} ${pass.padEnd(6)} ${String(times.length).padStart(9)} ${percentile(times, 50).toFixed(1).padStart(8)} ${percentile(times, 99).toFixed(1).padStart(8)} ${max.toFixed(1).padStart(8)}   ${max < 50 ? 'yes' : 'NO'}`,
        );
      }
    }
    console.log(`\nSlowest page: ${worst.toFixed(1)} ms (aim: every page under 50 ms: ${worst < 50 ? 'met' : 'NOT met'})`);
  } finally {
    server.kill('SIGTERM');
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
