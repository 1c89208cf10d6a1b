/**
 * `npm run bench:e2e`: what an operator feels, measured on real processes. Starts a real
 * redis-server and 3 real `commodore agent` processes (bin/commodore.js; ssh-keygen host keys;
 * allowed_signers from `commodore keygen`; keys accepted with `commodore nodes accept`), then:
 *
 * 1. CLI wall time: `node bin/commodore.js fleet ping` from spawn to exit, median of several
 *    runs, next to a bare `node -e 0` and to the round time the command itself reports
 *    ("N/N hosts ok in X ms"). Prints wall / (4 × node -e 0 + round) (goal <= 1.0) and what
 *    lingered: wall minus the moment the summary line was printed.
 * 2. Agent footprint: idle RSS (VmRSS after a settle period, with its anonymous and
 *    file-backed parts: the latter are mostly pages of the node binary) and CPU per served
 *    ping (the scheduler's exact CPU time of every thread, /proc/<pid>/task/<tid>/schedstat, around
 *    a series of pings sent by an in-process controller, minus the idle rate measured over the
 *    settle period), with the goals
 *    (<= 50 MiB, <= 0.5 ms). The goal is checked on the first series, where V8 still compiles
 *    the hot paths, as an agent that serves a request now and then always does; a second
 *    series shows the warm cost.
 *
 * Needs dist/ (`npm run build`). Knobs: BENCH_E2E_AGENTS=3 BENCH_E2E_RUNS=7
 * BENCH_E2E_SETTLE_MS=5000 BENCH_E2E_PINGS=300, and BENCH_E2E_AGENT_NODE_OPTIONS (NODE_OPTIONS
 * of the agent processes only; default: the ones packaging/systemd/commodore-agent.service
 * sets, so the agents run as deployed).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism, cpus } from "node:os";
import { createFleetExecutor } from "../executors/fleet/index.ts";
import { MetricsRegistry } from "../lib/metrics.ts";
import {
  CLI,
  cliEnv,
  cpuMsOf,
  ROOT,
  median,
  startRealFleet,
  timed,
  type RealFleet,
} from "./real-fleet.ts";
import { rssMiB } from "./stats.ts";

const AGENTS = Number(process.env["BENCH_E2E_AGENTS"] ?? "3");
const RUNS = Number(process.env["BENCH_E2E_RUNS"] ?? "7");
const SETTLE_MS = Number(process.env["BENCH_E2E_SETTLE_MS"] ?? "5000");
const PINGS = Number(process.env["BENCH_E2E_PINGS"] ?? "300");
/** The agents' NODE_OPTIONS: by default those the shipped unit sets (as deployed). */
const AGENT_NODE_OPTIONS =
  process.env["BENCH_E2E_AGENT_NODE_OPTIONS"] ?? unitNodeOptions("commodore-agent.service");
/** Pings before the first measured series (connections and registry reads settle). */
const WARMUP_PINGS = 5;
const KIB_PER_MIB = 1024;
const GOAL_RATIO = 1.0;
const GOAL_RSS_MIB = 50;
const GOAL_CPU_MS = 0.5;
const SUMMARY = /^(\d+)\/(\d+) hosts ok in (\d+) ms/m;

/** The NODE_OPTIONS a unit of packaging/systemd sets ("" when it sets none). */
function unitNodeOptions(unit: string): string {
  const text = readFileSync(join(ROOT, "packaging", "systemd", unit), "utf8");
  return /^Environment=NODE_OPTIONS=(.*)$/m.exec(text)?.[1]?.trim() ?? "";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (v: number, d = 1) => v.toFixed(d);

/** Resident memory of `pid` in MiB: anonymous (heap, stacks) and file-backed (mapped code). */
function rssParts(pid: number): { anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) / KIB_PER_MIB;
  return { anon: field("RssAnon"), file: field("RssFile") };
}

