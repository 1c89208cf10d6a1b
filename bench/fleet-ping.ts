/**
 * `npm run bench`: fleet `ping` round trips to 1, 100, 1000 and 10 000 simulated agents that
 * really sign and verify (each agent its own ed25519 key), against a floor measured in the same
 * run and topology with signing and verification replaced by no-ops. This process is the
 * controller alone; the agents run in child processes (bench/agent-host.ts), as separate
 * machines would, so the controller's CPU and memory are measured without theirs (they still
 * share this machine's cores).
 *
 * Per row: p50/p95 latency, replies per second, the CPU per round of the controller and of the
 * agents, the controller's CPU per verified reply and per signature checked, one bare ed25519
 * SSHSIG verify measured just before and after the row (the physical floor of a reply check)
 * and the ratio of the two, replies verified per CPU-second (per core), the share of checks run
 * on verification threads, registrations verified per round, starts skipped, the controller's
 * RSS once it verified the whole registry, and the peak RSS of the controller, of the agent
 * processes and of redis-server; after the large rows, the controller's steady-state RSS with
 * the nodes still registered (once V8 collected and shrank its heap on its own). Then issue
 * 15's goals against the measurements.
 *
 * It runs compiled (`npm run bench` builds bench/ with the sources into dist-bench/), as the
 * shipped controller does: a TypeScript loader in this process would be part of its memory.
 *
 * Knobs: BENCH_SIZES=1,100,1000,10000 BENCH_ROUNDS=20 BENCH_LARGE_ROUNDS=5 (sizes of 10 000 and
 * more: fewer rounds, signed only unless BENCH_LARGE_FLOOR=1) BENCH_AGENT_PROCESSES=2
 * BENCH_MODES=floor,signed BENCH_VERIFY_CONCURRENCY=<controller verifyConcurrency, default
 * cores-1> BENCH_SETTLE_MAX_MS=90000.
 */
import { Redis } from "ioredis";
import { createFleetExecutor } from "../executors/fleet/controller/controller.ts";
import type { ControllerSecurity } from "../executors/fleet/controller/security.ts";
import { defaultVerifyConcurrency } from "../executors/fleet/options.ts";
import type { PayloadVerifier } from "../executors/fleet/protocol/auth.ts";
import { verifyPool } from "../executors/fleet/protocol/verify-pool.ts";
import { MetricsRegistry } from "../lib/metrics.ts";
import type { FleetProgress } from "../executors/fleet/types.ts";
import { availableParallelism, loadavg } from "node:os";
import { startAgentProcesses } from "./agent-processes.ts";
import { benchDir, cpuMsOf, startRedisServer, stopGroup } from "./real-fleet.ts";
import { bareVerifyUs, calibrate, cryptoPerRound, type CryptoCost } from "./calibrate.ts";
import { controllerSecurity, newKey, type Mode } from "./sim.ts";
import {
  cpuMs,
  percentile,
  redisPid,
  rssMiB,
  sampleRss,
  settledRss,
  type RssPeaks,
  type SettledRss,
} from "./stats.ts";

const SIZES = (process.env["BENCH_SIZES"] ?? "1,100,1000,10000").split(",").map(Number);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? "20");
/** Sizes from here on run {@link LARGE_ROUNDS} rounds, signed only unless BENCH_LARGE_FLOOR=1. */
const LARGE_SIZE = 10_000;
const LARGE_ROUNDS = Number(process.env["BENCH_LARGE_ROUNDS"] ?? "5");
const LARGE_FLOOR = process.env["BENCH_LARGE_FLOOR"] === "1";
/** Longest wait, after the large rounds, for V8 to shrink its heap on its own (see settledRss). */
const SETTLE_MAX_MS = Number(process.env["BENCH_SETTLE_MAX_MS"] ?? "90000");
/** Wait after that collection before reading RSS. */
const SETTLE_AFTER_MS = 1000;
const MODES = (process.env["BENCH_MODES"] ?? "floor,signed").split(",") as Mode[];
const PROCESSES = Number(process.env["BENCH_AGENT_PROCESSES"] ?? "2");
const VERIFY = Number(process.env["BENCH_VERIFY_CONCURRENCY"] ?? defaultVerifyConcurrency());
const WARMUP = 3;
/** Expected-set computations timed per row, after the rounds. */
const REGISTRY_READS = 20;
const LARGE_WARMUP = 1;
const US_PER_S = 1e6;
const MS_PER_S = 1000;
const PERCENT = 100;

