/**
 * Child-process entry: hosts one slice of the simulated fleet, the way separate machines would
 * host their agents, so neither their CPU nor their memory is the controller's. Waits for its
 * {@link AgentHostData} over IPC, generates one ed25519 key per agent, starts the agents, says
 * `ready`, and on `stop` stops them, reports the CPU it used and exits. Exits as well when the
 * bench goes away (IPC disconnect).
 */
import { newKey, startSimFleet, type Mode } from "./sim.ts";

/** What the launcher passes to each agent process. */
export interface AgentHostData {
  readonly url: string;
  readonly prefix: string;
  readonly mode: Mode;
  /** Index of this process's first agent in the whole fleet. */
  readonly first: number;
  readonly count: number;
  /** The controller's public key line, trusted through allowed_signers. */
  readonly controllerLine: string;
}

/** Messages from the launcher to an agent process. */
export type AgentHostCommand =
  { readonly kind: "start"; readonly data: AgentHostData } | { readonly kind: "stop" };

/** Messages from an agent process to its launcher. */
export type AgentHostReport =
  /** Listening for its start command (one sent earlier could be lost while modules load). */
  | { readonly kind: "listening" }
  | { readonly kind: "ready" }
  | { readonly kind: "stopped"; readonly cpuMs: number }
  | { readonly kind: "failed"; readonly error: string };

const send = (report: AgentHostReport) => process.send?.(report);
const fail = (err: unknown) => {
  send({ kind: "failed", error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.disconnect?.();
};

if (!process.send) throw new Error("bench/agent-host.ts runs as a child process with IPC");
process.on("disconnect", () => process.exit(0));
process.once("message", (first: AgentHostCommand) => {
  if (first.kind !== "start") return fail(new Error(`expected start, got ${first.kind}`));
  const { data } = first;
  const keys = Array.from({ length: data.count }, () => newKey());
  startSimFleet(data.url, data.prefix, data.mode, keys, data.controllerLine, data.first).then(
    (fleet) => {
      process.once("message", () => {
        fleet.stop().then(() => {
          const cpu = process.cpuUsage();
          send({ kind: "stopped", cpuMs: (cpu.user + cpu.system) / 1000 });
          process.disconnect?.();
        }, fail);
      });
      send({ kind: "ready" });
    },
    fail,
  );
});
send({ kind: "listening" });
