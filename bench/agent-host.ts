/**
 * Worker-thread entry: hosts one slice of the simulated fleet, the way separate machines would
 * host their agents (their CPU is not the controller's). Generates one ed25519 key per agent,
 * starts the agents, says `ready`, and stops them on `stop`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { newKey, startSimFleet, type Mode } from "./sim.ts";

/** What the launcher passes to each agent thread. */
export interface AgentHostData {
  readonly url: string;
  readonly prefix: string;
  readonly mode: Mode;
  /** Index of this thread's first agent in the whole fleet. */
  readonly first: number;
  readonly count: number;
  /** The controller's public key line, trusted through allowed_signers. */
  readonly controllerLine: string;
}

/** Messages from an agent thread to its launcher. */
export type AgentHostReport =
  | { readonly kind: "ready" }
  | { readonly kind: "stopped" }
  | { readonly kind: "failed"; readonly error: string };

const port = parentPort;
if (!port) throw new Error("bench/agent-host.ts runs as a worker thread");
const data = workerData as AgentHostData;
const send = (report: AgentHostReport) => port.postMessage(report);
try {
  const keys = Array.from({ length: data.count }, () => newKey());
  const fleet = await startSimFleet(
    data.url,
    data.prefix,
    data.mode,
    keys,
    data.controllerLine,
    data.first,
  );
  port.on("message", () => {
    fleet.stop().then(
      () => {
        send({ kind: "stopped" });
        port.close();
      },
      (err: unknown) => send({ kind: "failed", error: String(err) }),
    );
  });
  send({ kind: "ready" });
} catch (err) {
  send({ kind: "failed", error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
