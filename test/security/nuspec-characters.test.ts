/**
 * Nuspecs holding characters XML forbids, pushed to a real server process. NuGet's reader refuses such a nuspec
 * ("hexadecimal value 0x07, is an invalid character"), so a stored one could never be restored, nor replaced by a
 * fixed push: the push must be a 400 naming the field and the character, and nothing may be stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPawket, type PawketServer } from '../e2e/support/server.js';
import { buildNupkg, buildZip, nuspecXml } from '../support/nupkg.js';
import { corePackage, ID, LIB, pdb, symbolsNuspec } from '../unit/symbols/fixtures.js';

const KEY = 'nuspec-characters-key';
let server: PawketServer;

beforeAll(async () => {
  server = await startPawket({ env: { PAWKET_API_KEY: KEY } });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

async function put(path: string, body: Buffer): Promise<{ status: number; message: string }> {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': KEY },
  });
  return { status: response.status, message: await response.text() };
}

/** A package whose nuspec is `nuspec` (text, written as UTF-8, or bytes as they are). */
function packageWith(id: string, nuspec: string | Buffer): Promise<Buffer> {
  return buildZip([
    { name: '_rels/.rels', data: '<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships" />' },
    { name: `${id}.nuspec`, data: nuspec },
    { name: 'lib/netstandard2.0/_._', data: '' },
  ]);
}

async function flatContainerStatus(lowerId: string): Promise<number> {
  return (await fetch(`${server.baseUrl}/v3/flatcontainer/${lowerId}/index.json`)).status;
}

describe('a push whose nuspec holds characters XML forbids', () => {
  it.each([
    {
      what: 'a raw BEL in <description>',
      id: 'Chars.RawBel',
      nuspec: nuspecXml({ id: 'Chars.RawBel', version: '1.0.0', description: 'Rings \x07 the bell' }),
      message: "The nuspec's <description> contains the character U+0007, which XML does not allow.",
    },
    {
      what: 'a raw U+0001 in <title>',
      id: 'Chars.RawTitle',
      nuspec: nuspecXml({ id: 'Chars.RawTitle', version: '1.0.0', extraMetadata: '<title>A\x01B</title>' }),
      message: "The nuspec's <title> contains the character U+0001, which XML does not allow.",
    },
    {
      what: 'the reference &#x7; in <releaseNotes>',
      id: 'Chars.Reference',
      nuspec: nuspecXml({ id: 'Chars.Reference', version: '1.0.0', extraMetadata: '<releaseNotes>a&#x7;b</releaseNotes>' }),
      message: "The nuspec's <releaseNotes> contains the character reference '&#x7;' (U+0007), which XML does not allow.",
    },
    {
      what: 'U+FFFF in an attribute',
      id: 'Chars.Attribute',
      nuspec: nuspecXml({ id: 'Chars.Attribute', version: '1.0.0', extraMetadata: '<repository type="git" commit="\uffff" />' }),
      message: "The nuspec's <repository> attribute 'commit' contains the character U+FFFF, which XML does not allow.",
    },
    {
      what: 'an encoded surrogate (bytes that are not UTF-8)',
      id: 'Chars.Surrogate',
      nuspec: Buffer.concat(
        nuspecXml({ id: 'Chars.Surrogate', version: '1.0.0', description: 'a|b' })
          .split('|')
          .flatMap((part, i) => (i === 0 ? [Buffer.from(part)] : [Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(part)])),
      ),
      message: 'The nuspec is not valid UTF-8: byte 0xED on line 7 is not part of a UTF-8 character. Save it as UTF-8.',
    },
  ])('refuses $what with a 400 naming it, and stores nothing', async ({ id, nuspec, message }) => {
    const refused = await put('/api/v2/package', await packageWith(id, nuspec));
    expect(refused).toEqual({ status: 400, message });
    expect(await flatContainerStatus(id.toLowerCase())).toBe(404);
    expect((await fetch(`${server.baseUrl}/v3/flatcontainer/${id.toLowerCase()}/1.0.0/${id.toLowerCase()}.1.0.0.nupkg`)).status).toBe(404);

    // Nothing blocks the fixed package: the same id and version push and restore-list as new.
    const fixed = await put('/api/v2/package', await buildNupkg({ id, version: '1.0.0' }));
    expect(fixed.status).toBe(201);
    const versions = (await (await fetch(`${server.baseUrl}/v3/flatcontainer/${id.toLowerCase()}/index.json`)).json()) as unknown;
    expect(versions).toEqual({ versions: ['1.0.0'] });
  });

  it('refuses a symbols package whose nuspec holds one, through the same reader', async () => {
    expect((await put('/api/v2/package', await corePackage())).status).toBe(201);
    const nuspec = symbolsNuspec(ID, '1.0.0').replace('<description>Symbols of', '<description>Symbols\x07of');
    const evil = await buildZip([
      { name: `${ID}.nuspec`, data: nuspec },
      { name: `${LIB}/${ID}.pdb`, data: pdb('anycpu') },
    ]);
    const refused = await put('/api/v2/symbolpackage', evil);
    expect(refused).toEqual({ status: 400, message: "The nuspec's <description> contains the character U+0007, which XML does not allow." });
  });
});
