import { FEED_SETTINGS, type FeedSettingName, type FeedSettings } from '../config/schema.js';
import type { FeedRecord, FeedUsage } from '../db/feed-database.js';
import { DEFAULT_FEED_ID } from '../db/feed-migrations.js';
import { KyselyAccessDatabase } from '../db/kysely-access-database.js';
import { KyselySymbolDatabase } from '../db/kysely-symbol-database.js';
import { badRequest, notFound, PawketError } from '../errors.js';
import { AuditLog } from './audit.js';
import type { Actor } from './auth.js';
import { checkFeedName, parseFeedSettings, refusePrivateUnderReadBaseUrl, type FeedDefinition } from './feed-definitions.js';
import type { FeedHub } from './hub.js';

/** Settings about storing packages: a virtual feed stores none, so it has none of them. */
export const STORAGE_SETTINGS: readonly FeedSettingName[] = [
  'allowOverwrite',
  'deleteMode',
  'maxPackageSize',
  'retentionKeepStable',
  'retentionKeepPrerelease',
  'retentionAction',
  'quotaBytes',
  'quotaPackages',
  'upstreams',
];

const MAX_DESCRIPTION = 1000;
const MAX_MEMBERS = 50;
const DELETE_CONCURRENCY = 8;

export interface NewFeedInput {
  readonly name: string;
  readonly description?: string | undefined;
  /** The feed's own settings (checked by `feedSettingsSchema`). */
  readonly settings?: unknown;
  /** Member feed names, in order: the feed is virtual. */
  readonly members?: readonly string[] | null | undefined;
}

export interface FeedChangeInput {
  readonly description?: string | undefined;
  /** Settings to set; a null value takes the setting back to the configuration's. */
  readonly settings?: Record<string, unknown> | undefined;
  /** A virtual feed's new member list (names, in order). */
  readonly members?: readonly string[] | undefined;
}

/** A feed as `feeds list|show` and the admin API show it. */
export interface FeedSummary {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly kind: 'feed' | 'virtual';
  /** Member feed names, in order (virtual feeds). */
  readonly members: readonly string[] | null;
  /** The feed's own settings: what differs from the configuration. */
  readonly settings: FeedSettings;
  /** Every setting that applies to the feed, with its value (its own, else the configuration's). */
  readonly effective: Record<string, unknown>;
  readonly created: string;
  readonly packages: number;
  readonly bytes: number;
}

const NO_USAGE: FeedUsage = { packages: 0, bytes: 0 };

/**
 * Creating, changing and deleting feeds (`pawket feeds`, the admin API). Each write is audited in the default feed's
 * log (feeds are the server's, like keys), and the definitions are reloaded at once: this process serves the change on
 * its next request, other nodes when they read the `#feeds` change row.
 */
export class FeedAdmin {
  private readonly audit: AuditLog;

  constructor(private readonly hub: FeedHub) {
    this.audit = new AuditLog(new KyselyAccessDatabase(hub.shared.kysely, DEFAULT_FEED_ID));
  }

  async list(): Promise<FeedSummary[]> {
    await this.hub.reloadDefinitions();
    const usage = await this.hub.feedDb.usage();
    return this.hub.definitions().map((d) => this.summary(d, usage.get(d.id) ?? NO_USAGE));
  }

  async show(name: string): Promise<FeedSummary> {
    await this.hub.reloadDefinitions();
    const definition = this.existing(name);
    return this.summary(definition, (await this.hub.feedDb.usage()).get(definition.id) ?? NO_USAGE);
  }

  async create(actor: Actor, input: NewFeedInput): Promise<FeedSummary> {
    const name = checkFeedName(input.name);
    const description = checkDescription(input.description ?? '');
    const settings = parseFeedSettings(input.settings);
    await this.hub.reloadDefinitions();
    const members = input.members == null ? null : this.memberIds(input.members);
    if (members) refuseStorageSettings(name, settings);
    refusePrivateUnderReadBaseUrl({ ...this.hub.shared.config, ...settings }, { name, virtual: members !== null });
    const existing = this.hub.definition(name);
    if (existing) throw taken(existing.name);
    const record = await this.hub.feedDb.createFeed({ name, description, settings, members, created: new Date().toISOString() });
    if (!record) throw taken(name);
    await this.hub.reloadDefinitions();
    await this.audit.record(actor, 'feed.create', record.name, describe(record, this.hub));
    return this.summary(this.hub.definitionById(record.id)!, NO_USAGE);
  }

