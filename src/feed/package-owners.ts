import { notFound } from '../errors.js';
import type { PackageAccess } from './access.js';
import type { Principal } from './auth.js';
import { ownerName, type Ownership } from './ownership.js';

/** Which owner names exist: users and organisations share one namespace (people/). */
export interface OwnerNames {
  isOwnerNameTaken(lowerName: string): Promise<boolean>;
}

/**
 * Owners of an id managing its owners (the web UI's package page): the access rules say who may (an owner with the
 * unlist scope, or an admin), Ownership changes the rows and audits them with the principal as actor. Admins manage
 * owners of any id through the command line and the admin API too (ownership.ts, without these checks).
 */
export class PackageOwners {
  constructor(
    private readonly access: Pick<PackageAccess, 'authorizeOwners'>,
    private readonly ownership: Pick<Ownership, 'owners' | 'addOwner' | 'removeOwner'>,
    private readonly names: OwnerNames,
  ) {}

  owners(id: string): Promise<string[]> {
    return this.ownership.owners(id);
  }

  /**
   * Adds a user or organisation as owner; false when it already was one. A name nobody has is refused (404): an id
   * given to a mistyped name would belong to whoever takes that name later.
   */
  async add(principal: Principal, id: string, owner: string): Promise<boolean> {
    await this.access.authorizeOwners(principal, id);
    const name = ownerName(owner);
    if (!(await this.names.isOwnerNameTaken(name))) throw notFound(`There is no user or organisation named ${name}.`);
    return this.ownership.addOwner(principal, id, name);
  }

  /** Removes an owner; 404 for a name that is not one, 409 for the last owner. */
  async remove(principal: Principal, id: string, owner: string): Promise<void> {
    await this.access.authorizeOwners(principal, id);
    await this.ownership.removeOwner(principal, id, owner);
  }
}