/** Issue 15's goals. */
const GOAL = {
  /** Signed p50 at {@link GOAL.ratioSize} agents over the floor's. */
  ratio: 1.5,
  ratioSize: 1000,
  /** Every agent of this fleet answers, verified, every round. */
  scaleSize: 10_000,
  /** Controller CPU per verified reply over one bare ed25519 SSHSIG verify. */
  cpuRatio: 1.3,
  /** Controller RSS with {@link GOAL.scaleSize} nodes registered. */
  rssMiB: 150,
} as const;

/** Signature checks the controller ran. */
interface Checks {
  replies: number;
  registrations: number;
}

interface Row {
  readonly size: number;
  readonly mode: Mode;
  readonly rounds: number;
  readonly p50: number;
  readonly p95: number;
  readonly repliesPerSec: number;
  /** Controller CPU (every thread of this process) per round, ms. */
  readonly cpuPerRound: number;
  /** CPU of the agent processes per round, ms. */
  readonly agentCpuPerRound: number;
  /** Replies verified per round. */
  readonly verifiedPerRound: number;
  /** Controller CPU per verified reply, µs. */
  readonly usPerReply: number;
  /** One bare ed25519 verify around the row, µs of CPU. */
  readonly bareUs: number;
  /** Registrations verified per round (every heartbeat changes one). */
  readonly registrationsPerRound: number;
  /** Controller CPU per signature checked (replies and registrations), µs. */
  readonly usPerCheck: number;
  /** Share of the checks that ran on verification threads rather than the event loop. */
  readonly threadedShare: number;
  /** Controller RSS right after its first registry read (every node verified), MiB. */
  readonly rssRegistered: number;
  /**
   * Large rows: the controller's steady state after the rounds, nodes still registered and
   * heartbeating, once V8 collected and shrank its heap on its own.
   */
  readonly settled: SettledRss | undefined;
  /** Start replies the controller skipped unverified (their complete proved the ack), per round. */
  readonly skippedPerRound: number;
  /**
   * The registry's cost per request: one expected-set computation (accepted hosts, live
   * registrations, last-known facts), p50 wall ms and controller CPU ms, with every node
   * registered and heartbeating.
   */
  readonly registryMs: number;
  readonly registryCpuMs: number;
  readonly rss: RssPeaks<"controller" | "agents" | "redis">;
}

/** `security` with every reply and registration check counted in `checks`. */
function counting(security: ControllerSecurity, checks: Checks): ControllerSecurity {
  const count = (inner: PayloadVerifier, what: keyof Checks): PayloadVerifier => {
    const verifyAsync = inner.verifyAsync?.bind(inner);
    return {
      verify: (...args) => (checks[what]++, inner.verify(...args)),
      ...(verifyAsync === undefined
        ? {}
        : { verifyAsync: (...args) => (checks[what]++, verifyAsync(...args)) }),
    };
  };
  return {
    ...security,
    replyVerifier: (pinned, unaccepted) =>
      count(security.replyVerifier(pinned, unaccepted), "replies"),
    registrationVerifier: count(security.registrationVerifier, "registrations"),
  };
}