  async update(actor: Actor, name: string, change: FeedChangeInput): Promise<FeedSummary> {
    await this.hub.reloadDefinitions();
    const definition = this.existing(name);
    const stored = (await this.hub.feedDb.listFeeds()).find((r) => r.id === definition.id);
    if (!stored) throw noSuchFeed(name);
    const isDefault = definition.id === DEFAULT_FEED_ID;
    let settings = definition.settings;
    if (change.settings !== undefined) {
      if (isDefault && Object.keys(change.settings).length > 0) {
        throw badRequest(`The default feed runs with the server's configuration: set '${Object.keys(change.settings)[0]}' in the configuration file or environment instead.`);
      }
      settings = mergeSettings(settings, change.settings);
    }
    let members = stored.members;
    if (change.members !== undefined) {
      if (stored.members === null) throw badRequest(`'members': the feed '${definition.name}' holds packages; only a virtual feed has members.`);
      members = this.memberIds(change.members, definition.id);
    }
    if (members) refuseStorageSettings(definition.name, settings);
    refusePrivateUnderReadBaseUrl({ ...this.hub.shared.config, ...settings }, { name: definition.name, virtual: members !== null });
    const description = change.description === undefined ? stored.description : checkDescription(change.description);
    const next: FeedRecord = { ...stored, description, settings, members };
    if (!(await this.hub.feedDb.updateFeed(next))) throw noSuchFeed(name);
    await this.hub.reloadDefinitions();
    await this.audit.record(actor, 'feed.update', definition.name, describe(next, this.hub));
    return this.show(definition.name);
  }

  /**
   * Deletes a feed with its rows, then its files. Refused for the default feed, a member of a virtual feed, and a feed
   * holding packages unless `force`.
   */
  async delete(actor: Actor, name: string, opts: { force?: boolean } = {}): Promise<{ feed: FeedSummary; files: number; failedFiles: number }> {
    await this.hub.reloadDefinitions();
    const definition = this.existing(name);
    if (definition.id === DEFAULT_FEED_ID) throw badRequest('The default feed cannot be deleted: it is the feed at the server\'s unprefixed URLs.');
    const parents = this.hub.definitions().filter((d) => d.members?.includes(definition.id));
    if (parents.length) {
      const names = parents.map((p) => `'${p.name}'`).join(', ');
      throw new PawketError(409, `The feed '${definition.name}' is a member of the virtual feed${parents.length > 1 ? 's' : ''} ${names}: remove it from their members first.`);
    }
    const usage = (await this.hub.feedDb.usage()).get(definition.id) ?? NO_USAGE;
    if (usage.packages > 0 && !opts.force) {
      throw new PawketError(409, `The feed '${definition.name}' holds ${usage.packages} package${usage.packages === 1 ? '' : 's'}: pass --force (admin API: ?force=true) to delete it with them.`);
    }
    const summary = this.summary(definition, usage);
    const blobKeys = await this.hub.feedDb.deleteFeed(definition.id);
    if (blobKeys === null) throw noSuchFeed(name);
    await this.hub.reloadDefinitions();
    // The rows are gone; a file another feed's row still references (a promoted copy may share it) stays. One that
    // fails to go is an orphan `pawket gc` removes.
    const keys = [...new Set(blobKeys)];
    const { db, kysely, blobs, onError } = this.hub.shared;
    const symbolDb = new KyselySymbolDatabase(kysely);
    let failedFiles = 0;
    // A few at a time: an object store answers each delete in a round trip.
    const worker = async () => {
      for (let key = keys.pop(); key !== undefined; key = keys.pop()) {
        try {
          if ((await db.isBlobReferenced(key)) || (await symbolDb.isSymbolBlobReferenced(key))) continue;
          await blobs.delete(key);
        } catch (err) {
          failedFiles++;
          onError(err);
        }
      }
    };
    await Promise.all(Array.from({ length: DELETE_CONCURRENCY }, worker));
    await this.audit.record(actor, 'feed.delete', definition.name, `${usage.packages} packages, ${blobKeys.length} files`);
    return { feed: summary, files: blobKeys.length, failedFiles };
  }

