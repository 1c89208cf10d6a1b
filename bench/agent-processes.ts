/**
 * Runs the simulated fleet in child processes (bench/agent-host.ts), split evenly, so the
 * bench process is the controller alone: its CPU and resident memory are the controller's.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AgentHostCommand, AgentHostData, AgentHostReport } from "./agent-host.ts";

/** Compiled (`npm run bench` runs dist-bench/bench/) or, under tsx, the source. */
const COMPILED = import.meta.url.endsWith(".js");
const HOST_PATH = fileURLToPath(
  new URL(COMPILED ? "./agent-host.js" : "./agent-host.ts", import.meta.url),
);

/** Agent processes that can be stopped. */
export interface AgentProcesses {
  /** Their pids, for memory sampling. */
  readonly pids: readonly number[];
  /** Stops every agent; resolves to the CPU milliseconds the processes used in all. */
  stop(): Promise<number>;
}

function next(child: ChildProcess, want: AgentHostReport["kind"]): Promise<AgentHostReport> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`agent process exited (${code}) before ${want}`));
    child.once("exit", onExit);
    child.once("message", (report: AgentHostReport) => {
      child.off("exit", onExit);
      if (report.kind === want) resolve(report);
      else reject(new Error(report.kind === "failed" ? report.error : `unexpected ${report.kind}`));
    });
  });
}

/** Starts `size` agents over `processes` child processes and waits until all registered. */
export async function startAgentProcesses(
  base: Omit<AgentHostData, "first" | "count">,
  size: number,
  processes: number,
): Promise<AgentProcesses> {
  const n = Math.max(1, Math.min(processes, size));
  const children: ChildProcess[] = [];
  const ready: Promise<AgentHostReport>[] = [];
  for (let p = 0; p < n; p++) {
    const first = Math.floor((p * size) / n);
    const count = Math.floor(((p + 1) * size) / n) - first;
    const child = fork(HOST_PATH, [], {
      execArgv: COMPILED ? [] : ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.push(child);
    // The start command waits until the process listens: a message that arrives while its
    // modules still load has no listener and is dropped (seen once: a 10 000-agent row hung).
    const start: AgentHostCommand = { kind: "start", data: { ...base, first, count } };
    ready.push(
      next(child, "listening").then(() => {
        const started = next(child, "ready");
        child.send(start);
        return started;
      }),
    );
  }
  try {
    await Promise.all(ready);
  } catch (err) {
    for (const c of children) c.kill("SIGKILL");
    throw err;
  }
  return {
    pids: children.flatMap((c) => (c.pid === undefined ? [] : [c.pid])),
    async stop() {
      const reports = await Promise.all(
        children.map(async (c) => {
          const stopped = next(c, "stopped");
          const stop: AgentHostCommand = { kind: "stop" };
          c.send(stop);
          const report = await stopped;
          await new Promise((resolve) =>
            c.exitCode === null ? c.once("exit", resolve) : resolve(0),
          );
          return report.kind === "stopped" ? report.cpuMs : 0;
        }),
      );
      return reports.reduce((a, b) => a + b, 0);
    },
  };
}
