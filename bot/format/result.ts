/**
 * Plain text lines for any command result, for transports without richer formatting.
 */
import type { NodeInfo } from "../../executors/fleet/index.ts";
import type { CommandResult } from "../contract.ts";
import { fleetLines } from "./fleet.ts";

/**
 * `www01 role=web env=prod (seen 2026-…)`; a host whose key is not accepted also shows its
 * state and fingerprint: `www02 [pending SHA256:…] role=web (seen …)`.
 */
function nodeLine(n: NodeInfo): string {
  const facts = Object.entries(n.facts)
    .filter(([k]) => k !== "hostname")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return `${n.hostname} ${enrollmentTag(n)}${facts} (seen ${n.lastSeen})`;
}

/**
 * `[pending SHA256:… key changed] ` for a host whose key is not accepted, `[absent: no
 * heartbeat since …] ` for an accepted one without a fresh registration, else "".
 */
export function enrollmentTag(n: NodeInfo): string {
  if (n.state === "accepted")
    return n.absent === true ? `[absent: ${n.detail ?? "no heartbeat"}] ` : "";
  return `[${n.state} ${n.fingerprint}${n.keyChanged === true ? " key changed" : ""}] `;
}

/** The result as human-readable lines. */
export function resultLines(result: CommandResult): string[] {
  switch (result.kind) {
    case "fleet":
      return fleetLines(result.fleet);
    case "nodes":
      return result.nodes.length === 0 ? ["no hosts registered"] : result.nodes.map(nodeLine);
    case "text":
    case "data":
      return [...result.lines];
  }
}