async function cliWallTime(fleet: RealFleet): Promise<void> {
  const env = cliEnv();
  const bare: number[] = [];
  const walls: number[] = [];
  const rounds: number[] = [];
  const lingers: number[] = [];
  // One unmeasured run of each warms the page cache.
  await timed(process.execPath, ["-e", "0"], { env });
  await timed(process.execPath, [CLI, "fleet", "ping", ...fleet.flags], { env });
  for (let i = 0; i < RUNS; i++) {
    bare.push((await timed(process.execPath, ["-e", "0"], { env })).wallMs);
    const r = await timed(process.execPath, [CLI, "fleet", "ping", ...fleet.flags], {
      env,
      mark: SUMMARY,
      timeoutMs: 30_000,
    });
    const m = SUMMARY.exec(r.stdout);
    if (r.code !== 0 || !m || m[1] !== String(AGENTS) || m[2] !== String(AGENTS))
      throw new Error(`fleet ping run ${i}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    walls.push(r.wallMs);
    rounds.push(Number(m[3]));
    lingers.push(r.wallMs - r.markMs);
  }
  const bareMs = median(bare);
  const wall = median(walls);
  const round = median(rounds);
  const linger = median(lingers);
  const ratio = wall / (4 * bareMs + round);
  console.log(`CLI wall time, ${AGENTS} real agents, median of ${RUNS} runs:`);
  console.log(`  node -e 0                      ${fmt(bareMs)} ms`);
  console.log(
    `  commodore fleet ping           ${fmt(wall)} ms wall (runs: ${walls.map((w) => fmt(w, 0)).join(", ")})`,
  );
  console.log(`  round it reports               ${fmt(round, 0)} ms`);
  console.log(
    `  lingered after the summary     ${fmt(linger)} ms (max ${fmt(Math.max(...lingers))})`,
  );
  console.log(
    `  wall / (4 x node -e 0 + round) = ${fmt(wall)} / (4 x ${fmt(bareMs)} + ${fmt(round, 0)}) = ` +
      `${fmt(ratio, 2)} (goal <= ${GOAL_RATIO}): ${ratio <= GOAL_RATIO ? "met" : "NOT met"}`,
  );
}

async function agentFootprint(fleet: RealFleet, idleCpuPerMs: number[]): Promise<void> {
  const rss = fleet.agents.map((a) => rssMiB(a.pid));
  const parts = fleet.agents.map((a) => rssParts(a.pid));
  const executor = createFleetExecutor({
    metrics: new MetricsRegistry(),
    redisUrl: fleet.redis.url,
    keyPath: fleet.keyPath,
    principal: fleet.principal,
    enrollment: "manual",
  });
  const ctx = {
    jobId: "bench-e2e",
    principalId: "bench",
    signal: new AbortController().signal,
    progress: () => undefined,
  };
  const ping = async () => {
    const r = await executor.execute({ provider: "ping", args: [], where: {} }, ctx);
    if (r.summary.ok !== AGENTS)
      throw new Error(`ping: ${r.summary.ok}/${AGENTS} ok (${JSON.stringify(r.summary)})`);
  };
  /** CPU per ping of each agent over `PINGS` pings, idle rate subtracted, and the wall time. */
  const series = async (): Promise<{ perPing: number[]; elapsed: number }> => {
    const before = fleet.agents.map((a) => cpuMsOf(a.pid));
    const t0 = performance.now();
    for (let i = 0; i < PINGS; i++) await ping();
    const elapsed = performance.now() - t0;
    const after = fleet.agents.map((a) => cpuMsOf(a.pid));
    const perPing = fleet.agents.map(
      (_, i) => ((after[i] ?? 0) - (before[i] ?? 0) - (idleCpuPerMs[i] ?? 0) * elapsed) / PINGS,
    );
    return { perPing, elapsed };
  };
  let first: Awaited<ReturnType<typeof series>>;
  let warm: Awaited<ReturnType<typeof series>>;
  try {
    for (let i = 0; i < WARMUP_PINGS; i++) await ping();
    first = await series();
    warm = await series();
  } finally {
    await executor.close();
  }
  const rssAfter = fleet.agents.map((a) => rssMiB(a.pid));
  const maxRss = Math.max(...rss);
  const largest = parts[rss.indexOf(maxRss)];
  const cpu = median(first.perPing);
  const cpuLine = (what: string, s: { perPing: number[]; elapsed: number }) =>
    `  CPU per served ping, ${what} (${PINGS} pings in ${fmt(s.elapsed / 1000)} s): ` +
    `${s.perPing.map((v) => fmt(v, 3)).join(", ")} ms, median ${fmt(median(s.perPing), 3)} ms`;
  console.log(
    `Agent footprint (${AGENTS} real agent processes; CPU from /proc/<pid>/task/<tid>/schedstat, ` +
      `idle rate subtracted; NODE_OPTIONS=${AGENT_NODE_OPTIONS || "(none)"}):`,
  );
  console.log(
    `  idle RSS after ${SETTLE_MS} ms settle: ${rss.map((v) => fmt(v)).join(", ")} MiB ` +
      `(goal <= ${GOAL_RSS_MIB} MiB): ${maxRss <= GOAL_RSS_MIB ? "met" : "NOT met"}`,
  );
  if (largest)
    console.log(
      `    largest: ${fmt(largest.anon)} MiB anonymous + ${fmt(largest.file)} MiB file-backed`,
    );
  console.log(
    `  RSS after ${2 * PINGS} more pings:   ${rssAfter.map((v) => fmt(v)).join(", ")} MiB`,
  );
  console.log(
    `${cpuLine("first series", first)} (goal <= ${GOAL_CPU_MS} ms): ` +
      `${cpu <= GOAL_CPU_MS ? "met" : "NOT met"}`,
  );
  console.log(cpuLine("warm", warm));
}

const cores = availableParallelism();
console.log(
  `bench:e2e on ${cores} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, ${new Date().toISOString()}`,
);
process.stderr.write(`starting redis-server and ${AGENTS} agent processes…\n`);
// real-fleet.ts starts every process with this one's environment: the agents' NODE_OPTIONS
// apply only while the fleet starts (keygen and `nodes accept` get them too, harmlessly), not
// to the CLI runs timed below.
const savedNodeOptions = process.env["NODE_OPTIONS"];
process.env["NODE_OPTIONS"] = AGENT_NODE_OPTIONS;
const fleet = await startRealFleet(
  AGENTS,
  (i) => `bench-agent-${i + 1}`,
  () => ({ role: "bench" }),
).finally(() => {
  if (savedNodeOptions === undefined) delete process.env["NODE_OPTIONS"];
  else process.env["NODE_OPTIONS"] = savedNodeOptions;
});
try {
  // Settle, measuring the idle CPU rate of each agent (heartbeats, timers) on the way.
  const idle0 = fleet.agents.map((a) => cpuMsOf(a.pid));
  const t0 = performance.now();
  await sleep(SETTLE_MS);
  const idleMs = performance.now() - t0;
  const idleRate = fleet.agents.map((a, i) => (cpuMsOf(a.pid) - (idle0[i] ?? 0)) / idleMs);
  process.stderr.write("measuring agent footprint…\n");
  await agentFootprint(fleet, idleRate);
  process.stderr.write("timing the CLI…\n");
  await cliWallTime(fleet);
} finally {
  await fleet.stop();
}
