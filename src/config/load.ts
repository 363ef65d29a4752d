import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema, type Config } from './schema.js';

const envName = (key: string) => `PAWKET_${key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}`;

/** Environment variables of each setting: `PAWKET_` + upper snake case (apiKeys also reads PAWKET_API_KEY). */
const envNames: Record<string, string[]> = Object.fromEntries(
  Object.keys(configSchema.def.shape ?? {}).map((key) => [key, key === 'apiKeys' ? ['PAWKET_API_KEY', envName(key)] : [envName(key)]]),
);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, names] of Object.entries(envNames)) {
    const name = names.find((n) => env[n] !== undefined && env[n] !== '');
    if (name) out[key] = env[name]!;
  }
  return out;
}

function fromFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`Cannot read the config file ${file}: ${(e as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`The config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function describe(error: z.ZodError, sources: Record<string, string>): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.join('.') || '(root)';
      const where = sources[String(issue.path[0])] ?? 'config';
      if (issue.code === 'unrecognized_keys') return `unknown setting(s) ${issue.keys.join(', ')} in ${where}`;
      return `setting "${key}" (from ${where}): ${issue.message}`;
    })
    .join('; ');
}

/**
 * Merges defaults < config file < environment < flags and validates the result.
 * @example loadConfig({ flags: { port: '8080' }, env: process.env })
 */
export function loadConfig(opts: { flags?: Record<string, unknown>; env?: NodeJS.ProcessEnv; file?: string }): Config {
  const file = opts.file ? fromFile(opts.file) : {};
  const env = fromEnv(opts.env ?? {});
  const flags = Object.fromEntries(Object.entries(opts.flags ?? {}).filter(([, v]) => v !== undefined));
  const sources: Record<string, string> = {};
  for (const k of Object.keys(file)) sources[k] = `config file ${opts.file}`;
  for (const k of Object.keys(env)) sources[k] = `environment ${envNames[k]?.join('/')}`;
  for (const k of Object.keys(flags)) sources[k] = `flag --${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
  const result = configSchema.safeParse({ ...file, ...env, ...flags });
  if (!result.success) throw new ConfigError(`Invalid configuration: ${describe(result.error, sources)}`);
  return result.data;
}
