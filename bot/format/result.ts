/**
 * Plain text lines for any command result, for transports without richer formatting.
 */
import type { CommandResult } from "../contract.ts";
import { fleetLines } from "./fleet.ts";

/** `www01 role=web env=prod (seen 2026-…)` */
function nodeLine(n: {
  hostname: string;
  facts: Readonly<Record<string, string>>;
  lastSeen: string;
}): string {
  const facts = Object.entries(n.facts)
    .filter(([k]) => k !== "hostname")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return `${n.hostname} ${facts} (seen ${n.lastSeen})`;
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
