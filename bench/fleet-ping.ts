/**
 * `npm run bench`: fleet `ping` round trips to 1, 100 and 1000 simulated agents that really
 * sign and verify, against a floor measured in the same run (identical code path with signing
 * and verification replaced by no-ops). Prints p50/p95 latency, replies per second, peak RSS
 * and the ratio to the floor. Sizes and rounds: BENCH_SIZES=1,100,1000 BENCH_ROUNDS=20.
 */
import { createFleetExecutor } from "../executors/fleet/controller/controller.ts";
import type { FleetProgress } from "../executors/fleet/types.ts";
import { startRedis } from "../test/harness/redis-server.ts";
import { controllerSecurity, newKey, startSimFleet, type Mode } from "./sim.ts";

const SIZES = (process.env["BENCH_SIZES"] ?? "1,100,1000").split(",").map(Number);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? "20");
const WARMUP = 3;
const TARGET_RATIO = 1.5;

interface Row {
  size: number;
  mode: Mode;
  p50: number;
  p95: number;
  repliesPerSec: number;
  rssMiB: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(
  url: string,
  size: number,
  mode: Mode,
  keys: ReturnType<typeof newKey>[],
  ctl: ReturnType<typeof newKey>,
): Promise<Row> {
  const prefix = `bench-${mode}-${size}`;
  const fleet = await startSimFleet(url, prefix, mode, keys.slice(0, size), ctl);
  const executor = createFleetExecutor({
    redisUrl: url,
    prefix,
    keyPath: "unused",
    principal: "bench",
    security: controllerSecurity(mode, ctl),
    ackTimeoutMs: 10_000,
  });
  const ctx = {
    jobId: "bench",
    principalId: "bench",
    signal: new AbortController().signal,
    progress: (_e: FleetProgress) => undefined,
  };
  const times: number[] = [];
  let replies = 0;
  let busy = 0;
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const t0 = performance.now();
    const r = await executor.execute({ provider: "ping", args: [], where: {} }, ctx);
    const dt = performance.now() - t0;
    if (r.summary.ok !== size)
      throw new Error(
        `${mode} ${size}: only ${r.summary.ok}/${size} ok (${JSON.stringify(r.summary)})`,
      );
    if (i >= WARMUP) {
      times.push(dt);
      busy += dt;
      replies += r.replies.length;
    }
  }
  await executor.close();
  await fleet.stop();
  times.sort((a, b) => a - b);
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  return {
    size,
    mode,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    repliesPerSec: (replies / busy) * 1000,
    rssMiB,
  };
}

const redis = await startRedis();
try {
  const maxSize = Math.max(...SIZES);
  process.stderr.write(`generating ${maxSize} agent keys…\n`);
  const keys = Array.from({ length: maxSize }, () => newKey());
  const ctl = newKey();
  const rows: Row[] = [];
  for (const size of SIZES) {
    for (const mode of ["floor", "signed"] as const) {
      process.stderr.write(`measuring ${mode} with ${size} agents…\n`);
      rows.push(await measure(redis.url, size, mode, keys, ctl));
    }
  }
  const fmt = (n: number, d = 1) => n.toFixed(d).padStart(9);
  console.log(
    `fleet ping, ${ROUNDS} rounds after ${WARMUP} warm-up, one process hosting every agent and the controller`,
  );
  console.log(
    `${"agents".padStart(6)} ${"mode".padEnd(6)} ${"p50 ms".padStart(9)} ${"p95 ms".padStart(9)} ${"replies/s".padStart(9)} ${"peak RSS MiB".padStart(12)} ${"ratio".padStart(6)}`,
  );
  for (const r of rows) {
    const floor = rows.find((f) => f.size === r.size && f.mode === "floor");
    const ratio = floor ? r.p50 / floor.p50 : NaN;
    console.log(
      `${String(r.size).padStart(6)} ${r.mode.padEnd(6)} ${fmt(r.p50)} ${fmt(r.p95)} ${fmt(r.repliesPerSec, 0)} ${fmt(r.rssMiB).padStart(12)} ${r.mode === "signed" ? ratio.toFixed(2).padStart(6) : "     -"}`,
    );
  }
  const big = rows.find((r) => r.size === 1000 && r.mode === "signed");
  const bigFloor = rows.find((r) => r.size === 1000 && r.mode === "floor");
  if (big && bigFloor) {
    const ratio = big.p50 / bigFloor.p50;
    console.log(
      `1000 agents: signed p50 is ${ratio.toFixed(2)}x the floor (target ${TARGET_RATIO}x): ${ratio <= TARGET_RATIO ? "met" : "NOT met"}`,
    );
  }
} finally {
  await redis.stop(true);
}
