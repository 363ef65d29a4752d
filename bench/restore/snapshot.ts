/**
 * Builds what both servers are measured on: asks Pawket for every URL of the three resources once, saves the exact
 * bytes it answered under `www/` with the same paths (so nginx serves identical bodies: the registration index
 * as Pawket's own gzip bytes, `index.json.gz` for `gzip_static`), and writes the shuffled URL lists.
 *
 * Environment: BENCH_PAWKET_URL, BENCH_WORK (work dir), BENCH_PACKAGES.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { envInt, envString, forEachLimit, RESOURCES, request, shuffled, type Resource } from './common.js';
import { packageId } from './feed-model.js';

const base = envString('BENCH_PAWKET_URL');
const work = envString('BENCH_WORK');
const packages = envInt('BENCH_PACKAGES', 1000);
const www = join(work, 'www');

const byKey = (key: Resource['key']) => RESOURCES.find((r) => r.key === key)!;
const urls: Record<Resource['key'], string[]> = { flat: [], nupkg: [], registration: [] };
const wireBytes: Record<Resource['key'], number> = { flat: 0, nupkg: 0, registration: 0 };

async function save(path: string, body: Buffer) {
  const file = join(www, ...path.split('/').filter(Boolean));
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, body);
}

async function fetchOk(resource: Resource, path: string) {
  const res = await request(base + path, { headers: { ...resource.headers } });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
  wireBytes[resource.key] += res.body.length;
  return res;
}

const ids = Array.from({ length: packages }, (_, i) => packageId(i).toLowerCase());

await forEachLimit(ids, 16, async (id) => {
  const flatPath = `/v3/flatcontainer/${id}/index.json`;
  const flat = await fetchOk(byKey('flat'), flatPath);
  await save(flatPath, flat.body);
  urls.flat.push(flatPath);
  const { versions } = JSON.parse(flat.body.toString('utf8')) as { versions: string[] };
  for (const v of versions) urls.nupkg.push(`/v3/flatcontainer/${id}/${v}/${id}.${v}.nupkg`);

  const regPath = `/v3/registration-gz-semver2/${id}/index.json`;
  const reg = await fetchOk(byKey('registration'), regPath);
  if (reg.headers['content-encoding'] !== 'gzip') {
    throw new Error(`GET ${regPath} with Accept-Encoding: gzip came back without Content-Encoding: gzip`);
  }
  await save(`${regPath}.gz`, reg.body);
  await save(regPath, gunzipSync(reg.body));
  urls.registration.push(regPath);
});

await forEachLimit(urls.nupkg, 16, async (path) => {
  const res = await fetchOk(byKey('nupkg'), path);
  await save(path, res.body);
});

const summary: Record<string, { urls: number; avgBytes: number }> = {};
for (const r of RESOURCES) {
  const list = shuffled(urls[r.key].sort(), 42);
  await writeFile(join(work, r.urlFile), list.join('\n') + '\n');
  summary[r.key] = { urls: list.length, avgBytes: Math.round(wireBytes[r.key] / list.length) };
}
await writeFile(join(work, 'snapshot.json'), JSON.stringify(summary, null, 2));
process.stdout.write(
  'Snapshot: ' +
    RESOURCES.map((r) => `${r.key} ${summary[r.key]!.urls} URLs, avg ${summary[r.key]!.avgBytes} B on the wire`).join('; ') +
    '\n',
);