async function measure(url: string, redisPidValue: number, size: number, mode: Mode) {
  const large = size >= LARGE_SIZE;
  const warmup = large ? LARGE_WARMUP : WARMUP;
  const rounds = large ? LARGE_ROUNDS : ROUNDS;
  const prefix = `bench-${mode}-${size}`;
  const ctl = newKey();
  const agents = await startAgentProcesses(
    { url, prefix, mode, controllerLine: ctl.public.line },
    size,
    PROCESSES,
  );
  const rss = sampleRss({ controller: [process.pid], agents: agents.pids, redis: [redisPidValue] });
  const checks: Checks = { replies: 0, registrations: 0 };
  const metrics = new MetricsRegistry();
  const executor = createFleetExecutor({
    metrics,
    redisUrl: url,
    prefix,
    keyPath: "unused",
    principal: "bench",
    security: counting(controllerSecurity(mode, ctl), checks),
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
  // The first read verifies (and, trust on first use, accepts) every registration.
  const listed = await executor.nodes();
  if (listed.length !== size) throw new Error(`${mode} ${size}: ${listed.length} nodes listed`);
  const rssRegistered = rssMiB(process.pid);
  const times: number[] = [];
  let replies = 0;
  let cpu = process.cpuUsage();
  let cpuTotal = 0;
  let agentCpuBefore: number[] = [];
  let agentCpu = 0;
  let threaded = 0;
  let inline = 0;
  let bareBefore = 0;
  let checksBefore: Checks = { ...checks };
  let countsBefore = { ...verifyPool.counts };
  const skipped = metrics.counter("commodore_fleet_starts_skipped_total", "");
  let skippedBefore = 0;
  let settled: SettledRss | undefined;
  const registryTimes: number[] = [];
  let registryCpuMs = 0;
  /**
   * One round, keeping only its figures: the result (10 000 replies at the largest size) must
   * not outlive it in this frame, or the steady-state RSS would count the bench's memory.
   */
  const round = async (): Promise<{ ms: number; replies: number }> => {
    const t0 = performance.now();
    const r = await executor.execute({ provider: "ping", args: [], where: {} }, ctx);
    const ms = performance.now() - t0;
    if (r.summary.ok !== size)
      throw new Error(`${mode} ${size}: ${r.summary.ok}/${size} ok (${JSON.stringify(r.summary)})`);
    return { ms, replies: r.replies.length };
  };
  try {
    for (let i = 0; i < warmup + rounds; i++) {
      if (i === warmup) {
        bareBefore = bareVerifyUs();
        cpu = process.cpuUsage();
        agentCpuBefore = agents.pids.map(cpuMsOf);
        checksBefore = { ...checks };
        countsBefore = { ...verifyPool.counts };
        skippedBefore = skipped.get();
      }
      const r = await round();
      if (i >= warmup) {
        times.push(r.ms);
        replies += r.replies;
      }
    }
    cpuTotal = cpuMs(cpu);
    agentCpu = agents.pids.reduce(
      (sum, pid, i) => sum + cpuMsOf(pid) - (agentCpuBefore[i] ?? 0),
      0,
    );
    threaded = verifyPool.counts.threaded - countsBefore.threaded;
    inline = verifyPool.counts.inline - countsBefore.inline;
    const readCpu = process.cpuUsage();
    for (let i = 0; i < REGISTRY_READS; i++) {
      const t = performance.now();
      const expected = await executor.expectedHosts({});
      registryTimes.push(performance.now() - t);
      if (expected.length !== size) throw new Error(`${mode} ${size}: ${expected.length} expected`);
    }
    registryCpuMs = cpuMs(readCpu) / REGISTRY_READS;
    if (large) {
      process.stderr.write(`waiting up to ${SETTLE_MAX_MS} ms for the controller to settle…\n`);
      settled = await settledRss(SETTLE_MAX_MS, SETTLE_AFTER_MS);
    }
  } finally {
    await executor.close();
    await agents.stop();
  }
  const bareUs = (bareBefore + bareVerifyUs()) / 2;
  const verified = checks.replies - checksBefore.replies;
  const registrations = checks.registrations - checksBefore.registrations;
  const busy = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  return {
    size,
    mode,
    rounds,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    repliesPerSec: (replies / busy) * 1000,
    cpuPerRound: cpuTotal / rounds,
    agentCpuPerRound: agentCpu / rounds,
    verifiedPerRound: verified / rounds,
    usPerReply: (cpuTotal * 1000) / Math.max(1, verified),
    bareUs,
    registrationsPerRound: registrations / rounds,
    usPerCheck: (cpuTotal * 1000) / Math.max(1, verified + registrations),
    threadedShare: threaded / Math.max(1, threaded + inline),
    rssRegistered,
    settled,
    skippedPerRound: (skipped.get() - skippedBefore) / rounds,
    registryMs: percentile(
      registryTimes.sort((a, b) => a - b),
      50,
    ),
    registryCpuMs,
    rss: rss.stop(),
  } satisfies Row;
}

const col = (v: number | string, w: number, d = 1) =>
  (typeof v === "number" ? v.toFixed(d) : v).padStart(w);
const verdict = (ok: boolean) => (ok ? "met" : "NOT met");

function report(rows: readonly Row[], cost: CryptoCost, startRss: number): void {
  const cores = availableParallelism();
  console.log(
    `fleet ping, ${ROUNDS} rounds after ${WARMUP} warm-up (${LARGE_ROUNDS} after ${LARGE_WARMUP} ` +
      `from ${LARGE_SIZE} agents); controller alone in this process (verifyConcurrency ${VERIFY}, ` +
      `${startRss.toFixed(0)} MiB before any controller: Node and the compiled modules), agents in ` +
      `${PROCESSES} child process(es); ${cores} cores, load average ${loadavg()[0]?.toFixed(1)}`,
  );
  const head: [string, number][] = [
    ["agents", 6],
    ["mode  ", 6],
    ["p50 ms", 8],
    ["p95 ms", 8],
    ["replies/s", 9],
    ["ctl ms/rnd", 10],
    ["agt ms/rnd", 10],
    ["us/reply", 8],
    ["us/check", 8],
    ["bare us", 7],
    ["cpu x", 5],
    ["replies/core-s", 14],
    ["threads", 7],
    ["reg chk/rnd", 11],
    ["starts skip", 11],
    ["reg ms", 7],
    ["reg cpu", 7],
    ["RSS reg", 7],
    ["RSS ctl", 7],
    ["RSS agents", 10],
    ["RSS redis", 9],
    ["p50 x", 6],
  ];
  console.log(head.map(([h, w]) => col(h, w)).join(" "));
  for (const r of rows) {
    const floor = rows.find((f) => f.size === r.size && f.mode === "floor");
    const signed = r.mode === "signed";
    const cells: string[] = [
      col(r.size, 6, 0),
      r.mode.padEnd(6),
      col(r.p50, 8),
      col(r.p95, 8),
      col(r.repliesPerSec, 9, 0),
      col(r.cpuPerRound, 10),
      col(r.agentCpuPerRound, 10, 0),
      col(r.usPerReply, 8),
      col(r.usPerCheck, 8),
      col(r.bareUs, 7),
      signed ? col(r.usPerReply / r.bareUs, 5, 2) : col("-", 5),
      col(US_PER_S / r.usPerReply, 14, 0),
      signed ? col(`${(PERCENT * r.threadedShare).toFixed(0)}%`, 7) : col("-", 7),
      col(r.registrationsPerRound, 11, 0),
      col(r.skippedPerRound, 11, 0),
      col(r.registryMs, 7),
      col(r.registryCpuMs, 7),
      col(r.rssRegistered, 7),
      col(r.rss.controller, 7),
      col(r.rss.agents, 10),
      col(r.rss.redis, 9),
      signed && floor ? col(r.p50 / floor.p50, 6, 2) : col("-", 6),
    ];
    console.log(cells.join(" "));
  }
  console.log(
    "ctl = this process, the controller alone (every thread: event loop, verification threads, " +
      "GC), CPU over the measured rounds, agt = the agent processes'; us/reply = that CPU over the replies it verified, " +
      "us/check = over every signature it checked (replies and registrations changed by " +
      "heartbeats, reg chk/rnd); bare us = one crypto.verify of an ed25519 SSHSIG signed-data " +
      "blob with a ready key, measured just before and after the row; cpu x = us/reply over bare " +
      "us; replies/core-s = replies verified per CPU-second; threads = share of the checks run " +
      "on verification threads; reg ms / reg cpu = the registry's cost per request (one " +
      "expected-set computation: accepted hosts, live registrations, last-known facts), p50 wall " +
      "and controller CPU ms; RSS reg = controller right after reading (verifying) the " +
      "registry, RSS ctl/agents/redis = peak MiB while measuring the row.",
  );
  const big = rows.find((r) => r.size === GOAL.ratioSize && r.mode === "signed");
  const bigFloor = rows.find((r) => r.size === GOAL.ratioSize && r.mode === "floor");
  if (big && bigFloor) {
    const sent = big.verifiedPerRound + big.skippedPerRound;
    const crypto = cryptoPerRound(cost, big.size, sent, big.verifiedPerRound);
    const floorCpu = bigFloor.cpuPerRound + bigFloor.agentCpuPerRound;
    const bound = (floorCpu + crypto.totalMs) / cores;
    console.log(
      `crypto cost now: sign ${cost.signUs.toFixed(0)} us, verify ${cost.verifyUs.toFixed(0)} us ` +
        `(ed25519 SSHSIG); at ${big.size} agents a signed round needs >= ` +
        `${crypto.totalMs.toFixed(0)} ms of crypto CPU (agents ${crypto.agentMs.toFixed(0)}, ` +
        `controller ${crypto.controllerMs.toFixed(0)}) besides the floor round's ` +
        `${floorCpu.toFixed(0)} ms (controller ${bigFloor.cpuPerRound.toFixed(0)}, agents ` +
        `${bigFloor.agentCpuPerRound.toFixed(0)}), all on these ${cores} cores: even perfectly ` +
        `parallel it cannot beat ${bound.toFixed(0)} ms = ${(bound / bigFloor.p50).toFixed(2)}x ` +
        `this floor`,
    );
  }
  console.log("goals (issue 15):");
  if (big && bigFloor) {
    const ratio = big.p50 / bigFloor.p50;
    console.log(
      `  ${GOAL.ratioSize} agents signed p50 <= ${GOAL.ratio}x floor: ${ratio.toFixed(2)}x ` +
        `(${big.p50.toFixed(0)} / ${bigFloor.p50.toFixed(0)} ms): ${verdict(ratio <= GOAL.ratio)}`,
    );
  }
  const scale = rows.find((r) => r.size === GOAL.scaleSize && r.mode === "signed");
  if (scale) {
    console.log(
      `  ${GOAL.scaleSize} agents answered and verified: all ${GOAL.scaleSize} ok in each of ` +
        `${scale.rounds} rounds, ${scale.verifiedPerRound.toFixed(0)} replies verified per round: ` +
        `${verdict(scale.verifiedPerRound >= GOAL.scaleSize)}`,
    );
    const settled = scale.settled;
    const steady =
      settled === undefined
        ? "not measured"
        : `${settled.rss.toFixed(0)} MiB in steady state (${
            settled.collected
              ? `V8 collected and shrank its heap on its own ${(settled.waitedMs / MS_PER_S).toFixed(0)} s after the rounds`
              : `V8 had not shrunk its heap ${(settled.waitedMs / MS_PER_S).toFixed(0)} s after the rounds`
          }; heap ${settled.heapUsed.toFixed(0)} of ${settled.heapTotal.toFixed(0)} MiB): ` +
          verdict(settled.rss <= GOAL.rssMiB);
    console.log(
      `  controller RSS at ${GOAL.scaleSize} registered nodes <= ${GOAL.rssMiB} MiB: ${steady}; ` +
        `not the goal but shown: ${scale.rssRegistered.toFixed(0)} MiB right after the first ` +
        `read verified them all, peak ${scale.rss.controller.toFixed(0)} MiB while ` +
        `${GOAL.scaleSize} replies a round arrive (garbage not yet collected)`,
    );
  }
  for (const r of rows.filter((x) => x.mode === "signed" && x.size >= GOAL.ratioSize)) {
    const x = r.usPerReply / r.bareUs;
    console.log(
      `  ${r.size} agents: controller CPU per verified reply <= ${GOAL.cpuRatio}x one bare ` +
        `verify: ${r.usPerReply.toFixed(0)} / ${r.bareUs.toFixed(0)} us = ${x.toFixed(2)}x, ` +
        `${(US_PER_S / r.usPerReply).toFixed(0)} replies/s per core: ${verdict(x <= GOAL.cpuRatio)}`,
    );
  }
}

// Not the test harness's redis: node:test would switch on async hooks in the controller.
const redis = await startRedisServer(benchDir("commodore-bench-"));
const probe = new Redis(redis.url);
try {
  const pid = await redisPid(probe);
  const startRss = rssMiB(process.pid);
  const cost = calibrate();
  const rows: Row[] = [];
  for (const size of SIZES) {
    const modes = MODES.filter((m) => m === "signed" || size < LARGE_SIZE || LARGE_FLOOR);
    for (const mode of modes) {
      process.stderr.write(`measuring ${mode} with ${size} agents…\n`);
      rows.push(await measure(redis.url, pid, size, mode));
    }
  }
  report(rows, cost, startRss);
} finally {
  probe.disconnect();
  await stopGroup(redis.child);
}
