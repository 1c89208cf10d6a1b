/**
 * Measurement helpers for the benchmark: percentiles, a resident-memory sampler for groups of
 * processes (the controller, the agent processes, redis-server), this process's settled RSS
 * and CPU time.
 */
import { readFileSync } from "node:fs";
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import type { Redis } from "ioredis";

/**
 * RSS sampling period: reading /proc runs in the controller's process and counts as its CPU,
 * so not more often than this (at 25 ms it was ~3 µs of every reply's figure at 1000 agents).
 */
const SAMPLE_MS = 100;
const KIB_PER_MIB = 1024;
const BYTES_PER_MIB = 1024 * 1024;
const GC_MAJOR = constants.NODE_PERFORMANCE_GC_MAJOR;

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

/** What {@link settledRss} saw. */
export interface SettledRss {
  /** This process's RSS once settled, MiB. */
  readonly rss: number;
  /** V8 heap then (used / committed), MiB. */
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** Milliseconds waited. */
  readonly waitedMs: number;
  /** Whether V8 shrank its heap on its own (false: `maxMs` ran out first). */
  readonly collected: boolean;
}

/** Committed heap within this share of the live heap counts as shrunk. */
const SHRUNK = 1.25;
const POLL_MS = 500;

/**
 * This process's resident memory in steady state: waits, idle, until V8 has run a full
 * (mark-compact) collection on its own and given back its empty pages (committed heap within
 * {@link SHRUNK} of the live heap) — what a long-running controller does between bursts — plus
 * `afterMs`, or until `maxMs`. Nothing forces a collection.
 */
export async function settledRss(maxMs: number, afterMs: number): Promise<SettledRss> {
  const t0 = performance.now();
  let majors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === GC_MAJOR)
        majors++;
  });
  observer.observe({ entryTypes: ["gc"] });
  let collected = false;
  while (performance.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const heap = process.memoryUsage();
    if (majors > 0 && heap.heapTotal <= heap.heapUsed * SHRUNK) {
      collected = true;
      break;
    }
  }
  observer.disconnect();
  if (collected) await new Promise((r) => setTimeout(r, afterMs));
  const heap = process.memoryUsage();
  return {
    rss: rssMiB(process.pid),
    heapUsed: heap.heapUsed / BYTES_PER_MIB,
    heapTotal: heap.heapTotal / BYTES_PER_MIB,
    waitedMs: performance.now() - t0,
    collected,
  };
}
