import { Option, type Command } from 'commander';
import type { FeedSettingName } from '../config/schema.js';
import { badRequest } from '../errors.js';

/**
 * Flags for common feed settings, each a shorthand for `--set name=value`: one mechanism, checked by the feed
 * settings schema (which reads strings as the configuration's environment values are read).
 */
const SHORTHANDS: ReadonlyArray<{ flags: string; setting: FeedSettingName; help: string }> = [
  { flags: '--private', setting: 'private', help: 'reads need a key (set private=false with --set)' },
  { flags: '--allow-overwrite', setting: 'allowOverwrite', help: 'a push may replace an existing version' },
  { flags: '--delete-mode <mode>', setting: 'deleteMode', help: 'what a delete does: unlist or delete' },
  { flags: '--max-package-size <bytes>', setting: 'maxPackageSize', help: 'largest package accepted, in bytes' },
  { flags: '--quota-bytes <bytes>', setting: 'quotaBytes', help: 'most bytes of packages the feed may hold (0: no limit)' },
  { flags: '--quota-packages <n>', setting: 'quotaPackages', help: 'most package versions the feed may hold (0: no limit)' },
  { flags: '--upstream <url>', setting: 'upstreams', help: 'an upstream service index, asked for what the feed lacks (repeatable)' },
  { flags: '--block-shadowing', setting: 'blockShadowing', help: "never serve an upstream's versions of an id pushed here" },
  { flags: '--keep-stable <n>', setting: 'retentionKeepStable', help: 'retention: newest stable versions kept per id (0: all)' },
  { flags: '--keep-prerelease <n>', setting: 'retentionKeepPrerelease', help: 'retention: newest prerelease versions kept per id (0: all)' },
  { flags: '--retention-action <action>', setting: 'retentionAction', help: 'retention: unlist or delete older versions' },
  { flags: '--signatures <mode>', setting: 'signatures', help: 'package signatures: accept (not checked), verify (a signature present must be valid) or require (author-signed)' },
  {
    flags: '--require-staging <patterns>',
    setting: 'requireStaging',
    help: "ids that must be staged, never pushed: id patterns, comma-separated (Contoso.*,Fabrikam.Core; repeatable; '' for none)",
  },
];

/** Shorthands that may be given several times. */
const REPEATABLE: readonly FeedSettingName[] = ['upstreams', 'requireStaging'];

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface SettingFlags {
  set?: string[];
  unset?: string[];
  [flag: string]: unknown;
}

/** Adds `--set key=value` (and `--unset key` when updating) and the shorthands to a command. */
export function settingOptions(command: Command, opts: { unset: boolean }): Command {
  command.option('--set <key=value>', 'a feed setting, e.g. allowOverwrite=true (repeatable; `pawket feeds show` lists them)', collect);
  if (opts.unset) command.option('--unset <key>', "take a setting back to the configuration's value (repeatable)", collect);
  for (const s of SHORTHANDS) {
    command.addOption(REPEATABLE.includes(s.setting) ? new Option(s.flags, s.help).argParser(collect) : new Option(s.flags, s.help));
  }
  return command;
}

/** The settings the flags ask for, as the admin API takes them: values to set, null for those to unset. */
export function settingsOf(flags: SettingFlags): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const s of SHORTHANDS) {
    const value = flags[camel(s.flags)];
    if (value === undefined) continue;
    if (s.setting === 'upstreams') settings[s.setting] = (value as string[]).map((url) => ({ url }));
    // Each value a comma list, as the schema reads one text.
    else if (s.setting === 'requireStaging') settings[s.setting] = (value as string[]).join(',');
    else settings[s.setting] = value === true ? 'true' : value;
  }
  for (const pair of flags.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw badRequest(`--set ${pair}: write it as key=value, e.g. --set allowOverwrite=true.`);
    const key = pair.slice(0, eq).trim();
    settings[key] = jsonOrText(key, pair.slice(eq + 1).trim());
  }
  for (const key of flags.unset ?? []) settings[key] = null;
  return settings;
}

/** `[...]` and `{...}` values are JSON (upstreams with allow lists); anything else is text for the schema to read. */
function jsonOrText(key: string, value: string): unknown {
  if (!/^[[{]/.test(value)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw badRequest(`--set ${key}: the value starts like JSON but is not valid JSON.`);
  }
}

/** Commander's property name of a flag: `--allow-overwrite <x>` is `allowOverwrite`. */
function camel(flags: string): string {
  return flags
    .split(' ')[0]!
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
