/**
 * Transport-neutral text for fleet results: a summary line such as `3/3 hosts ok in 12 ms`
 * and one `host: short` line per host.
 */
import type { FleetResult, FleetSummary, HostResult } from "../../executors/fleet/index.ts";

/**
 * True when every host in the answer completed with exit 0: a partial answer (`absent`,
 * `no ack`, `no result`, `failed`, `cancelled`, hosts never started) never is.
 */
export function fleetOk(summary: FleetSummary): boolean {
  return (
    summary.failed === 0 &&
    summary.noAck === 0 &&
    summary.noResult === 0 &&
    (summary.absent ?? 0) === 0 &&
    (summary.skipped ?? 0) === 0 &&
    (summary.cancelled ?? 0) === 0
  );
}

/** The counts of hosts that did not end ok, when not zero: `["1 failed", "2 no ack"]`. */
export function problemCounts(summary: FleetSummary): string[] {
  const counts: readonly (readonly [number, string])[] = [
    [summary.failed, "failed"],
    [summary.noAck, "no ack"],
    [summary.noResult, "no result"],
    [summary.absent ?? 0, "absent"],
    [summary.cancelled ?? 0, "cancelled"],
  ];
  return counts.filter(([n]) => n > 0).map(([n, label]) => `${n} ${label}`);
}

/** `3/3 hosts ok in 12 ms`, followed by the counts that are not zero. */
export function summaryLine(result: FleetResult): string {
  const s = result.summary;
  const total = Math.max(
    s.expected,
    s.ok + s.failed + s.noResult + s.noAck + (s.absent ?? 0) + (s.cancelled ?? 0),
  );
  const parts = [`${s.ok}/${total} hosts ok in ${Math.round(s.durationMs)} ms`];
  parts.push(...problemCounts(s));
  if ((s.skipped ?? 0) > 0)
    parts.push(
      `${s.skipped} not started${result.stoppedReason ? ` (${result.stoppedReason})` : ""}`,
    );
  if (s.unexpected > 0) parts.push(`${s.unexpected} not predicted by their last known facts`);
  if (total === 0) return "no hosts matched";
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
