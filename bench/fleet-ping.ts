/**
 * `npm run bench`: fleet `ping` round trips to 1, 100 and 1000 simulated agents that really
 * sign and verify (each agent its own ed25519 key), against a floor measured in the same run
 * and the same topology with signing and verification replaced by no-ops. The controller runs
 * on the main thread (reply signatures checked on libuv's thread pool); the agents run in
 * worker threads, as separate machines would. Prints p50/p95 latency, replies per second, CPU
 * per round, peak RSS and the ratio to the floor.
 *
 * Knobs: BENCH_SIZES=1,100,1000 BENCH_ROUNDS=20 BENCH_AGENT_THREADS=1
 * BENCH_VERIFY_CONCURRENCY=<controller verifyConcurrency, default cores-1>.
 */
import { Redis } from "ioredis";
import { createFleetExecutor } from "../executors/fleet/controller/controller.ts";
import { defaultVerifyConcurrency } from "../executors/fleet/options.ts";
import { MetricsRegistry } from "../lib/metrics.ts";
import type { FleetProgress } from "../executors/fleet/types.ts";
import { startRedis } from "../test/harness/redis-server.ts";
import { availableParallelism, loadavg } from "node:os";
import { startAgentThreads } from "./agent-threads.ts";
import { calibrate, cryptoPerRound, type CryptoCost } from "./calibrate.ts";
import { controllerSecurity, newKey, type Mode } from "./sim.ts";
import { cpuMs, percentile, redisPid, sampleRss, type RssPeaks } from "./stats.ts";

const SIZES = (process.env["BENCH_SIZES"] ?? "1,100,1000").split(",").map(Number);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? "20");
const THREADS = Number(process.env["BENCH_AGENT_THREADS"] ?? "1");
const VERIFY = Number(process.env["BENCH_VERIFY_CONCURRENCY"] ?? defaultVerifyConcurrency());
const WARMUP = 3;
const TARGET_RATIO = 1.5;
const TARGET_SIZE = 1000;

interface Row {
  readonly size: number;
  readonly mode: Mode;
  readonly p50: number;
  readonly p95: number;
  readonly repliesPerSec: number;
  readonly cpuPerRound: number;
  /** Start replies the controller skipped unverified (their complete proved the ack), per round. */
  readonly skippedPerRound: number;
  readonly rss: RssPeaks;
}

async function measure(url: string, pid: number, size: number, mode: Mode): Promise<Row> {
  const prefix = `bench-${mode}-${size}`;
  const ctl = newKey();
  const rss = sampleRss(pid);
  const agents = await startAgentThreads(
    { url, prefix, mode, controllerLine: ctl.public.line },
    size,
    THREADS,
  );
  const metrics = new MetricsRegistry();
  const executor = createFleetExecutor({
    metrics,
    redisUrl: url,
    prefix,
    keyPath: "unused",
    principal: "bench",
    security: controllerSecurity(mode, ctl),
    // Simulated agents are accepted on first sight (signed records in signed mode).
    enrollment: "tofu",
    ackTimeoutMs: 10_000,
    verifyConcurrency: VERIFY,
  });
  const ctx = {
    jobId: "bench",
    principalId: "bench",
    signal: new AbortController().signal,
    progress: (_e: FleetProgress) => undefined,
  };
  const times: number[] = [];
  let replies = 0;
  let cpu = process.cpuUsage();
  const skipped = metrics.counter("commodore_fleet_starts_skipped_total", "");
  let skippedBefore = 0;
  try {
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      if (i === WARMUP) {
        cpu = process.cpuUsage();
        skippedBefore = skipped.get();
      }
      const t0 = performance.now();
      const r = await executor.execute({ provider: "ping", args: [], where: {} }, ctx);
      const dt = performance.now() - t0;
      if (r.summary.ok !== size)
        throw new Error(
          `${mode} ${size}: ${r.summary.ok}/${size} ok (${JSON.stringify(r.summary)})`,
        );
      if (i >= WARMUP) {
        times.push(dt);
        replies += r.replies.length;
      }
    }
  } finally {
    await executor.close();
    await agents.stop();
  }
  const cpuPerRound = cpuMs(cpu) / ROUNDS;
  const skippedPerRound = (skipped.get() - skippedBefore) / ROUNDS;
  const busy = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  return {
    size,
    mode,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    repliesPerSec: (replies / busy) * 1000,
    cpuPerRound,
    skippedPerRound,
    rss: rss.stop(),
  };
}

