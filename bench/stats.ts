/**
 * Measurement helpers for the benchmark: percentiles, a resident-memory sampler for the bench
 * process (every thread: controller, agent workers, crypto pool) and for redis-server, and
 * CPU time of the bench process.
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

function rssMiB(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? NaN : Number(kib) / KIB_PER_MIB;
  } catch {
    return NaN;
  }
}

/** Peak resident memory (MiB) seen while sampling. */
export interface RssPeaks {
  readonly bench: number;
  readonly redis: number;
}

/** Samples RSS of this process and of `redisPidValue` until `stop()`. */
export function sampleRss(redisPidValue: number): { stop(): RssPeaks } {
  let bench = 0;
  let redis = 0;
  const sample = () => {
    bench = Math.max(bench, process.memoryUsage.rss() / KIB_PER_MIB / KIB_PER_MIB);
    redis = Math.max(redis, rssMiB(redisPidValue));
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { bench, redis };
    },
  };
}

/** CPU milliseconds (user + system) this process used since `since`. */
export function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}