  private existing(name: string): FeedDefinition {
    const definition = this.hub.definition(name);
    if (!definition) throw noSuchFeed(name);
    return definition;
  }

  /** Member names to ids: each must exist, hold packages (not be virtual itself), and appear once. */
  private memberIds(names: readonly string[], self?: number): number[] {
    if (names.length === 0) throw badRequest("'members': a virtual feed needs at least one member feed.");
    if (names.length > MAX_MEMBERS) throw badRequest(`'members': at most ${MAX_MEMBERS} member feeds.`);
    const ids: number[] = [];
    for (const name of names) {
      const member = this.hub.definition(name);
      if (!member) throw badRequest(`'members': there is no feed '${name.slice(0, 80)}'.`);
      if (member.virtual || member.id === self) throw badRequest(`'members': '${member.name}' is a virtual feed; the members of a virtual feed hold packages.`);
      if (ids.includes(member.id)) throw badRequest(`'members': '${member.name}' is named twice.`);
      ids.push(member.id);
    }
    return ids;
  }

  private summary(definition: FeedDefinition, usage: FeedUsage): FeedSummary {
    const applies = FEED_SETTINGS.filter((k) => !definition.virtual || !STORAGE_SETTINGS.includes(k));
    return {
      id: definition.id,
      name: definition.name,
      description: definition.description,
      kind: definition.virtual ? 'virtual' : 'feed',
      members: definition.members?.map((id) => this.hub.definitionById(id)?.name ?? `#${id}`) ?? null,
      settings: definition.settings,
      effective: Object.fromEntries(applies.map((k) => [k, definition.config[k]])),
      created: definition.created,
      packages: usage.packages,
      bytes: usage.bytes,
    };
  }
}

function checkDescription(description: string): string {
  if (description.length > MAX_DESCRIPTION) throw badRequest(`'description': at most ${MAX_DESCRIPTION} characters.`);
  return description;
}

/** Sets the given settings, and takes those given as null back to the configuration's value. */
function mergeSettings(current: FeedSettings, change: Record<string, unknown>): FeedSettings {
  const unset = Object.keys(change).filter((k) => change[k] === null);
  const unknown = unset.find((k) => !(FEED_SETTINGS as readonly string[]).includes(k));
  if (unknown !== undefined) parseFeedSettings({ [unknown]: null });
  const set = parseFeedSettings(Object.fromEntries(Object.entries(change).filter(([, v]) => v !== null)));
  const merged: Record<string, unknown> = { ...current, ...set };
  for (const k of unset) delete merged[k];
  return merged as FeedSettings;
}

function refuseStorageSettings(name: string, settings: FeedSettings): void {
  const found = STORAGE_SETTINGS.find((k) => settings[k] !== undefined);
  if (found) throw badRequest(`Feed setting '${found}': '${name}' is a virtual feed, which stores no packages; set it on its member feeds.`);
}

function describe(record: FeedRecord, hub: FeedHub): string {
  const parts = [];
  if (record.members) parts.push(`members: ${record.members.map((id) => hub.definitionById(id)?.name ?? `#${id}`).join(', ')}`);
  const settings = Object.entries(record.settings);
  if (settings.length) parts.push(`settings: ${JSON.stringify(Object.fromEntries(settings))}`);
  return parts.join('; ');
}

const taken = (name: string) => new PawketError(409, `A feed named '${name}' exists already (feed names are compared without case).`);
const noSuchFeed = (name: string) => notFound(`There is no feed '${name.slice(0, 80)}' on this server.`);
