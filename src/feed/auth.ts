import { createHash, timingSafeEqual } from 'node:crypto';
import { PawketError } from '../errors.js';

/** Who is calling, once a key checked out. */
export interface Principal {
  /** A label safe to log: never the key itself. */
  readonly name: string;
}

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/**
 * Checks push keys. Until key management lands, the keys come from configuration; `authorizePush` is the hook where
 * scopes and ownership will decide 403s.
 */
export class ApiKeyAuthenticator {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  /** Throws 401 with a message saying what to do; comparison is constant-time over fixed-length digests. */
  authenticate(apiKey: string | undefined): Principal {
    if (this.digests.length === 0) {
      throw new PawketError(
        401,
        'Pushing is disabled: this feed has no API key configured. Set PAWKET_API_KEY (or "apiKeys" in the config file) on the server, then push with --api-key.',
      );
    }
    if (!apiKey) throw new PawketError(401, 'An API key is required: pass one with --api-key (header X-NuGet-ApiKey).');
    const given = digest(apiKey);
    const index = this.digests.findIndex((d) => timingSafeEqual(d, given));
    if (index < 0) throw new PawketError(401, 'The API key is invalid or has been revoked: check the key passed with --api-key (header X-NuGet-ApiKey).');
    return { name: `key#${index + 1}` };
  }

  /** May this principal push (or unlist/delete) this package id? Every valid key may, for now. */
  authorizePush(_principal: Principal, _id: string): void {}
}
