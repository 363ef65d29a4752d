import { z } from 'zod';

const MiB = 1024 * 1024;

const boolish = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((s) => ['true', '1', 'yes'].includes(s)),
]);

const keyList = z.union([
  z.array(z.string().min(1)),
  z.string().transform((s) => s.split(',').map((k) => k.trim()).filter((k) => k.length > 0)),
]);

/**
 * The one configuration schema. File, environment and flags are merged (flags win, then environment, then file)
 * and validated here once at start-up; a bad value stops start-up with a message naming the key.
 */
export const configSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    port: z.coerce.number().int().min(0).max(65535).default(5000),
    dataDir: z.string().min(1).default('./data'),
    /** Public URL of the feed when behind a proxy (e.g. https://nuget.example.com); derived from requests otherwise. */
    baseUrl: z.url().optional(),
    /** Push keys until key management lands; several allowed. */
    apiKeys: keyList.default([]),
    /** Let a push replace an existing id+version (NuGet.Server's allowOverwrite). */
    allowOverwrite: boolish.default(false),
    /** What `dotnet nuget delete` does: hide the version (nuget.org) or remove it for good. */
    deleteMode: z.enum(['unlist', 'delete']).default('unlist'),
    maxPackageSize: z.coerce.number().int().positive().default(250 * MiB),
    maxPackageEntries: z.coerce.number().int().positive().default(20_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
