import { NO_ADVISORIES, type AdvisoryService, type IdAdvisories, type VulnerabilityData } from '../advisories.js';
import type { Vulnerability } from '../../nuget/advisory.js';
import type { UpstreamVulnerabilityFile } from '../upstream/vulnerabilities.js';
import type { VirtualMembers } from './members.js';
import { readOnly } from './read-only.js';
import type { VirtualReader } from './virtual-reader.js';

/** NuGet reads at most 16 vulnerability files from a source: ours is the first. */
const MAX_UPSTREAM_FILES = 15;

/**
 * Deprecations and advisories on a virtual feed: an id's are those of the member that serves it; the VulnerabilityInfo
 * data joins the members' (an id listed by several members: the first one's), and their upstreams' files come along.
 * Changing them is done in the member.
 */
export class VirtualAdvisories
  implements Pick<AdvisoryService, 'forId' | 'vulnerabilityData' | 'deprecate' | 'undeprecate' | 'fileVulnerability' | 'withdrawVulnerability'>
{
  /** The joined data and what it was joined from: the members hand out the same objects until something changes. */
  private joined: { from: readonly VulnerabilityData[]; data: VulnerabilityData } | undefined;

  constructor(
    private readonly reader: VirtualReader,
    private readonly members: VirtualMembers,
  ) {}

  async forId(lowerId: string): Promise<IdAdvisories> {
    const member = await this.reader.memberOf(lowerId);
    return member ? member.advisories.forId(lowerId) : NO_ADVISORIES;
  }

  async vulnerabilityData(): Promise<VulnerabilityData> {
    const from = await Promise.all((await this.members.feeds()).map((m) => m.advisories.vulnerabilityData()));
    const joined = this.joined;
    if (joined && joined.from.length === from.length && joined.from.every((d, i) => d === from[i])) return joined.data;
    const byId: Record<string, readonly Vulnerability[]> = {};
    let updated: string | null = null;
    for (const data of from) {
      for (const [lowerId, list] of Object.entries(data.byId)) if (!Object.hasOwn(byId, lowerId)) byId[lowerId] = list;
      if (data.updated && (!updated || data.updated > updated)) updated = data.updated;
    }
    const data = { updated, byId };
    this.joined = { from, data };
    return data;
  }

  /** The members' upstreams' vulnerability files, each upstream once. */
  async upstreamFiles(): Promise<UpstreamVulnerabilityFile[]> {
    const out: UpstreamVulnerabilityFile[] = [];
    for (const member of await this.members.feeds()) {
      for (const file of (await member.upstream?.vulnerabilities.files()) ?? []) {
        if (out.length < MAX_UPSTREAM_FILES && !out.some((f) => f.upstream === file.upstream)) out.push(file);
      }
    }
    return out;
  }

  deprecate(): Promise<string[]> {
    return Promise.reject(this.refusal());
  }

  undeprecate(): Promise<string[]> {
    return Promise.reject(this.refusal());
  }

  fileVulnerability(): Promise<Vulnerability> {
    return Promise.reject(this.refusal());
  }

  withdrawVulnerability(): Promise<void> {
    return Promise.reject(this.refusal());
  }

  private refusal() {
    return readOnly(this.members.definition.name, this.members.names(), 'change');
  }
}
