/**
 * Where a Pawket process's memory goes, from its own /metrics and /proc: the V8 heap (the search index, cached
 * package records, parsed code), buffers outside it (the response cache's documents, the package bytes cache) and the
 * rest of the resident set (the node binary, libraries, native allocations, allocator slack).
 */
import { readFileSync } from 'node:fs';

export interface MemoryBreakdown {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  readonly responseCacheMiB: number;
  readonly packageBytesMiB: number;
}

const MiB = 1024 * 1024;

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

export function rssKiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The breakdown of the process `pid` serving at `address` (host:port), or null when it cannot be read. */
export async function memoryBreakdown(pid: number, address: string): Promise<MemoryBreakdown | null> {
  try {
    const res = await fetch(`http://${address}/metrics`);
    if (!res.ok) return null;
    const text = await res.text();
    const rss = rssKiB(pid);
    return {
      rssMiB: rss === null ? metric(text, 'pawket_process_resident_memory_bytes') / MiB : rss / 1024,
      heapUsedMiB: metric(text, 'pawket_nodejs_heap_size_used_bytes') / MiB,
      heapTotalMiB: metric(text, 'pawket_nodejs_heap_size_total_bytes') / MiB,
      externalMiB: metric(text, 'pawket_nodejs_external_memory_bytes') / MiB,
      responseCacheMiB: metric(text, 'pawket_response_cache_bytes') / MiB,
      packageBytesMiB: metric(text, 'pawket_package_bytes_cache_bytes') / MiB,
    };
  } catch {
    return null;
  }
}

const f = (mib: number) => (Number.isFinite(mib) ? `${mib.toFixed(1)} MiB` : '?');

/** Two lines: the resident set split into its parts. */
export function formatBreakdown(b: MemoryBreakdown): string[] {
  const otherBuffers = b.externalMiB - b.responseCacheMiB - (Number.isFinite(b.packageBytesMiB) ? b.packageBytesMiB : 0);
  const rest = b.rssMiB - b.heapTotalMiB - b.externalMiB;
  return [
    `RSS ${f(b.rssMiB)} = V8 heap ${f(b.heapTotalMiB)} (${f(b.heapUsedMiB)} in use: search index, package records, code) ` +
      `+ buffers ${f(b.externalMiB)} (response cache ${f(b.responseCacheMiB)}, package bytes cache ${f(b.packageBytesMiB)}, ` +
      `other ${f(otherBuffers)})`,
    `  + the rest ${f(rest)} (node binary, libraries, native allocations, allocator slack)`,
  ];
}
