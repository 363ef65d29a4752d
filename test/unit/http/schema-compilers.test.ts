import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from '../../../src/http/schema-compilers.js';

describe('Fastify with the schema compilers loaded on first use', () => {
  it('still validates a body and serializes a response when a route declares schemas', async () => {
    const app = Fastify({ schemaController: lazySchemaCompilers });
    app.post(
      '/echo',
      {
        schema: {
          body: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
          response: { 200: { type: 'object', properties: { n: { type: 'number' } } } },
        },
      },
      async (request) => ({ n: (request.body as { n: number }).n, secret: 'not in the schema' }),
    );
    try {
      const refused = await app.inject({ method: 'POST', url: '/echo', payload: { m: 1 } });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().message).toContain("must have required property 'n'");
      const answered = await app.inject({ method: 'POST', url: '/echo', payload: { n: 2 } });
      expect(answered.statusCode).toBe(200);
      expect(answered.json()).toEqual({ n: 2 });
    } finally {
      await app.close();
    }
  });
});
