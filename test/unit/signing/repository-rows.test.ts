import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { KyselyPackageDatabase } from '../../../src/db/kysely-database.js';
import { KyselyStagingDatabase } from '../../../src/db/kysely-staging-database.js';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';
import { testPki, type TestPki } from '../../support/test-pki.js';

/** What repository signing keeps in the rows (both backends): the signer per version, the counts, the file swap. */
describe('repository-signed rows', () => {
  let pki: TestPki;
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    pki = await testPki();
    dir = await mkdtemp(join(tmpdir(), 'pawket-repo-rows-'));
    server = await startTestServer({
      baseUrl: 'https://nuget.example.test',
      repositorySigningCertificate: pki.repository.pfx,
      repositorySigningPassword: pki.repository.password,
    });
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores the signed file, its hash and its signer, and counts the signed versions', async () => {
    const pushed = await buildNupkg({ id: 'Rows.Signed', version: '1.0.0' });
    expect((await pushRaw(server.url, pushed)).status).toBe(201);
    const row = (await server.feed.db.getPackage('rows.signed', '1.0.0'))!;
    const served = Buffer.from(await (await fetch(`${server.url}/v3/flatcontainer/rows.signed/1.0.0/rows.signed.1.0.0.nupkg`)).arrayBuffer());
    expect(served.length).toBeGreaterThan(pushed.length);
    expect(row.size).toBe(served.length);
    expect(row.sha512).toBe(createHash('sha512').update(served).digest('base64'));
    const signature = (JSON.parse(row.metadata) as { signature: { repository: { sha256: string; serviceIndex: string; owners: string[] } } }).signature.repository;
    expect(signature.sha256).toBe(pki.repository.sha256);
    expect(signature.serviceIndex).toBe('https://nuget.example.test/v3/index.json');
    expect(await server.feed.db.countRepositorySigned([pki.repository.sha256, pki.otherAuthor.sha256])).toEqual({ [pki.repository.sha256]: 1, [pki.otherAuthor.sha256]: 0 });
    expect(await server.feed.db.countPackages()).toBe(1);

    // The file swap of `pawket resign` happens only while the row still points at the file it re-signed.
    const swap = { size: 1, sha512: 'x', blobKey: 'other', metadata: row.metadata };
    expect(await server.feed.db.replacePackageFile('rows.signed', '1.0.0', 'not-the-current-key', swap)).toBe(false);
    expect((await server.feed.db.getPackage('rows.signed', '1.0.0'))!.blobKey).toBe(row.blobKey);
    expect(await server.feed.db.replacePackageFile('rows.signed', '1.0.0', row.blobKey, { ...swap, blobKey: row.blobKey })).toBe(true);
    expect((await server.feed.db.getPackage('rows.signed', '1.0.0'))!.size).toBe(1);
  });

  it('signs staged packages (for the owner they are staged for) and mirrored ones before storing them', async () => {
    const form = new FormData();
    form.append('package', new Blob([new Uint8Array(await buildNupkg({ id: 'Rows.Staged', version: '1.0.0' }))]), 'x.nupkg');
    expect((await fetch(`${server.url}/v3/staging/package`, { method: 'PUT', body: form, headers: { 'x-nuget-apikey': TEST_KEY } })).status).toBe(201);
    const staged = await new KyselyStagingDatabase((server.feed.db as KyselyPackageDatabase).kysely, 1).getArtifact('package', 'rows.staged', '1.0.0', new Date().toISOString());
    const stagedSigner = (JSON.parse(staged!.metadata) as { signature: { repository: { sha256: string; owners: string[] } } }).signature.repository;
    expect(stagedSigner.sha256).toBe(pki.repository.sha256);
    expect(stagedSigner.owners.length).toBe(1);

    const origin = await startTestServer();
    const mirror = await startTestServer({
      baseUrl: 'https://mirror.example.test',
      upstreams: [{ url: `${origin.url}/v3/index.json`, timeoutMs: 5_000 }],
      repositorySigningCertificate: pki.repository.pfx,
      repositorySigningPassword: pki.repository.password,
    });
    try {
      const original = await buildNupkg({ id: 'Rows.Mirrored', version: '1.0.0' });
      expect((await pushRaw(origin.url, original)).status).toBe(201);
      const served = await fetch(`${mirror.url}/v3/flatcontainer/rows.mirrored/1.0.0/rows.mirrored.1.0.0.nupkg`);
      expect(served.status).toBe(200);
      const bytes = Buffer.from(await served.arrayBuffer());
      expect(bytes.length).toBeGreaterThan(original.length);
      const row = (await mirror.feed.db.getPackage('rows.mirrored', '1.0.0'))!;
      expect(row.sha512).toBe(createHash('sha512').update(bytes).digest('base64'));
      const signer = (JSON.parse(row.metadata) as { signature: { repository: { serviceIndex: string } } }).signature.repository;
      expect(signer.serviceIndex).toBe('https://mirror.example.test/v3/index.json');
    } finally {
      await mirror.close();
      await origin.close();
    }
  });

  it('needs an https baseUrl, and keeps the password out of its errors', async () => {
    const settings = { repositorySigningCertificate: pki.repository.pfx };
    expect(() => loadConfig({ flags: settings })).toThrow(/baseUrl.*https URL is required when repositorySigningCertificate is set/);
    expect(() => loadConfig({ flags: { ...settings, baseUrl: 'http://nuget.example.test' } })).toThrow(/baseUrl/);
    const { loadRepositorySigningKeys } = await import('../../../src/signing/repository-signer.js');
    const secret = 'not-the-password-4711';
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${secret}\n`);
    const failure = await loadRepositorySigningKeys({ repositorySigningCertificate: pki.repository.pfx, repositorySigningPasswordFile: passwordFile, repositorySigningPreviousCertificates: [] }).catch((e: Error) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(String(failure)).not.toContain(secret);
    expect(String(failure)).toContain('repositorySigningPassword');
    // The password file is read like the password (its last line break dropped).
    await writeFile(passwordFile, `${pki.repository.password}\n`);
    const keys = await loadRepositorySigningKeys({ repositorySigningCertificate: pki.repository.pfx, repositorySigningPasswordFile: passwordFile, repositorySigningPreviousCertificates: [pki.repository.certPem] });
    expect(keys!.current.sha256).toBe(pki.repository.sha256);
    // The current certificate is never also a previous one.
    expect(keys!.previous).toEqual([]);
    expect((await readFile(pki.repository.keyPem, 'utf8')).length).toBeGreaterThan(0);
  });
});
