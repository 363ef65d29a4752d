/**
 * V2 autocomplete through the real client library: NuGet.Protocol 8.0.0's AutoCompleteResource (what the Package
 * Manager Console uses for tab completion) against a real Pawket server's V2 URL, public and private.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNupkg } from '../support/nupkg.js';
import { hasDotnet, requireClients } from './support/dotnet.js';
import { startPawket, type PawketServer } from './support/server.js';
import { buildProtocolClient, idStartsWith, removeProtocolClient, versionStartsWith } from './protocol-client/client.js';

const clients = requireClients('V2 autocomplete end-to-end tests', hasDotnet ? [] : ['dotnet (the .NET 10 SDK)']);

const KEY = 'v2-autocomplete-key';
const V2_RESOURCE = 'AutoCompleteResourceV2Feed';

async function push(server: PawketServer, id: string, version: string): Promise<void> {
  const response = await fetch(`${server.baseUrl}/api/v2/package`, {
    method: 'PUT',
    body: new Uint8Array(await buildNupkg({ id, version })),
    headers: { 'content-type': 'application/octet-stream', 'x-nuget-apikey': KEY },
  });
  expect(response.status, await response.text()).toBe(201);
}

describe.skipIf(clients.skip)('V2 autocomplete through NuGet.Protocol', () => {
  let server: PawketServer | undefined;
  let source: string;

  beforeAll(async () => {
    const building = buildProtocolClient();
    server = await startPawket({ env: { PAWKET_API_KEY: KEY } });
    source = `${server.baseUrl}/api/v2/`;
    for (const version of ['1.0.0', '1.2.0', '2.0.0-beta.1', '10.0.0']) await push(server, 'Contoso.Widgets', version);
    await push(server, 'Contoso.Core', '1.0.0');
    await push(server, 'Contoso.Nightly', '0.1.0-preview');
    await push(server, 'Unrelated.Lib', '1.0.0');
    await building;
  }, 360_000);

  afterAll(async () => {
    await server?.stop();
    await removeProtocolClient();
  });

  it('IdStartsWith completes ids through the V2 resource, stable ones unless prereleases are asked for', async () => {
    const stable = await idStartsWith(source, 'Contoso', false);
    expect(stable.resource).toBe(V2_RESOURCE);
    expect(stable.values).toEqual(['Contoso.Core', 'Contoso.Widgets']);
    const all = await idStartsWith(source, 'contoso.', true);
    expect(all.values).toEqual(['Contoso.Core', 'Contoso.Nightly', 'Contoso.Widgets']);
    expect((await idStartsWith(source, 'Nothing.Like.This', true)).values).toEqual([]);
  });

  it('VersionStartsWith completes the versions of an id that start with the typed text', async () => {
    expect((await versionStartsWith(source, 'Contoso.Widgets', '', false)).values).toEqual(['1.0.0', '1.2.0', '10.0.0']);
    expect((await versionStartsWith(source, 'Contoso.Widgets', '1', false)).values).toEqual(['1.0.0', '1.2.0', '10.0.0']);
    expect((await versionStartsWith(source, 'contoso.widgets', '2', true)).values).toEqual(['2.0.0-beta.1']);
    expect((await versionStartsWith(source, 'Unknown.Id', '', true)).values).toEqual([]);
  });

  it('works on a private feed with the credentials a nuget.config would give', async () => {
    const closed = await startPawket({ env: { PAWKET_API_KEY: KEY, PAWKET_PRIVATE: 'true' } });
    try {
      await push(closed, 'Secret.Lib', '1.0.0');
      const closedSource = `${closed.baseUrl}/api/v2/`;
      expect((await idStartsWith(closedSource, 'Secret', false, { password: KEY })).values).toEqual(['Secret.Lib']);
      expect((await versionStartsWith(closedSource, 'Secret.Lib', '', false, { password: KEY })).values).toEqual(['1.0.0']);
    } finally {
      await closed.stop();
    }
  });
});
