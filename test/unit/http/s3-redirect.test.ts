import { afterAll, describe, expect, it } from 'vitest';
import { backend } from '../../support/backend.js';
import { buildNupkg } from '../../support/nupkg.js';
import { pushRaw, startTestServer, type TestServer } from '../../support/app.js';

// Presigned redirects exist only on object storage: this runs in the PostgreSQL + S3 pass of `npm test`.
describe.skipIf(backend !== 'postgres-s3')('downloads redirected to the object store', () => {
  let server: TestServer | undefined;
  afterAll(() => server?.close());

  it('answer 302 to a presigned URL that serves the same bytes', async () => {
    server = await startTestServer({ s3RedirectDownloads: true });
    const pkg = await buildNupkg({ id: 'Contoso.Redirected', version: '1.0.0' });
    expect((await pushRaw(server.url, pkg)).status).toBe(201);
    const url = `${server.url}/v3/flatcontainer/contoso.redirected/1.0.0/contoso.redirected.1.0.0.nupkg`;
    for (let i = 0; i < 2; i++) {
      // twice: the second answer comes from the restore fast path
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const location = res.headers.get('location')!;
      expect(location).toMatch(/X-Amz-Signature=/);
      const bytes = Buffer.from(await (await fetch(location)).arrayBuffer());
      expect(bytes.equals(pkg)).toBe(true);
    }
  });
});
