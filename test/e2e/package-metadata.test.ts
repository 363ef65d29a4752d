/**
 * What NuGet's own client library (NuGet.Protocol 8.0.0, as Visual Studio's package manager uses it) reads about a
 * package's icon and readme from a real Pawket server: PackageMetadataResource's IconUrl, ReadmeUrl and ReadmeFileUrl
 * (from the service index's ReadmeUriTemplate), the search resource's IconUrl and the V2 feed's; and that those URLs
 * answer with the icon's bytes and the readme's text. The C# program is protocol-client/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNupkg, type NuspecOptions, type ZipEntry } from '../support/nupkg.js';
import { buildProtocolClient, packageMetadata, removeProtocolClient } from './protocol-client/client.js';
import { createNuGetSandbox, hasDotnet, requireClients, type NuGetSandbox } from './support/dotnet.js';
import { startPawket, type PawketServer } from './support/server.js';

const clients = requireClients('NuGet.Protocol package metadata end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

const KEY = 'metadata-e2e-key';
/** A real 1x1 PNG. */
const ICON = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const README = '# Contoso Shown\n\nA package whose icon and readme **Visual Studio** shows.\n';
const LEGACY_ICON = 'https://example.org/legacy-icon.png';

const PACKAGES: (NuspecOptions & { files?: ZipEntry[] })[] = [
  {
    id: 'Contoso.Shown',
    version: '1.2.0',
    // As `dotnet pack` writes <PackageIcon> and <PackageReadmeFile> from a subfolder.
    extraMetadata: '<icon>images\\icon.png</icon><readme>docs\\README.md</readme>',
    files: [
      { name: 'images/icon.png', data: ICON },
      { name: 'docs/README.md', data: README },
    ],
  },
  { id: 'Contoso.Legacy', version: '1.0.0', extraMetadata: `<iconUrl>${LEGACY_ICON}</iconUrl>` },
  { id: 'Contoso.Bare', version: '1.0.0' },
];

/** What the C# program prints for one package. */
interface ClientView {
  found: boolean;
  iconUrl: string | null;
  readmeUrl: string | null;
  readmeFileUrl: string | null;
  searchIconUrl: string | null;
  v2Found: boolean;
  v2IconUrl: string | null;
}

describe.skipIf(clients.skip)('NuGet.Protocol reads icons and readmes from a real Pawket server', () => {
  let work: string;
  let sandbox: NuGetSandbox;
  let server: PawketServer | undefined;
  let views: Record<string, ClientView>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pawket-e2e-metadata-'));
    const building = buildProtocolClient();
    // The program's HTTP cache stays in the sandbox (it asks with NoCache anyway).
    sandbox = await createNuGetSandbox(join(work, 'nuget'));

    server = await startPawket({ env: { PAWKET_API_KEY: KEY } });
    for (const p of PACKAGES) {
      const res = await fetch(`${server.baseUrl}/api/v2/package`, {
        method: 'PUT',
        body: new Uint8Array(await buildNupkg(p)),
        headers: { 'x-nuget-apikey': KEY },
      });
      expect(res.status, `push ${p.id}: ${await res.text()}`).toBe(201);
    }
    await building;
    views = (await packageMetadata(server.feedUrl, `${server.baseUrl}/api/v2/`, PACKAGES, { env: sandbox.env }).catch((e: Error) => {
      throw new Error(`${e.message}\n--- end of the Pawket log ---\n${server!.output().slice(-4000)}`);
    })) as Record<string, ClientView>;
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await removeProtocolClient();
    if (work && !process.env.PAWKET_E2E_KEEP) await rm(work, { recursive: true, force: true });
  });

  const flat = () => `${server!.baseUrl}/v3/flatcontainer/`;

  it('reports the embedded icon at its flat-container URL (metadata, search and V2), and that URL serves the icon', async () => {
    const shown = views['Contoso.Shown']!;
    expect(shown.found).toBe(true);
    const icon = `${flat()}contoso.shown/1.2.0/icon`;
    expect(shown).toMatchObject({ iconUrl: icon, searchIconUrl: icon, v2Found: true, v2IconUrl: icon });
    const res = await fetch(icon);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(ICON)).toBe(true);
  });

  it('reports the readme (ReadmeUrl, and ReadmeFileUrl from ReadmeUriTemplate), and that URL serves the readme', async () => {
    const shown = views['Contoso.Shown']!;
    const readme = `${flat()}contoso.shown/1.2.0/readme`;
    expect(shown.readmeUrl).toBe(readme);
    expect(shown.readmeFileUrl).toBe(readme);
    const res = await fetch(readme);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(await res.text()).toBe(README);
  });

  it('keeps a legacy icon URL, and answers 404 for the readme of a version without one', async () => {
    expect(views['Contoso.Legacy']).toMatchObject({ found: true, iconUrl: LEGACY_ICON, searchIconUrl: LEGACY_ICON, v2IconUrl: LEGACY_ICON });
    const bare = views['Contoso.Bare']!;
    expect(bare).toMatchObject({ found: true, iconUrl: null, readmeUrl: null, searchIconUrl: null, v2IconUrl: null });
    // The client makes the readme URL of every version from the template; Visual Studio shows "No README" on a 404.
    expect(bare.readmeFileUrl).toBe(`${flat()}contoso.bare/1.0.0/readme`);
    expect((await fetch(bare.readmeFileUrl!)).status).toBe(404);
    expect((await fetch(`${flat()}contoso.bare/1.0.0/icon`)).status).toBe(404);
  });
});