function report(rows: readonly Row[], cost: CryptoCost): void {
  const col = (v: number | string, w: number, d = 1) =>
    (typeof v === "number" ? v.toFixed(d) : v).padStart(w);
  console.log(
    `fleet ping, ${ROUNDS} rounds after ${WARMUP} warm-up; controller on the main thread ` +
      `(verifyConcurrency ${VERIFY}), agents in ${THREADS} worker thread(s)`,
  );
  console.log(
    `${col("agents", 6)} mode   ${col("p50 ms", 8)} ${col("p95 ms", 8)} ${col("replies/s", 9)} ` +
      `${col("cpu ms/rnd", 10)} ${col("starts skipped", 14)} ${col("RSS bench", 9)} ${col("RSS redis", 9)} ${col("ratio", 6)}`,
  );
  for (const r of rows) {
    const floor = rows.find((f) => f.size === r.size && f.mode === "floor");
    const ratio = r.mode === "signed" && floor ? col(r.p50 / floor.p50, 6, 2) : col("-", 6);
    console.log(
      `${col(r.size, 6, 0)} ${r.mode.padEnd(6)} ${col(r.p50, 8)} ${col(r.p95, 8)} ` +
        `${col(r.repliesPerSec, 9, 0)} ${col(r.cpuPerRound, 10)} ${col(r.skippedPerRound, 14, 0)} ${col(r.rss.bench, 9)} ` +
        `${col(r.rss.redis, 9)} ${ratio}`,
    );
  }
  console.log(
    "RSS: peak MiB while measuring the row; bench = this process (controller, agent threads, " +
      "crypto pool), redis = redis-server. cpu ms/rnd: bench process, all threads.",
  );
  const big = rows.find((r) => r.size === TARGET_SIZE && r.mode === "signed");
  const bigFloor = rows.find((r) => r.size === TARGET_SIZE && r.mode === "floor");
  if (!big || !bigFloor) return;
  const ratio = big.p50 / bigFloor.p50;
  const cores = availableParallelism();
  const crypto = cryptoPerRound(cost, TARGET_SIZE, big.skippedPerRound);
  const bound = (bigFloor.cpuPerRound + crypto.totalMs) / cores;
  console.log(
    `crypto cost now: sign ${cost.signUs.toFixed(0)} us, verify ${cost.verifyUs.toFixed(0)} us ` +
      `(ed25519 SSHSIG); load average ${loadavg()[0]?.toFixed(1)} on ${cores} cores`,
  );
  console.log(
    `${TARGET_SIZE} agents: a signed round needs >= ${crypto.totalMs.toFixed(0)} ms of crypto CPU ` +
      `(agents ${crypto.agentMs.toFixed(0)}, controller ${crypto.controllerMs.toFixed(0)}) on top of ` +
      `the floor's ${bigFloor.cpuPerRound.toFixed(0)} ms, so on ${cores} cores it cannot beat ` +
      `${bound.toFixed(0)} ms = ${(bound / bigFloor.p50).toFixed(2)}x this floor`,
  );
  console.log(
    `${TARGET_SIZE} agents: signed p50 is ${ratio.toFixed(2)}x the floor ` +
      `(target ${TARGET_RATIO}x): ${ratio <= TARGET_RATIO ? "met" : "NOT met"}`,
  );
}

const redis = await startRedis();
const probe = new Redis(redis.url);
try {
  const pid = await redisPid(probe);
  const cost = calibrate();
  const rows: Row[] = [];
  for (const size of SIZES) {
    for (const mode of ["floor", "signed"] as const) {
      process.stderr.write(`measuring ${mode} with ${size} agents…\n`);
      rows.push(await measure(redis.url, pid, size, mode));
    }
  }
  report(rows, cost);
} finally {
  probe.disconnect();
  await redis.stop(true);
}
