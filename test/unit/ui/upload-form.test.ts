/**
 * The upload page's form without JavaScript (`POST /upload`): a push with the key in a form field, answered with
 * an HTML page carrying the push endpoint's status and message; the key is checked before the file is stored.
 */
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { pushRaw, startTestServer, TEST_KEY, type TestServer } from '../../support/app.js';
import { buildNupkg } from '../../support/nupkg.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Posts the form as a browser does: fields in the form's order (the key, then the file). */
function postForm(url: string, parts: ReadonlyArray<readonly [string, string | Buffer]>, headers: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([new Uint8Array(value)]), 'package.nupkg');
  }
  return fetch(`${url}/upload`, { method: 'POST', body: form, headers });
}

/** The message the page shows in its status box, as text. */
function statusText(page: string): string {
  const box = /<div id="upload-status" class="status (ok|bad)"[^>]*>([\s\S]*?)<\/div>/.exec(page);
  if (!box) throw new Error(`no status box in the page:\n${page}`);
  return `${box[1]}: ${box[2]!.replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').trim()}`;
}

async function pushMessage(response: Response): Promise<string> {
  return (await response.text()).trim();
}

describe('upload form', () => {
  it('pushes the package and answers with a page linking to it', async () => {
    server = await startTestServer();
    const pkg = await buildNupkg({ id: 'Contoso.Form', version: '1.2.3' });
    const res = await postForm(server.url, [['apikey', TEST_KEY], ['package', pkg]]);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await res.text();
    expect(statusText(page)).toBe('ok: Package Contoso.Form 1.2.3 was pushed. Open Contoso.Form 1.2.3');
    expect(page).toContain('<a href="/packages/Contoso.Form/1.2.3">');
    // The form is there again, for the next package.
    expect(page).toContain('<form class="upload" action="/upload" method="post" enctype="multipart/form-data">');
    const download = await fetch(`${server.url}/v3/flatcontainer/contoso.form/1.2.3/contoso.form.1.2.3.nupkg`);
    expect(Buffer.from(await download.arrayBuffer()).equals(pkg)).toBe(true);
  });

  it('answers with the push endpoint\'s statuses and messages', async () => {
    server = await startTestServer({ maxPackageSize: 64 * 1024 });
    const pkg = await buildNupkg({ id: 'Contoso.Same', version: '1.0.0' });
    const cases: { parts: ReadonlyArray<readonly [string, string | Buffer]>; push: () => Promise<Response> }[] = [
      { parts: [['apikey', 'wrong-key'], ['package', pkg]], push: () => pushRaw(server!.url, pkg, 'wrong-key') },
      { parts: [['package', pkg]], push: () => pushRaw(server!.url, pkg, null) },
      { parts: [['apikey', TEST_KEY], ['package', Buffer.from('not a zip')]], push: () => pushRaw(server!.url, Buffer.from('not a zip')) },
      { parts: [['apikey', TEST_KEY], ['package', Buffer.alloc(0)]], push: () => pushRaw(server!.url, Buffer.alloc(0)) },
      { parts: [['apikey', TEST_KEY], ['package', Buffer.alloc(100 * 1024, 7)]], push: () => pushRaw(server!.url, Buffer.alloc(100 * 1024, 7)) },
    ];
    for (const c of cases) {
      const expected = await c.push();
      const message = await pushMessage(expected);
      const res = await postForm(server.url, c.parts);
      expect(res.status, message).toBe(expected.status);
      expect(statusText(await res.text())).toBe(`bad: ${message}`);
    }
    expect((await postForm(server.url, [['apikey', TEST_KEY], ['package', pkg]])).status).toBe(201);
    const duplicate = await postForm(server.url, [['apikey', TEST_KEY], ['package', pkg]]);
    const pushed = await pushRaw(server.url, pkg);
    expect([duplicate.status, pushed.status]).toEqual([409, 409]);
    expect(statusText(await duplicate.text())).toBe(`bad: ${await pushMessage(pushed)}`);
  });

  it('takes the key only from the form: Basic credentials and key headers are not enough (CSRF)', async () => {
    server = await startTestServer({ private: true });
    const pkg = await buildNupkg({ id: 'Contoso.Csrf', version: '1.0.0' });
    const basic = `Basic ${Buffer.from(`me:${TEST_KEY}`).toString('base64')}`;
    const cross = await postForm(server.url, [['package', pkg]], { authorization: basic, 'x-nuget-apikey': TEST_KEY });
    expect(cross.status).toBe(401);
    expect(cross.headers.get('www-authenticate')).toBeNull();
    // On a private feed the form's key is enough, without Basic credentials.
    expect((await postForm(server.url, [['apikey', TEST_KEY], ['package', pkg]])).status).toBe(201);
  });

  it('checks the key before it reads the file: a refusal comes while the file is still being sent', async () => {
    server = await startTestServer();
    const { hostname, port } = new URL(server.url);
    const boundary = 'pawketboundary';
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: hostname,
        port,
        path: '/upload',
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(10 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        req.destroy();
      });
      req.on('error', (e) => reject(e));
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="apikey"\r\n\r\nwrong-key\r\n`);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="package"; filename="p.nupkg"\r\nContent-Type: application/octet-stream\r\n\r\n`);
      req.write(Buffer.alloc(64 * 1024));
      // The rest of the 10 MiB never comes.
    });
    expect(status).toBe(401);
    expect(await readdir(server.feed.tempDir)).toEqual([]);
  });

  it('refuses a body that is not a form', async () => {
    server = await startTestServer();
    const res = await fetch(`${server.url}/upload`, { method: 'POST', body: 'apikey=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(400);
    expect(statusText(await res.text())).toBe('bad: The upload form must be sent as multipart/form-data.');
  });
});
