/**
 * Measurement helpers for the benchmark: percentiles, a resident-memory sampler for groups of
 * processes (the controller, the agent processes, redis-server) and CPU time of this process.
 */
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

const SAMPLE_MS = 25;
const KIB_PER_MIB = 1024;

/** The `p`th percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** redis-server's pid, from `INFO server`. */
export async function redisPid(client: Redis): Promise<number> {
  const info = await client.info("server");
  const pid = /process_id:(\d+)/.exec(info)?.[1];
  if (pid === undefined) throw new Error("INFO server has no process_id");
  return Number(pid);
}

/** Resident memory of `pid` in MiB (NaN once it is gone). */
export function rssMiB(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? NaN : Number(kib) / KIB_PER_MIB;
  } catch {
    return NaN;
  }
}

/** Peak resident memory (MiB) of each group while sampling; a group's pids are summed. */
export type RssPeaks<G extends string> = Record<G, number>;

/** Samples the summed RSS of each group of pids until `stop()`. */
export function sampleRss<G extends string>(
  groups: Record<G, readonly number[]>,
): { stop(): RssPeaks<G> } {
  const names = Object.keys(groups) as G[];
  const peaks = Object.fromEntries(names.map((g) => [g, 0])) as RssPeaks<G>;
  const sample = () => {
    for (const g of names) {
      const sum = groups[g].reduce((total, pid) => total + (rssMiB(pid) || 0), 0);
      peaks[g] = Math.max(peaks[g], sum);
    }
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** CPU milliseconds (user + system, every thread) this process used since `since`. */
export function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}
