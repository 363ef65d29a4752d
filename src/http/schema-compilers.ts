import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

// Fastify's own dependencies, resolved from where fastify is installed.
const requireFromFastify = createRequire(import.meta.resolve('fastify'));

/** A compiler factory that loads the real one (a module exporting a factory maker) when it is first called. */
function loadedOnUse(module: string): (...args: unknown[]) => unknown {
  return (...args) => (requireFromFastify(module) as () => (...args: unknown[]) => unknown)()(...args);
}

/**
 * Fastify's JSON-schema compilers (ajv for validation, fast-json-stringify for serialization), loaded the first time a
 * route declares a schema instead of when the server is created. Pawket's routes declare none (request bodies are
 * checked with zod), so a server never loads ajv: it was a tenth of the start-up time.
 */
export const lazySchemaCompilers = {
  compilersFactory: {
    buildValidator: loadedOnUse('@fastify/ajv-compiler') as CompilersFactory['buildValidator'],
    buildSerializer: loadedOnUse('@fastify/fast-json-stringify-compiler') as CompilersFactory['buildSerializer'],
  },
};
