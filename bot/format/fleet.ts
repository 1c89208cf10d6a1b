/**
 * Transport-neutral text for fleet results: a summary line such as `3/3 hosts ok in 12 ms`
 * and one `host: short` line per host.
 */
import type { FleetResult, FleetSummary, HostResult } from "../../executors/fleet/types.ts";

/** True when every expected host completed with exit 0. */
export function fleetOk(summary: FleetSummary): boolean {
  return (
    summary.failed === 0 &&
    summary.noAck === 0 &&
    summary.noResult === 0 &&
    (summary.skipped ?? 0) === 0
  );
}

/** `3/3 hosts ok in 12 ms`, followed by the counts that are not zero. */
export function summaryLine(result: FleetResult): string {
  const s = result.summary;
  const total = Math.max(s.expected, s.ok + s.failed + s.noResult + s.noAck);
  const parts = [`${s.ok}/${total} hosts ok in ${Math.round(s.durationMs)} ms`];
  if (s.failed > 0) parts.push(`${s.failed} failed`);
  if (s.noAck > 0) parts.push(`${s.noAck} no ack`);
  if (s.noResult > 0) parts.push(`${s.noResult} no result`);
  if (s.unexpected > 0) parts.push(`${s.unexpected} unexpected`);
  if ((s.skipped ?? 0) > 0)
    parts.push(
      `${s.skipped} not started${result.stoppedReason ? ` (${result.stoppedReason})` : ""}`,
    );
  if (total === 0 && s.unexpected === 0) return "no hosts matched";
  return parts.join(", ");
}

/** `host: short` for one host, with its status when it is not `ok`. */
export function hostLine(host: HostResult): string {
  const status = host.status === "ok" ? "" : ` [${host.status.replace("_", " ")}]`;
  return `${host.hostname}: ${host.short}${status}`;
}

/** Every host line, sorted by hostname as the result lists them. */
export function hostLines(result: FleetResult): string[] {
  return result.hosts.map(hostLine);
}

/** Text lines for a fleet result: the host lines, then the summary line. */
export function fleetLines(result: FleetResult): string[] {
  return [...hostLines(result), summaryLine(result)];
}
