import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWebhookUrl, isPrivateAddress, sendWebhook, signatureOf } from '../../../src/feed/webhook-sender.js';

describe('webhook addresses', () => {
  it('knows private, loopback and link-local addresses from public ones', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', 'example.com']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('accepts http(s) URLs only, and private literal hosts only when allowed', () => {
    expect(checkWebhookUrl('https://hooks.example.com/x', false)).toBe('https://hooks.example.com/x');
    expect(() => checkWebhookUrl('ftp://hooks.example.com/x', true)).toThrow(/http\(s\)/);
    expect(() => checkWebhookUrl('not a url', true)).toThrow(/http\(s\)/);
    expect(() => checkWebhookUrl('http://127.0.0.1:8080/x', false)).toThrow(/private or loopback/);
    expect(() => checkWebhookUrl('http://[::1]/x', false)).toThrow(/private or loopback/);
    expect(() => checkWebhookUrl('http://localhost/x', false)).toThrow(/private or loopback/);
    expect(checkWebhookUrl('http://127.0.0.1:8080/x', true)).toBe('http://127.0.0.1:8080/x');
  });
});

describe('sending a webhook', () => {
  let server: Server;
  let port: number;
  const seen: Array<{ signature: string; body: string }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ signature: String(req.headers['x-pawket-signature-256']), body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs the body with HMAC-SHA256 of the secret', async () => {
    const result = await sendWebhook(`http://127.0.0.1:${port}/`, 's3cret-s3cret-s3cret', { event: 'ping', deliveryId: 'd1' }, '{"a":1}', { timeoutMs: 2000, allowPrivateAddresses: true });
    expect(result).toEqual({ statusCode: 204, error: null });
    expect(seen.at(-1)).toEqual({ body: '{"a":1}', signature: 'sha256=' + createHmac('sha256', 's3cret-s3cret-s3cret').update('{"a":1}').digest('hex') });
    expect(signatureOf('s3cret-s3cret-s3cret', '{"a":1}')).toBe(seen.at(-1)!.signature);
  });

  it('refuses a name that resolves to a loopback address unless allowed, before connecting', async () => {
    const before = seen.length;
    const refused = await sendWebhook(`http://localhost:${port}/`, 'x'.repeat(16), { event: 'ping', deliveryId: 'd2' }, '{}', { timeoutMs: 2000, allowPrivateAddresses: false });
    expect(refused.statusCode).toBeNull();
    expect(refused.error).toMatch(/private address/);
    const literal = await sendWebhook(`http://127.0.0.1:${port}/`, 'x'.repeat(16), { event: 'ping', deliveryId: 'd3' }, '{}', { timeoutMs: 2000, allowPrivateAddresses: false });
    expect(literal.error).toMatch(/private address/);
    expect(seen.length).toBe(before);
  });
});
