/** Scopes an API key may carry; `admin` implies every other one. */
/** `stage`: stage packages (docs/STAGING.md) and nothing else; a push needs `push` or `push-new`. */
export const KEY_SCOPES = ['push-new', 'push', 'unlist', 'read', 'stage', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

/** An API key as stored: never the key itself, only its hash. */
export interface ApiKeyRecord {
  /** Public identifier, safe to show and log (e.g. `k3f9a1c02bd`). */
  readonly keyId: string;
  /** The key's last four characters, to tell keys apart in lists. */
  readonly hint: string;
  readonly name: string;
  /** A user or team name (lower case); the owner of what the key pushes first. */
  readonly owner: string;
  readonly scopes: readonly KeyScope[];
  /** Glob patterns on package ids (`Contoso.*`); empty means any id. */
  readonly patterns: readonly string[];
  /** ISO 8601 times. */
  readonly created: string;
  readonly createdBy: string;
  readonly expires: string | null;
  readonly lastUsed: string | null;
  readonly revoked: string | null;
  /** Ids of the feeds the key is valid on; null: every feed (bootstrap keys, `--feeds '*'`, keys older than feeds). */
  readonly feeds: readonly number[] | null;
  /** The person who made the key: it works while they are enabled. Null: made by an admin or the command line. */
  readonly userId?: number | null;
}

export interface StoredApiKey extends ApiKeyRecord {
  /** Hex SHA-256 of the key. */
  readonly hash: string;
}

/** An id prefix reserved for one owner: `contoso.*` (a prefix) or `contoso.core` (one id), lower case. */
export interface PrefixReservation {
  readonly pattern: string;
  readonly owner: string;
  readonly created: string;
}

/** Whether an id is registered (pushed once, or given owners), and by whom it is owned. */
export interface Registration {
  readonly registered: boolean;
  readonly owners: readonly string[];
}

/** A registered id with its registration time and owners, as copied between feeds. */
export interface RegisteredId {
  readonly lowerId: string;
  readonly created: string;
  readonly owners: readonly string[];
}

export interface AuditEntry {
  readonly seq: number;
  /** The feed it happened in (keys are the server's: their entries name the feed the command acted from). */
  readonly feedId: number;
  /** ISO 8601 time. */
  readonly at: string;
  /** Key id of the actor, or null (command line, configured key). */
  readonly keyId: string | null;
  /** Who: a key's name and id, `configured key #1`, or `cli (user)`. */
  readonly actor: string;
  readonly owner: string | null;
  /** What: `push`, `unlist`, `relist`, `delete`, `push.denied`, `key.create`, `owner.add`, `prefix.reserve`... */
  readonly action: string;
  /** What it was done to: `Contoso.Lib 1.0.0`, a key id, an id, a prefix. */
  readonly target: string;
  readonly detail: string | null;
  /** The remote address of the request; null from the command line. */
  readonly address: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'seq' | 'feedId'>;

export interface AuditQuery {
  readonly limit: number;
  /** Only entries of this feed (default: every feed's). */
  readonly feedId?: number;
  /** Only entries with seq below this (paging back in time). */
  readonly before?: number;
  readonly action?: string;
  readonly keyId?: string;
  /** Entries by this key id, actor (a person's user name, `cli (user)`) or owner acted for. */
  readonly who?: string;
  /** Entries about this package id or key id or prefix (the target, or its first word; case-insensitive). */
  readonly target?: string;
}

/**
 * Access control data, in the same database as the packages: keys, ownership, prefix reservations, audit log.
 * Changes that other nodes must see (owners, prefixes) also record a row in `changes` (see ACCESS_CHANGE_MARKER).
 */
export interface AccessDatabase {
  insertKey(key: StoredApiKey): Promise<void>;
  findKeyByHash(hash: string): Promise<StoredApiKey | null>;
  getKey(keyId: string): Promise<ApiKeyRecord | null>;
  listKeys(): Promise<ApiKeyRecord[]>;
  /** The keys a person made (ApiKeyRecord.userId), oldest first. */
  listKeysOf(userId: number): Promise<ApiKeyRecord[]>;
  /** Keys neither revoked nor expired at `now`. */
  countUsableKeys(now: string): Promise<number>;
  /** False when there is no such key or it was revoked already. */
  revokeKey(keyId: string, at: string): Promise<boolean>;
  /**
   * Gives a key that is not revoked a new secret (the old one stops working), creation time and expiry; false when
   * there is no such key.
   */
  replaceKeyHash(keyId: string, hash: string, hint: string, created: string, expires: string | null): Promise<boolean>;
  touchKey(keyId: string, at: string): Promise<void>;
  /** Every key with its hash, oldest first: only for copying a feed (a hash is never shown or logged). */
  listStoredKeys(): Promise<StoredApiKey[]>;
  /** Inserts a key, or overwrites every column of the one with its key id, exactly as given (copying a feed). */
  putKey(key: StoredApiKey): Promise<void>;

  registration(lowerId: string): Promise<Registration>;
  /** Which of these ids are registered (a virtual feed leaves them out of later members' search hits). */
  registeredAmong(lowerIds: readonly string[]): Promise<Set<string>>;
  /** Whether some version of the id exists (registered or not: packages copied in from elsewhere are not). */
  hasPackages(lowerId: string): Promise<boolean>;
  /** Registers an unregistered id with these owners; false when it is registered already (someone else won). */
  claimId(lowerId: string, owners: readonly string[], at: string): Promise<boolean>;
  /** Adds an owner (registering the id if needed); false when already an owner. */
  addOwner(lowerId: string, owner: string, at: string): Promise<boolean>;
  /** False when not an owner. */
  removeOwner(lowerId: string, owner: string): Promise<boolean>;
  /** Lower ids this owner owns, sorted. */
  idsOwnedBy(owner: string): Promise<string[]>;
  /** (id, owner) pairs of these owners: what the verified-id cache loads. */
  ownershipsOf(owners: readonly string[]): Promise<Array<{ lowerId: string; owner: string }>>;
  /** Every registered id with its time and owners, sorted by id (copying a feed). */
  listRegistrations(): Promise<RegisteredId[]>;
  /** Registers the id at its original time if it is not, and adds the owners it lacks; false when nothing changed. */
  copyRegistration(registration: RegisteredId): Promise<boolean>;

  /** False when the pattern is reserved already. */
  reservePrefix(reservation: PrefixReservation): Promise<boolean>;
  releasePrefix(pattern: string): Promise<boolean>;
  listPrefixes(): Promise<PrefixReservation[]>;

  appendAudit(entry: NewAuditEntry): Promise<void>;
  /** Appends entries in the given order, in one transaction (copying a server): each in the feed it names, else this one. */
  appendAuditEntries(entries: ReadonlyArray<NewAuditEntry & { readonly feedId?: number }>): Promise<void>;
  /** Entries with seq above `after`, oldest first, at most `limit` (copying a feed). */
  scanAudit(after: number, limit: number): Promise<AuditEntry[]>;
  /** Newest first. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;
}

/**
 * The `changes` row an owner or prefix change records: not a package id (ids cannot start with `#`), so the change
 * feed carries it to every node, where the verified-id cache reloads.
 */
export const ACCESS_CHANGE_MARKER = '#access';
